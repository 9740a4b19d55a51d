package codegen

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// Go operator precedences, to parenthesize only where needed (jennifer's Op
// adds no parentheses of its own).
const (
	precAdd     = 4
	precMul     = 5
	precUnary   = 6
	precPrimary = 7
)

// gexpr is a Go expression and the precedence of its outermost operator.
type gexpr struct {
	c    *jen.Statement
	prec int
}

// dest is where an emitted value goes: a Go variable or field, indexed by
// the loop variables, assigned with op ("=", "+=", or ":=" for a new local).
type dest struct {
	base string
	op   string
}

// fnGen emits the body of one Go function from a graph.
type fnGen struct {
	fg       *fileGen
	slots    map[*symbolic.Node]string // nodes whose value is in a Go variable
	locals   *namer
	block    *[]jen.Code // where statements go now
	lastLine int
	lastBack bool
	split    int    // nodes with this ID or more are derivative code (0: none)
	nextAcc  string // the name the next reduction's accumulator takes
}

func newFnGen(fg *fileGen, locals *namer) *fnGen {
	return &fnGen{fg: fg, slots: map[*symbolic.Node]string{}, locals: locals}
}

func (f *fnGen) add(c ...jen.Code) { *f.block = append(*f.block, c...) }

// comment ties the statements that follow to the .bp line n was made for.
func (f *fnGen) comment(n *symbolic.Node) {
	back := f.split > 0 && n.ID >= f.split
	if n.Line == 0 || (n.Line == f.lastLine && back == f.lastBack) {
		return
	}
	f.lastLine, f.lastBack = n.Line, back
	src := strings.TrimSpace(f.fg.source(n.Line))
	where := fmt.Sprintf("%s:%d", f.fg.prog.File, n.Line)
	if back {
		f.add(jen.Comment(fmt.Sprintf("backward of %s: %s", where, src)))
	} else {
		f.add(jen.Comment(fmt.Sprintf("%s: %s", where, src)))
	}
}

// elem is the Go expression for element idx of n (idx is nil for a scalar).
func (f *fnGen) elem(n *symbolic.Node, idx []string) gexpr {
	if base, ok := f.slots[n]; ok {
		return access(base, idx)
	}
	return f.compute(n, idx)
}

func access(base string, idx []string) gexpr {
	s := jen.Id(base)
	for _, i := range idx {
		s = s.Index(jen.Id(i))
	}
	return gexpr{s, precPrimary}
}

func lit(v float64) gexpr {
	switch {
	case math.IsNaN(v):
		return gexpr{jen.Qual("math", "NaN").Call(), precPrimary}
	case math.IsInf(v, 1):
		return gexpr{jen.Qual("math", "Inf").Call(jen.Lit(1)), precPrimary}
	case math.IsInf(v, -1):
		return gexpr{jen.Qual("math", "Inf").Call(jen.Lit(-1)), precPrimary}
	}
	// Integral values print as integers (2, not 2.0): every literal is an
	// operand of a float64 expression, never a whole constant expression, as
	// constant folding has removed those, so Go types it float64.
	text := strconv.FormatFloat(v, 'g', -1, 64)
	p := precPrimary
	if v < 0 || math.Signbit(v) {
		p = precUnary
	}
	return gexpr{jen.Op(text), p}
}

// wrap parenthesizes e if its operator binds looser than min.
func wrap(e gexpr, min int) *jen.Statement {
	if e.prec < min {
		return jen.Parens(e.c)
	}
	return e.c
}

// infix builds a op b. The right operand is parenthesized at equal
// precedence too: the IR's association is kept exactly, since floating-point
// + and * are not associative.
func infix(a gexpr, op string, b gexpr) gexpr {
	p := precAdd
	if op == "*" || op == "/" {
		p = precMul
	}
	return gexpr{wrap(a, p).Clone().Op(op).Add(wrap(b, p+1)), p}
}

