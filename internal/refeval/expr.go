package refeval

import (
	"math"

	"github.com/backpropgen/backpropgen/parser"
)

func (in *interp) expr(e *env, x parser.Expr) value {
	switch x := x.(type) {
	case *parser.Number:
		return value{t: scalar(x.Value)}
	case *parser.Ident:
		v := in.lookup(e, x)
		if v.isInt {
			fail(x.P, "%s is an integer: it can only index", x.Name)
		}
		return v
	case *parser.Unary:
		if x.Op != "-" {
			fail(x.P, "unknown unary operator %q", x.Op)
		}
		a := in.tensor(e, x.X)
		return value{t: mapT(a, func(v float64) float64 { return -v })}
	case *parser.Binary:
		a, b := in.tensor(e, x.X), in.tensor(e, x.Y)
		if x.Op == "@" {
			return value{t: matmul(x.P, a, b)}
		}
		f, ok := binaryOps[x.Op]
		if !ok {
			fail(x.P, "unknown operator %q", x.Op)
		}
		return value{t: in.elementwise(x.P, x.Op, a, b, f)}
	case *parser.Call:
		return value{t: in.callExpr(e, x)}
	case *parser.Index:
		a := in.tensor(e, x.X)
		return value{t: in.index(e, x.P, a, x.Indexes)}
	}
	fail(x.Pos(), "unexpected expression %T", x)
	return value{}
}

func (in *interp) tensor(e *env, x parser.Expr) Tensor { return in.expr(e, x).t }

// lookup finds a name: a binding, else a const.
func (in *interp) lookup(e *env, id *parser.Ident) value {
	if v, ok := e.get(id.Name); ok {
		return v
	}
	if v, ok := in.constValue(id.Name); ok {
		return value{t: scalar(float64(v))}
	}
	fail(id.P, "undefined: %s", id.Name)
	return value{}
}

var binaryOps = map[string]func(a, b float64) float64{
	"+": func(a, b float64) float64 { return a + b },
	"-": func(a, b float64) float64 { return a - b },
	"*": func(a, b float64) float64 { return a * b },
	"/": func(a, b float64) float64 { return a / b },
	"^": math.Pow,
}

// indexValue is the integer an index expression denotes: an integer input
// or loop variable, or an integer constant expression.
func (in *interp) indexValue(e *env, x parser.Expr) int {
	if id, ok := x.(*parser.Ident); ok {
		if v, ok := e.get(id.Name); ok && v.isInt {
			if v.intShape != nil {
				fail(id.P, "%s is a tensor of integers: index with one element", id.Name)
			}
			return v.n
		}
	}
	if ix, ok := x.(*parser.Index); ok {
		if id, ok := ix.X.(*parser.Ident); ok {
			if v, ok := e.get(id.Name); ok && v.isInt && v.intShape != nil {
				return in.intElement(e, ix, v)
			}
		}
	}
	// A loop variable plus or minus constants (t-1, t+2*K): integer
	// arithmetic on the values.
	switch x := x.(type) {
	case *parser.Unary:
		return -in.indexValue(e, x.X)
	case *parser.Binary:
		switch x.Op {
		case "+":
			return in.indexValue(e, x.X) + in.indexValue(e, x.Y)
		case "-":
			return in.indexValue(e, x.X) - in.indexValue(e, x.Y)
		case "*":
			return in.indexValue(e, x.X) * in.indexValue(e, x.Y)
		}
	}
	return in.constInt(x)
}

// gatherOf returns the integer tensor idx names if idx is one, else nil.
func gatherOf(e *env, idx []parser.Expr) *value {
	if len(idx) != 1 {
		return nil
	}
	id, ok := idx[0].(*parser.Ident)
	if !ok {
		return nil
	}
	v, ok := e.get(id.Name)
	if !ok || !v.isInt || v.intShape == nil {
		return nil
	}
	return &v
}

// gather is a's rows picked by the integers of v, in their order:
// [v's shape..., a's other axes...].
func gather(pos parser.Pos, a Tensor, v *value) Tensor {
	rest := a.Shape[1:]
	n := size(rest)
	out := Tensor{Shape: append(append([]int{}, v.intShape...), rest...)}
	for _, i := range v.ints {
		if i < 0 || i >= a.Shape[0] {
			fail(pos, "row %d is outside dimension 1 of shape %v", i, a.Shape)
		}
		out.Data = append(out.Data, a.Data[i*n:(i+1)*n]...)
	}
	return out
}

// intElement is element ix of v, a tensor of integer inputs.
func (in *interp) intElement(e *env, ix *parser.Index, v value) int {
	if len(ix.Indexes) != len(v.intShape) {
		fail(ix.P, "%d indices for integers of shape %v", len(ix.Indexes), v.intShape)
	}
	off := 0
	for k, ie := range ix.Indexes {
		i := in.indexValue(e, ie)
		if i < 0 || i >= v.intShape[k] {
			fail(ie.Pos(), "index %d is outside dimension %d of shape %v", i, k+1, v.intShape)
		}
		off = off*v.intShape[k] + i
	}
	return v.ints[off]
}

