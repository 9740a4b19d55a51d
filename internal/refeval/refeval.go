// Package refeval is a reference interpreter of the .bp language: it
// evaluates a parsed file's model or fns directly from the syntax tree, in
// float64, following docs/LANGUAGE.md.
//
// It reads a *parser.File and produces values (Tensor). It shares no code
// with symbolic or codegen on purpose: differential tests compare the
// generated code against it, so it must not inherit their mistakes. It
// assumes a file the compiler has checked, but reports anything it cannot
// evaluate as an error rather than panicking.
package refeval

import (
	"fmt"

	"github.com/backpropgen/backpropgen/parser"
)

// Tensor is a value: Shape (empty = scalar) and Data, row-major.
type Tensor struct {
	Shape []int
	Data  []float64
}

// EvalModel evaluates the file's model. params and inputs map each declared
// name to its flat row-major values (a scalar is a 1-element slice); ints
// maps each integer input ("input k int", "input labels[N] int") to its
// values, likewise flat. It returns the loss and the value of each output
// by output name.
func EvalModel(f *parser.File, params, inputs map[string][]float64, ints map[string][]int) (loss float64, outputs map[string]Tensor, err error) {
	defer catch(f.Name, &err)
	in := newInterp(f)
	env := newEnv(nil)
	outputs = map[string]Tensor{}
	seenModel := false
	for _, st := range f.Stmts {
		switch st := st.(type) {
		case *parser.ModelDecl:
			seenModel = true
		case *parser.ConstDecl, *parser.FnDecl:
		case *parser.VarDecl:
			in.declare(env, st, params, inputs, ints)
		case *parser.Assign:
			in.assign(env, st)
		case *parser.For:
			in.loop(env, st)
		case *parser.OutputDecl:
			var v value
			if st.Value != nil {
				v = in.expr(env, st.Value)
				env.set(st.Name.Name, v)
			} else {
				v = in.lookup(env, st.Name)
			}
			outputs[st.Name.Name] = v.t.clone()
		default:
			fail(st.Pos(), "unexpected %T in a model", st)
		}
	}
	if !seenModel {
		return 0, nil, fmt.Errorf("%s: no model", f.Name)
	}
	l, ok := env.get("loss")
	if !ok || l.isInt || len(l.t.Shape) != 0 {
		return 0, nil, fmt.Errorf("%s: the model binds no scalar loss", f.Name)
	}
	return l.t.Data[0], outputs, nil
}

// EvalFn evaluates fn name at args (flat row-major each, in argument order).
func EvalFn(f *parser.File, name string, args [][]float64) (t Tensor, err error) {
	defer catch(f.Name, &err)
	in := newInterp(f)
	fd, ok := in.fns[name]
	if !ok {
		return Tensor{}, fmt.Errorf("%s: no fn %s", f.Name, name)
	}
	if len(args) != len(fd.Args) {
		return Tensor{}, fmt.Errorf("%s: fn %s takes %d arguments, got %d", f.Name, name, len(fd.Args), len(args))
	}
	vals := make([]value, len(args))
	for i, a := range fd.Args {
		shape := in.dims(a.Dims)
		if len(args[i]) != size(shape) {
			return Tensor{}, fmt.Errorf("%s: argument %s of %s has %d values, want %d (shape %v)", f.Name, a.Name.Name, name, len(args[i]), size(shape), shape)
		}
		vals[i] = value{t: Tensor{Shape: shape, Data: append([]float64(nil), args[i]...)}}
	}
	return in.call(fd, vals, fd.P).t, nil
}

// evalError is how evaluation reports an error from deep in a recursion;
// the entry points recover it.
type evalError struct{ err error }

func fail(pos parser.Pos, format string, a ...any) {
	panic(evalError{fmt.Errorf("%d:%d: %s", pos.Line, pos.Col, fmt.Sprintf(format, a...))})
}