func argIdx(a *symbolic.Node, idx []string) []string {
	if len(a.Shape) == 0 {
		return nil
	}
	return idx
}

// compute builds element idx of n from its arguments.
func (f *fnGen) compute(n *symbolic.Node, idx []string) gexpr {
	switch n.Op.Kind {
	case symbolic.Leaf:
		return lit(n.Val)
	case symbolic.Elementwise:
		return f.elementwise(n, idx)
	case symbolic.View:
		a := n.Args[0]
		switch n.Op.Name {
		case "index":
			pre := make([]string, len(n.Ints))
			for i, v := range n.Ints {
				pre[i] = strconv.Itoa(v)
			}
			return f.elem(a, append(pre, idx...))
		case "transpose":
			return f.elem(a, []string{idx[1], idx[0]})
		case "broadcast":
			return f.elem(a, nil)
		}
		return f.elem(a, idx) // stop_gradient
	case symbolic.Reduce:
		if n.Op.Name == "logsumexp" {
			return f.logsumexp(n.Args[0])
		}
		return f.reduce(n.Args[0].Shape, func(k []string) gexpr { return f.elem(n.Args[0], k) })
	case symbolic.MatMul:
		return f.matmul(n, idx)
	case symbolic.Outer:
		return infix(f.elem(n.Args[0], idx[:1]), "*", f.elem(n.Args[1], idx[1:]))
	case symbolic.Scatter:
		// Only scatters into all-1 shapes are computed inline (plan.go), and
		// there the one element is always the one written.
		return f.elem(n.Args[0], idx[len(n.Ints):])
	}
	panic("codegen: no rule for op " + n.Op.Name)
}

func (f *fnGen) elementwise(n *symbolic.Node, idx []string) gexpr {
	args := make([]gexpr, len(n.Args))
	for i, a := range n.Args {
		args[i] = f.elem(a, argIdx(a, idx))
	}
	form := n.Op.Go
	switch {
	case n.Op.Name == "addn":
		e := args[0]
		for _, a := range args[1:] {
			e = infix(e, "+", a)
		}
		return e
	case form.Infix != "":
		return infix(args[0], form.Infix, args[1])
	case form.Prefix != "":
		return gexpr{jen.Op(form.Prefix).Add(wrap(args[0], precUnary+1)), precUnary}
	case n.Op.Name == "pow" && n.Args[1].IsConst(2):
		if args[0].prec == precPrimary {
			return infix(args[0], "*", gexpr{args[0].c.Clone(), precPrimary})
		}
		return f.helperCall("sq", args[:1])
	case form.Helper != "":
		return f.helperCall(form.Helper, args)
	}
	var call *jen.Statement
	if pkg, name, ok := strings.Cut(form.Func, "."); ok {
		call = jen.Qual(pkg, name)
	} else {
		call = jen.Id(form.Func) // a Go builtin: min, max
	}
	codes := make([]jen.Code, len(args))
	for i, a := range args {
		codes[i] = a.c
	}
	return gexpr{call.Call(codes...), precPrimary}
}

func (f *fnGen) helperCall(h string, args []gexpr) gexpr {
	codes := make([]jen.Code, len(args))
	for i, a := range args {
		codes[i] = a.c
	}
	return gexpr{jen.Id(f.fg.helperName(h)).Call(codes...), precPrimary}
}

// tiny is the largest dimension written out instead of looped over: a loop
// of two costs more in its control than in its body.
const tiny = 2

// loopVars names the index variables of a loop nest over shape: a tiny
// dimension gets no variable (nest writes it out).
func loopVars(shape symbolic.Shape, names func(d int) string) []string {
	idx := make([]string, len(shape))
	for d, size := range shape {
		if size > tiny {
			idx[d] = names(d)
		}
	}
	return idx
}

