package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// avail reports whether n needs no code: it is in a variable, or a constant.
func (f *fnGen) avail(n *symbolic.Node) bool {
	if _, ok := f.slots[n]; ok || n.Op.Kind == symbolic.Leaf {
		return true
	}
	_, inv := f.invariant[n]
	return inv
}

// whole is n as one Go value: the variable holding a tensor, or a scalar.
func (f *fnGen) whole(n *symbolic.Node) gexpr { return f.elem(n, nil) }

// emitPlan emits p's materialized nodes in order, each into the variable
// named by slot(n), and records where each went. A loop's final value is
// already in a variable, its state's, and is copied only where keep says
// it must be (into the workspace).
func (f *fnGen) emitPlan(p *plan, slot func(n *symbolic.Node) dest, keep ...func(n *symbolic.Node) bool) {
	k := func(*symbolic.Node) bool { return false }
	if len(keep) > 0 {
		k = keep[0]
	}
	f.emitPlanThen(p, slot, k, nil)
}

// emitPlanThen is emitPlan, calling then (if not nil) after each node or
// pass of products it emits.
func (f *fnGen) emitPlanThen(p *plan, slot func(n *symbolic.Node) dest, keep func(n *symbolic.Node) bool, then func()) {
	done := map[*symbolic.Node]bool{} // computed ahead of their turn, in a pass of products
	for at, n := range p.mat {
		if done[n] {
			continue
		}
		switch ms := f.matvecGroup(p, at, done); {
		case ms != nil:
			f.emitMatvecGroup(ms, slot)
			for _, m := range ms {
				done[m.n] = true
				if m.epi != nil {
					done[m.epi] = true
				}
			}
		case n.Op.Kind == symbolic.LoopK:
			f.emitLoop(n, p)
		case f.slots[n].path != nil && n.Op.Kind == symbolic.Proj && !keep(n):
		case f.invariant[n] != nil && !keep(n): // a loop's final value that is the constant it started as
		default:
			d := slot(n)
			f.emit(n, d)
			f.slots[n] = d.p
		}
		if then != nil {
			then()
		}
	}
}

// goType is the Go type of a value of shape s.
func goType(s symbolic.Shape) *jen.Statement {
	if len(s) == 0 {
		return jen.Float64()
	}
	return arrayType(s)
}

// typedList renders names with their types, sharing a type between
// neighbours as gofmt'd code does: (x, y, z float64).
func typedList(names []string, shapes []symbolic.Shape) []jen.Code {
	var out []jen.Code
	for i, n := range names {
		if i+1 < len(names) && shapes[i].Equal(shapes[i+1]) {
			out = append(out, jen.Id(n))
		} else {
			out = append(out, jen.Id(n).Add(goType(shapes[i])))
		}
	}
	return out
}

// fnArgs names fn's arguments in f and returns the parameter list.
func (fg *fileGen) fnArgs(fn *symbolic.Func, f *fnGen) []jen.Code {
	names := make([]string, len(fn.Args))
	shapes := make([]symbolic.Shape, len(fn.Args))
	for i, a := range fn.Args {
		names[i] = f.locals.fresh(a.Name)
		shapes[i] = a.Shape
		f.slots[fn.ArgNodes[i]] = localPlace(names[i])
	}
	return typedList(names, shapes)
}

func (fg *fileGen) localSlot(f *fnGen) func(n *symbolic.Node) dest {
	return func(n *symbolic.Node) dest { return f.newLocal(hintName(n), n.Shape) }
}

func argNames(fn *symbolic.Func) string {
	s := ""
	for i, a := range fn.Args {
		if i > 0 {
			s += ", "
		}
		s += a.Name
	}
	return s
}

// fnValue emits NAME(args) for fn.
func (fg *fileGen) fnValue(fn *symbolic.Func) {
	f := newFnGen(fg, fg.newFnLocals())
	params := fg.fnArgs(fn, f)
	var body []jen.Code
	f.begin(&body)
	var force []*symbolic.Node
	if !fn.Result.IsScalar() {
		force = append(force, fn.Result)
	}
	p := f.makePlan([]*symbolic.Node{fn.Result}, force)
	f.emitPlan(p, fg.localSlot(f))
	f.add(jen.Return(f.whole(fn.Result).c))
	f.end()

	name := fg.fnNames[fn]
	fg.addFunc(jen.Comment(fmt.Sprintf("%s computes %s(%s) of %s:%d.", name, fn.Name, argNames(fn), fg.prog.File, fn.Line)).Line().
		Func().Id(name).Params(params...).Add(goType(fn.Result.Shape)).Block(body...))
}

// fnGrad emits NAMEGrad(args), returning the value and every partial
// derivative, all from one pass forward and one backward.
func (fg *fileGen) fnGrad(fn *symbolic.Func) {
	f := newFnGen(fg, fg.newFnLocals())
	params := fg.fnArgs(fn, f)
	grad := fg.grads.Fns[fn]
	f.split = grad.Split

	valName := f.locals.fresh(unexported(fn.Name))
	resNames := []string{valName}
	resShapes := []symbolic.Shape{nil}
	roots := []*symbolic.Node{fn.Result}
	for i, a := range fn.Args {
		resNames = append(resNames, f.locals.fresh("d"+a.Name))
		resShapes = append(resShapes, a.Shape)
		roots = append(roots, grad.Adjoints[i])
	}

	var body []jen.Code
	f.begin(&body)
	var live []*symbolic.Node
	for _, r := range roots {
		if r != nil {
			live = append(live, r)
		}
	}
	p := f.makePlan(live, nil)
	f.emitPlan(p, fg.localSlot(f))
	for i, r := range roots {
		if r == nil {
			f.add(jen.Comment(fmt.Sprintf("%s is 0: %s does not depend on %s.", resNames[i], fn.Name, fn.Args[i-1].Name)))
			continue
		}
		f.emit(r, dest{localPlace(resNames[i]), "="})
	}
	f.add(jen.Return())
	f.end()

	name := fg.fnNames[fn] + "Grad"
	fg.addFunc(jen.Comment(fmt.Sprintf("%s returns %s(%s) of %s:%d and its partial derivatives", name, fn.Name, argNames(fn), fg.prog.File, fn.Line)).Line().
		Comment(fmt.Sprintf("with respect to %s.", argNames(fn))).Line().
		Func().Id(name).Params(params...).Params(typedList(resNames, resShapes)...).Block(body...))
}