// catch turns an evalError, or any other panic (a bug here, or a file the
// compiler would reject), into *err.
func catch(name string, err *error) {
	switch r := recover().(type) {
	case nil:
	case evalError:
		*err = fmt.Errorf("%s:%w", name, r.err)
	default:
		*err = fmt.Errorf("%s: refeval: internal error: %v", name, r)
	}
}

// value is what a name is bound to: a tensor, or an integer (an integer
// input or a loop variable), which can only index, or a tensor of integer
// inputs (ints, of shape intShape), whose elements can only index.
type value struct {
	t        Tensor
	isInt    bool
	n        int
	ints     []int
	intShape []int
}

// env is a scope of bindings; a loop step's scope sees its parent's.
type env struct {
	vars   map[string]value
	parent *env
}

func newEnv(parent *env) *env { return &env{vars: map[string]value{}, parent: parent} }

func (e *env) get(name string) (value, bool) {
	for ; e != nil; e = e.parent {
		if v, ok := e.vars[name]; ok {
			return v, true
		}
	}
	return value{}, false
}

func (e *env) set(name string, v value) { e.vars[name] = v }

// interp holds what a file declares independently of order: consts and fns.
type interp struct {
	file      *parser.File
	constDecl map[string]*parser.ConstDecl
	consts    map[string]int
	resolving map[string]bool
	fns       map[string]*parser.FnDecl
	calling   []string
}

func newInterp(f *parser.File) *interp {
	in := &interp{file: f, constDecl: map[string]*parser.ConstDecl{}, consts: map[string]int{},
		resolving: map[string]bool{}, fns: map[string]*parser.FnDecl{}}
	for _, st := range f.Stmts {
		switch st := st.(type) {
		case *parser.ConstDecl:
			in.constDecl[st.Name.Name] = st
		case *parser.FnDecl:
			in.fns[st.Name.Name] = st
		}
	}
	return in
}

// constValue is the value of const name, evaluated on first use so that
// consts may refer to consts declared later.
func (in *interp) constValue(name string) (int, bool) {
	if v, ok := in.consts[name]; ok {
		return v, true
	}
	d, ok := in.constDecl[name]
	if !ok {
		return 0, false
	}
	if in.resolving[name] {
		fail(d.P, "const %s is defined in terms of itself", name)
	}
	in.resolving[name] = true
	v := in.constInt(d.Value)
	delete(in.resolving, name)
	in.consts[name] = v
	return v, true
}

// constInt evaluates an integer constant expression: literals, consts and
// + - * of them.
func (in *interp) constInt(e parser.Expr) int {
	switch e := e.(type) {
	case *parser.Number:
		if !e.IsInt {
			fail(e.P, "%s is not an integer", e.Text)
		}
		return int(e.Value)
	case *parser.Ident:
		if v, ok := in.constValue(e.Name); ok {
			return v
		}
		fail(e.P, "%s is not an integer constant", e.Name)
	case *parser.Unary:
		if e.Op == "-" {
			return -in.constInt(e.X)
		}
	case *parser.Binary:
		a, b := in.constInt(e.X), in.constInt(e.Y)
		switch e.Op {
		case "+":
			return a + b
		case "-":
			return a - b
		case "*":
			return a * b
		}
	}
	fail(e.Pos(), "expected an integer constant")
	return 0
}

// dims evaluates declared dimensions.
func (in *interp) dims(ds []parser.Expr) []int {
	shape := []int{}
	for _, d := range ds {
		n := in.constInt(d)
		if n <= 0 {
			fail(d.Pos(), "dimension %d is not positive", n)
		}
		shape = append(shape, n)
	}
	return shape
}