// unrolled calls body once for every value of the tiny dimensions of shape,
// with idx completed by those values as constants, and returns what it
// emitted, in order.
func unrolled(shape symbolic.Shape, idx []string, body func(idx []string) []jen.Code) []jen.Code {
	for d, size := range shape {
		if idx[d] != "" {
			continue
		}
		var out []jen.Code
		for v := range size {
			fixed := append([]string(nil), idx...)
			fixed[d] = strconv.Itoa(v)
			out = append(out, unrolled(shape, fixed, body)...)
		}
		return out
	}
	return body(idx)
}

// nest wraps body in for loops over the dimensions of shape that have
// index variables.
func nest(shape symbolic.Shape, idx []string, body []jen.Code) []jen.Code {
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] <= tiny {
			continue
		}
		body = []jen.Code{jen.For(jen.Id(idx[d]).Op(":=").Range().Lit(shape[d])).Block(body...)}
	}
	return body
}

var outerLoopNames = []string{"i", "j", "l"}

// loop emits, for every element idx of shape, the statement stmt(idx)
// returns, after whatever an element's computation needs before it.
func (f *fnGen) loop(shape symbolic.Shape, stmt func(idx []string) jen.Code) {
	idx := loopVars(shape, func(d int) string { return outerLoopNames[d] })
	saved := f.block
	body := unrolled(shape, idx, func(idx []string) []jen.Code {
		var b []jen.Code
		f.block = &b
		s := stmt(idx)
		return append(b, s)
	})
	f.block = saved
	f.add(nest(shape, idx, body)...)
}

// reduce emits a sum over shape of term(k) and returns the accumulator, or
// for a tiny shape the sum itself.
func (f *fnGen) reduce(shape symbolic.Shape, term func(k []string) gexpr) gexpr {
	if shape.Size() <= tiny {
		var sum *gexpr
		unrolled(shape, make([]string, len(shape)), func(k []string) []jen.Code {
			t := term(k)
			if sum == nil {
				sum = &t
			} else {
				s := infix(*sum, "+", t)
				sum = &s
			}
			return nil
		})
		if f.nextAcc != "" { // the caller wants the sum in a variable
			acc := f.nextAcc
			f.nextAcc = ""
			f.add(jen.Id(acc).Op(":=").Add(sum.c))
			return gexpr{jen.Id(acc), precPrimary}
		}
		return *sum
	}
	acc := f.nextAcc
	if acc == "" {
		acc = f.locals.fresh("s")
	}
	f.nextAcc = ""
	k := loopVars(shape, func(d int) string { return f.locals.fresh("k") })
	var body []jen.Code
	saved := f.block
	body = unrolled(shape, k, func(k []string) []jen.Code {
		var b []jen.Code
		f.block = &b
		t := term(k)
		return append(b, jen.Id(acc).Op("+=").Add(t.c))
	})
	f.block = saved
	f.add(jen.Var().Id(acc).Float64())
	f.add(nest(shape, k, body)...)
	return gexpr{jen.Id(acc), precPrimary}
}

func (f *fnGen) matmul(n *symbolic.Node, idx []string) gexpr {
	a, b := n.Args[0], n.Args[1]
	kdim := symbolic.Shape{b.Shape[0]}
	return f.reduce(kdim, func(k []string) gexpr {
		var ai, bi []string
		switch {
		case len(a.Shape) == 2 && len(b.Shape) == 1:
			ai, bi = []string{idx[0], k[0]}, k
		case len(a.Shape) == 1:
			ai, bi = k, []string{k[0], idx[0]}
		default:
			ai, bi = []string{idx[0], k[0]}, []string{k[0], idx[1]}
		}
		return infix(f.elem(a, ai), "*", f.elem(b, bi))
	})
}