// index selects a[idx...]; fewer indices than a's rank select a sub-tensor.
func (in *interp) index(e *env, pos parser.Pos, a Tensor, idx []parser.Expr) Tensor {
	if len(idx) > len(a.Shape) {
		fail(pos, "%d indices for a value of shape %v", len(idx), a.Shape)
	}
	if v := gatherOf(e, idx); v != nil {
		return gather(pos, a, v)
	}
	for _, ie := range idx {
		if _, ok := ie.(*parser.Slice); ok {
			return in.slice(e, a, idx)
		}
	}
	off := 0
	for k, ie := range idx {
		i := in.indexValue(e, ie)
		if i < 0 || i >= a.Shape[k] {
			fail(ie.Pos(), "index %d is outside dimension %d of shape %v", i, k+1, a.Shape)
		}
		off = off*a.Shape[k] + i
	}
	rest := append([]int{}, a.Shape[len(idx):]...)
	n := size(rest)
	return Tensor{Shape: rest, Data: append([]float64(nil), a.Data[off*n:(off+1)*n]...)}
}

// callExpr evaluates a call of a built-in or of a fn.
func (in *interp) callExpr(e *env, c *parser.Call) Tensor {
	name := c.Fun.Name
	switch name {
	case "zeros", "ones":
		fill := 0.0
		if name == "ones" {
			fill = 1
		}
		shape := in.dims(c.Args)
		return full(shape, fill)
	case "cross_entropy":
		if len(c.Args) != 2 {
			fail(c.P, "cross_entropy takes 2 arguments")
		}
		logits := in.tensor(e, c.Args[0])
		if len(logits.Shape) == 2 {
			return in.crossEntropyRows(e, c, logits)
		}
		if len(logits.Shape) != 1 {
			fail(c.P, "cross_entropy needs a vector, got %v", logits.Shape)
		}
		picked := in.index(e, c.Args[1].Pos(), logits, c.Args[1:])
		return scalar(logSumExp(logits.Data) - picked.Data[0])
	}
	if f, ok := axisBuiltins[name]; ok {
		return in.axisCall(e, c, f)
	}
	if f, ok := layerBuiltins[name]; ok {
		return f(in, e, c)
	}
	if b, ok := builtins[name]; ok {
		if len(c.Args) != b.nargs {
			fail(c.P, "%s takes %d arguments, got %d", name, b.nargs, len(c.Args))
		}
		args := make([]Tensor, len(c.Args))
		for i, a := range c.Args {
			args[i] = in.tensor(e, a)
		}
		return b.eval(in, c.P, args)
	}
	fd, ok := in.fns[name]
	if !ok {
		fail(c.P, "undefined function %s", name)
	}
	if len(c.Args) != len(fd.Args) {
		fail(c.P, "%s takes %d arguments, got %d", name, len(fd.Args), len(c.Args))
	}
	args := make([]value, len(c.Args))
	for i, a := range c.Args {
		args[i] = in.expr(e, a)
	}
	return in.call(fd, args, c.P).t
}

// slice selects a[idx...] where some indices are slices lo:hi, which keep
// the positions lo to hi-1 of their axis; the other indices drop theirs.
func (in *interp) slice(e *env, a Tensor, idx []parser.Expr) Tensor {
	type axis struct {
		lo, n int
		keep  bool
	}
	axes := make([]axis, len(a.Shape))
	var shape []int
	for k := range a.Shape {
		if k >= len(idx) {
			axes[k] = axis{0, a.Shape[k], true}
			shape = append(shape, a.Shape[k])
			continue
		}
		sl, ok := idx[k].(*parser.Slice)
		if !ok {
			i := in.indexValue(e, idx[k])
			if i < 0 || i >= a.Shape[k] {
				fail(idx[k].Pos(), "index %d is outside dimension %d of shape %v", i, k+1, a.Shape)
			}
			axes[k] = axis{i, 1, false}
			continue
		}
		lo, hi := 0, a.Shape[k]
		if sl.Lo != nil {
			lo = in.indexValue(e, sl.Lo)
		}
		if sl.Hi != nil {
			hi = in.indexValue(e, sl.Hi)
		}
		if lo < 0 || hi > a.Shape[k] || lo >= hi {
			fail(sl.P, "slice %d:%d of dimension %d of shape %v", lo, hi, k+1, a.Shape)
		}
		axes[k] = axis{lo, hi - lo, true}
		shape = append(shape, hi-lo)
	}
	out := Tensor{Shape: shape, Data: make([]float64, 0, size(shape))}
	pos := make([]int, len(axes)) // counters within each axis's selection
	for {
		off := 0
		for k, ax := range axes {
			off = off*a.Shape[k] + ax.lo + pos[k]
		}
		out.Data = append(out.Data, a.Data[off])
		k := len(axes) - 1
		for ; k >= 0; k-- {
			if pos[k]++; pos[k] < axes[k].n {
				break
			}
			pos[k] = 0
		}
		if k < 0 {
			return out
		}
	}
}