// declare binds a param or input to its given value.
func (in *interp) declare(e *env, d *parser.VarDecl, params, inputs map[string][]float64, ints map[string][]int) {
	name := d.Name.Name
	if d.Int {
		ks, ok := ints[name]
		shape := in.dims(d.Dims)
		if !ok || len(ks) != size(shape) {
			fail(d.P, "no value for integer input %s%v", name, shape)
		}
		if len(shape) == 0 {
			e.set(name, value{isInt: true, n: ks[0]})
			return
		}
		e.set(name, value{isInt: true, ints: append([]int(nil), ks...), intShape: shape})
		return
	}
	vals := inputs
	if d.Kind == "param" {
		vals = params
	}
	data, ok := vals[name]
	if !ok {
		fail(d.P, "no value for %s %s", d.Kind, name)
	}
	shape := in.dims(d.Dims)
	if len(data) != size(shape) {
		fail(d.P, "%s %s has %d values, want %d (shape %v)", d.Kind, name, len(data), size(shape), shape)
	}
	e.set(name, value{t: Tensor{Shape: shape, Data: append([]float64(nil), data...)}})
}

func (in *interp) assign(e *env, st *parser.Assign) {
	v := in.expr(e, st.Value)
	if st.Op == "+=" {
		old := in.lookup(e, st.Name)
		v = value{t: in.elementwise(st.P, "+", old.t, v.t, func(a, b float64) float64 { return a + b })}
	}
	e.set(st.Name.Name, v)
}

// loop runs "for VAR in FROM..TO { BODY }". A name the body assigns that is
// bound before the loop is carried from step to step and keeps its last
// value after the loop; any other name the body binds lives for one step.
func (in *interp) loop(e *env, st *parser.For) {
	from, to := in.constInt(st.From), in.constInt(st.To)
	var carried []string
	for _, name := range assigned(st.Body) {
		if _, ok := e.get(name); ok {
			carried = append(carried, name)
		}
	}
	state := map[string]value{}
	for _, name := range carried {
		state[name], _ = e.get(name)
	}
	for t := from; t < to; t++ {
		step := newEnv(e)
		for name, v := range state {
			step.set(name, v)
		}
		step.set(st.Var.Name, value{isInt: true, n: t})
		for _, bst := range st.Body {
			switch bst := bst.(type) {
			case *parser.Assign:
				in.assign(step, bst)
			case *parser.For:
				in.loop(step, bst)
			default:
				fail(bst.Pos(), "unexpected %T in a loop body", bst)
			}
		}
		for _, name := range carried {
			v, _ := step.get(name)
			if !sameShape(v.t.Shape, state[name].t.Shape) {
				fail(st.P, "%s changes shape in the loop", name)
			}
			state[name] = v
		}
	}
	for _, name := range carried {
		e.set(name, state[name])
	}
}

// assigned lists the names statements assign, nested loops included.
func assigned(stmts []parser.Stmt) []string {
	var out []string
	seen := map[string]bool{}
	for _, st := range stmts {
		parser.Inspect(st, func(n parser.Node) bool {
			if a, ok := n.(*parser.Assign); ok && !seen[a.Name.Name] {
				seen[a.Name.Name] = true
				out = append(out, a.Name.Name)
			}
			return true
		})
	}
	return out
}

// call evaluates fn fd at args, in a scope of its own that sees only its
// arguments (and the file's consts and fns).
func (in *interp) call(fd *parser.FnDecl, args []value, pos parser.Pos) value {
	name := fd.Name.Name
	for _, c := range in.calling {
		if c == name {
			fail(pos, "fn %s is recursive", name)
		}
	}
	in.calling = append(in.calling, name)
	defer func() { in.calling = in.calling[:len(in.calling)-1] }()
	e := newEnv(nil)
	for i, a := range fd.Args {
		shape := in.dims(a.Dims)
		if args[i].isInt || !sameShape(shape, args[i].t.Shape) {
			fail(pos, "argument %s of %s must have shape %v, got %v", a.Name.Name, name, shape, args[i].t.Shape)
		}
		e.set(a.Name.Name, args[i])
	}
	for _, st := range fd.Body {
		switch st := st.(type) {
		case *parser.Assign:
			in.assign(e, st)
		case *parser.Return:
			return in.expr(e, st.Value)
		default:
			fail(st.Pos(), "unexpected %T in fn %s", st, name)
		}
	}
	fail(fd.P, "fn %s has no return", name)
	return value{}
}