// logsumexp emits max(x) + log(Σ exp(x - max(x))), which neither overflows
// nor underflows to log(0) for finite x.
func (f *fnGen) logsumexp(x *symbolic.Node) gexpr {
	m := f.locals.fresh("m")
	k := loopVars(x.Shape, func(int) string { return f.locals.fresh("k") })
	f.add(jen.Id(m).Op(":=").Qual("math", "Inf").Call(jen.Lit(-1)))
	f.add(nest(x.Shape, k, unrolled(x.Shape, k, func(k []string) []jen.Code {
		return []jen.Code{jen.Id(m).Op("=").Max(jen.Id(m), f.elem(x, k).c)}
	}))...)
	s := f.reduce(x.Shape, func(k []string) gexpr {
		return gexpr{jen.Qual("math", "Exp").Call(infix(f.elem(x, k), "-", gexpr{jen.Id(m), precPrimary}).c), precPrimary}
	})
	return infix(gexpr{jen.Id(m), precPrimary}, "+", gexpr{jen.Qual("math", "Log").Call(s.c), precPrimary})
}

// arrayType is the Go type of a tensor of shape s.
func arrayType(s symbolic.Shape) *jen.Statement {
	t := jen.Null()
	for _, d := range s {
		t = t.Index(jen.Lit(d))
	}
	return t.Float64()
}

func allOnes(s symbolic.Shape) bool { return s.Size() == 1 }

// emit writes node n into d.
func (f *fnGen) emit(n *symbolic.Node, d dest) {
	f.comment(n)
	if _, ok := f.slots[n]; !ok {
		switch {
		case n.Op.Kind == symbolic.Scatter && !allOnes(n.Shape):
			f.emitSum(n.Shape, d, nil, []*symbolic.Node{n})
			return
		case n.Op.Name == "addn":
			var dense, sparse []*symbolic.Node
			for _, t := range n.Args {
				if t.Op.Kind == symbolic.Scatter && !allOnes(t.Shape) {
					if _, ok := f.slots[t]; !ok {
						sparse = append(sparse, t)
						continue
					}
				}
				dense = append(dense, t)
			}
			if len(sparse) > 0 {
				f.emitSum(n.Shape, d, dense, sparse)
				return
			}
		}
	}
	if _, ok := f.slots[n]; !ok && d.op == ":=" && n.Op.Name == "sum" {
		f.nextAcc = d.base // the accumulator is the variable: no copy
		f.compute(n, nil)
		return
	}
	if d.op == ":=" && len(n.Shape) > 0 {
		f.add(jen.Var().Id(d.base).Add(arrayType(n.Shape)))
		d.op = "="
	}
	f.loop(n.Shape, func(idx []string) jen.Code {
		return access(d.base, idx).c.Op(d.op).Add(f.elem(n, idx).c)
	})
}

// emitSum writes the sum of dense terms (computed elementwise) and scatter
// terms (each touching only its own row or element) into d.
func (f *fnGen) emitSum(shape symbolic.Shape, d dest, dense, sparse []*symbolic.Node) {
	op := d.op
	switch {
	case len(dense) > 0:
		if op == ":=" {
			f.add(jen.Var().Id(d.base).Add(arrayType(shape)))
			op = "="
		}
		f.loop(shape, func(idx []string) jen.Code {
			e := f.elem(dense[0], argIdx(dense[0], idx))
			for _, t := range dense[1:] {
				e = infix(e, "+", f.elem(t, argIdx(t, idx)))
			}
			return access(d.base, idx).c.Op(op).Add(e.c)
		})
	case op == ":=":
		f.add(jen.Var().Id(d.base).Add(arrayType(shape)))
	case op == "=":
		f.add(jen.Id(d.base).Op("=").Add(arrayType(shape)).Values())
	}
	for _, s := range sparse {
		pre := make([]string, len(s.Ints))
		for i, v := range s.Ints {
			pre[i] = strconv.Itoa(v)
		}
		x := s.Args[0]
		f.loop(x.Shape, func(idx []string) jen.Code {
			return access(d.base, append(pre, idx...)).c.Op("+=").Add(f.elem(x, idx).c)
		})
	}
}
