package codegen

import (
	"errors"
	"fmt"
	"runtime"
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// modelGen emits a model: its types and its methods.
type modelGen struct {
	fg      *fileGen
	m       *symbolic.Model
	grad    *symbolic.Grad
	name    string // exported model name, the prefix of its types
	fields  map[*symbolic.Var]string
	ws      *namer // workspace field names
	wsDecl  []jen.Code
	saved   map[*symbolic.Node]place // forward values kept for Backward
	saves   *saves
	big     map[*symbolic.Node]place // workspace fields of values too big for locals
	outputs []string                 // field names of outputs, parallel to m.Outputs
}

func (fg *fileGen) model(m *symbolic.Model) {
	mg := &modelGen{fg: fg, m: m, name: exported(m.Name), fields: map[*symbolic.Var]string{},
		ws: newFieldNamer(), saved: map[*symbolic.Node]place{}, big: map[*symbolic.Node]place{}}
	mg.grad = fg.grads.Model
	mg.saves = mg.computeSaves()
	mg.varFields()
	forward, backward, lossGrad := mg.functions()
	mg.types()
	for _, fn := range []jen.Code{forward, backward, lossGrad} {
		fg.addFunc(fn)
	}
	mg.helpers()
}

// maxLocal is the largest temporary (in float64s) kept in a local array
// rather than the workspace. Locals live on the stack, cost no allocation,
// and the compiler knows that stores through g cannot change them, so it
// keeps them in registers; bigger ones would make stack frames grow.
const maxLocal = 1024

func (mg *modelGen) typ(kind string) string { return mg.name + kind }

// varFields names the fields of params and inputs: the model's names with an
// upper-case first letter, so callers in other packages can set them.
// Names that collide (b and B) get a trailing underscore.
func (mg *modelGen) varFields() {
	for i, group := range [][]*symbolic.Var{mg.m.Params, mg.m.Inputs} {
		taken := takenFields([]string{"Params", "Inputs"}[i])
		for _, v := range group {
			name := exported(v.Name)
			for taken[name] {
				name += "_"
			}
			taken[name] = true
			mg.fields[v] = name
		}
	}
}

func (mg *modelGen) source(v *symbolic.Var, kind string) string {
	s := kind + " " + v.Name
	if len(v.Shape) > 0 {
		s += v.Shape.String()
	}
	return fmt.Sprintf("%s (%s:%d)", s, mg.fg.prog.File, v.Line)
}

func (mg *modelGen) numParams() int {
	n := 0
	for _, v := range mg.m.Params {
		n += v.Shape.Size()
	}
	return n
}

func (mg *modelGen) types() {
	f, name := mg.fg.f, mg.m.Name
	f.Comment(fmt.Sprintf("%s is the number of float64s in a %s.", mg.typ("NumParams"), mg.typ("Params")))
	f.Const().Id(mg.typ("NumParams")).Op("=").Lit(mg.numParams())
	f.Line()

	var params []jen.Code
	for _, v := range mg.m.Params {
		params = append(params, jen.Id(mg.fields[v]).Add(goType(v.Shape)).Comment(mg.source(v, "param")))
	}
	f.Comment(fmt.Sprintf("%s holds the parameters of model %s, or a gradient with respect", mg.typ("Params"), name))
	f.Comment("to them. Flat views it as one slice.")
	f.Type().Id(mg.typ("Params")).Struct(params...)
	f.Line()
	f.Comment(fmt.Sprintf("%s's fields are all float64, so its size tells that Flat covers exactly them.", mg.typ("Params")))
	f.Var().Id("_").Op("=").Index(jen.Lit(1)).Struct().Values().Index(
		jen.Qual("unsafe", "Sizeof").Call(jen.Id(mg.typ("Params")).Values()).Op("-").Lit(8).Op("*").Id(mg.typ("NumParams")))
	f.Line()

	var inputs []jen.Code
	for _, v := range mg.m.Inputs {
		t := goType(v.Shape)
		src := mg.source(v, "input")
		if v.Int {
			t, src = jen.Int(), src[:len("input "+v.Name)]+" int"+src[len("input "+v.Name):]
		}
		inputs = append(inputs, jen.Id(mg.fields[v]).Add(t).Comment(src))
	}
	f.Comment(fmt.Sprintf("%s holds one sample of the inputs of model %s.", mg.typ("Inputs"), name))
	f.Type().Id(mg.typ("Inputs")).Struct(inputs...)
	f.Line()
	mg.validate()

	if len(mg.m.Outputs) > 0 {
		var outs []jen.Code
		for i, o := range mg.m.Outputs {
			outs = append(outs, jen.Id(mg.outputs[i]).Add(goType(o.Node.Shape)).Comment(fmt.Sprintf("output %s (%s:%d)", o.Name, mg.fg.prog.File, o.Line)))
		}
		f.Comment(fmt.Sprintf("%s holds the outputs of model %s.", mg.typ("Outputs"), name))
		f.Type().Id(mg.typ("Outputs")).Struct(outs...)
		f.Line()
	}

	f.Comment(fmt.Sprintf("%s holds what %s.Forward keeps for Backward, and Backward's", mg.typ("Workspace"), mg.typ("Params")))
	f.Comment("intermediate values. Its zero value is ready to use; use one per goroutine.")
	f.Type().Id(mg.typ("Workspace")).Struct(mg.wsDecl...)
	f.Line()
}

// intInputs are the integer inputs used as indices, which Validate checks.
func (mg *modelGen) intInputs() []*symbolic.Var {
	var out []*symbolic.Var
	for _, v := range mg.m.Inputs {
		if v.Int && v.Range > 0 {
			out = append(out, v)
		}
	}
	return out
}

// validate emits Inputs.Validate, if the model has integer inputs.
func (mg *modelGen) validate() {
	vars := mg.intInputs()
	if len(vars) == 0 {
		return
	}
	var body []jen.Code
	for _, v := range vars {
		field := jen.Id("in").Dot(mg.fields[v])
		body = append(body, jen.If(field.Clone().Op("<").Lit(0).Op("||").Add(field.Clone()).Op(">=").Lit(v.Range)).Block(
			jen.Return(jen.Qual("fmt", "Errorf").Call(
				jen.Lit(fmt.Sprintf("%s: input %s = %%d is outside its range 0..%d", mg.m.Name, v.Name, v.Range-1)), field.Clone())),
		))
	}
	body = append(body, jen.Return(jen.Nil()))
	mg.fg.f.Comment("Validate reports an integer input outside the range of the dimension it")
	mg.fg.f.Comment("indexes. Forward, Backward and LossGrad panic with its message.")
	mg.fg.f.Func().Params(jen.Id("in").Op("*").Id(mg.typ("Inputs"))).Id("Validate").Params().Error().Block(body...)
	mg.fg.f.Line()
}

// checkInputs starts a function that reads inputs with Validate.
func (mg *modelGen) checkInputs(f *fnGen) {
	if len(mg.intInputs()) > 0 {
		f.add(jen.If(jen.Err().Op(":=").Id("in").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(jen.Panic(jen.Err())))
	}
}

// wsField adds a workspace field for a value of shape s and returns its place.
func (mg *modelGen) wsField(hint string, s symbolic.Shape) place {
	name := mg.ws.fresh(hint)
	mg.wsDecl = append(mg.wsDecl, jen.Id(name).Add(goType(s)))
	return fieldPlace("ws", name)
}

func (mg *modelGen) bindVars(f *fnGen) {
	f.saves = mg.saves
	f.wsAlloc = mg.wsField
	for i, v := range mg.m.Params {
		f.slots[mg.m.ParamNodes[i]] = fieldPlace("p", mg.fields[v])
	}
	for _, n := range mg.m.Graph.Nodes {
		if n.Op.Kind == symbolic.Leaf && n.Var != nil && n.Var.Kind == symbolic.Input {
			f.slots[n] = fieldPlace("in", mg.fields[n.Var])
		}
	}
}

// computeSaves finds the forward values the backward pass reads: values
// outside loops, kept in workspace fields, and values of loop bodies, kept
// for every step in workspace arrays. Views of forward values are looked
// through: the backward pass indexes what they view.
func (mg *modelGen) computeSaves() *saves {
	sv := &saves{inLoop: map[*symbolic.Loop][]*symbolic.Node{}, base: map[*symbolic.Node]place{},
		shift: map[*symbolic.Node]bool{}}
	seen := map[*symbolic.Node]bool{}
	live := symbolic.LiveStates(mg.grad.Adjoints)
	var visit func(n *symbolic.Node)
	visit = func(n *symbolic.Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		switch {
		case n.Loop != nil && n.ID >= mg.grad.Split: // a backward loop: its live states read forward values
			for k, x := range n.Loop.Next {
				if live[n.Loop][k] {
					visit(n.Args[k])
					visit(x)
				}
			}
		case n.ID >= mg.grad.Split || n.Op.Kind == symbolic.View:
			for _, a := range n.Args {
				visit(a)
			}
		case n.Var != nil && n.Var.Kind == symbolic.Index:
		case n.Scope != nil:
			sv.inLoop[n.Scope] = append(sv.inLoop[n.Scope], n)
		case n.Op.Kind != symbolic.Leaf:
			sv.outer = append(sv.outer, n)
		}
	}
	for _, a := range mg.grad.Adjoints {
		visit(a)
	}
	// A saved state's next value is kept one entry further on in the same
	// array: the step reads the state at t and writes the next at t+1, as
	// hand-written BPTT does, with no copying between steps.
	loops := make([]*symbolic.Loop, 0, len(sv.inLoop))
	for l := range sv.inLoop {
		loops = append(loops, l)
	}
	slices.SortFunc(loops, func(a, b *symbolic.Loop) int { return a.ID - b.ID })
	shared := map[*symbolic.Node]*symbolic.Node{} // state leaf → its next value
	for _, l := range loops {
		saved := map[*symbolic.Node]bool{}
		for _, x := range sv.inLoop[l] {
			saved[x] = true
		}
		nexts := map[*symbolic.Node]int{}
		for _, x := range l.Next {
			nexts[x]++
		}
		for k, x := range l.Next {
			if saved[x] && x.Op.Kind != symbolic.Leaf && x.Scope == l && nexts[x] == 1 {
				sv.shift[x] = true
				if saved[l.State[k]] {
					shared[l.State[k]] = x
				}
			}
		}
	}
	for _, l := range loops {
		for _, n := range sv.inLoop[l] {
			if shared[n] != nil {
				continue
			}
			name := hintName(n)
			if n.Var != nil {
				name = n.Var.Name + "_prev" // a state, as the step found it
			}
			sv.base[n] = mg.wsField(name, sv.savedShape(n))
		}
	}
	for st, x := range shared {
		sv.base[st] = sv.base[x]
	}
	return sv
}

// newFn starts one of the model's functions: parameters, inputs and saved
// values bound, the integer inputs checked.
func (mg *modelGen) newFn() (*fnGen, *[]jen.Code) {
	f := newFnGen(mg.fg, mg.fg.newLocals())
	mg.bindVars(f)
	body := new([]jen.Code)
	f.begin(body)
	mg.checkInputs(f)
	return f, body
}

func (mg *modelGen) forward() jen.Code {
	f, body := mg.newFn()

	needed := mg.saves.outer
	keep := map[*symbolic.Node]bool{}
	for _, n := range needed {
		keep[n] = true
	}
	force := append([]*symbolic.Node{mg.m.Loss}, needed...)
	outNames := map[*symbolic.Node]string{}
	taken := map[string]bool{}
	for _, o := range mg.m.Outputs {
		force = append(force, o.Node)
		field := exported(o.Name)
		for taken[field] {
			field += "_"
		}
		taken[field] = true
		mg.outputs = append(mg.outputs, field)
		if outNames[o.Node] == "" {
			outNames[o.Node] = o.Name
		}
	}
	p := f.makePlan(nil, force)
	f.emitPlan(p, func(n *symbolic.Node) dest {
		name := hintName(n)
		if o, ok := outNames[n]; ok {
			name = o
		}
		if n == mg.m.Loss {
			name = "loss"
		}
		if keep[n] || outNames[n] != "" || n.Shape.Size() > maxLocal {
			d := dest{mg.wsField(name, n.Shape), "="}
			mg.big[n] = d.p
			return d
		}
		return f.newLocal(name, n.Shape)
	}, func(n *symbolic.Node) bool { return keep[n] || outNames[n] != "" })
	for _, n := range needed {
		mg.saved[n] = f.slots[n]
	}
	if len(mg.m.Outputs) > 0 {
		var copies []jen.Code
		for i, o := range mg.m.Outputs {
			copies = append(copies, jen.Id("out").Dot(mg.outputs[i]).Op("=").Add(f.whole(o.Node).c))
		}
		f.add(jen.If(jen.Id("out").Op("!=").Nil()).Block(copies...))
	}
	f.add(jen.Return(f.elem(mg.m.Loss, nil).c))
	f.end()

	params := []jen.Code{jen.Id("ws").Op("*").Id(mg.typ("Workspace")), jen.Id("in").Op("*").Id(mg.typ("Inputs"))}
	doc := "and, if out is not nil, sets the outputs."
	if len(mg.m.Outputs) > 0 {
		params = append(params, jen.Id("out").Op("*").Id(mg.typ("Outputs")))
	} else {
		doc = ""
	}
	return jen.Comment(fmt.Sprintf("Forward returns the loss of model %s for the sample in, keeps in ws what", mg.m.Name)).Line().
		Comment("Backward needs " + doc).Line().
		Func().Params(jen.Id("p").Op("*").Id(mg.typ("Params"))).Id("Forward").Params(params...).Float64().Block(*body...)
}

func (mg *modelGen) backward() jen.Code {
	f, body := mg.newFn()
	for n, s := range mg.saved {
		f.slots[n] = s
	}
	mg.emitBackward(f, mg.bigSlot)
	f.end()
	return jen.Comment("Backward adds to g the gradient, with respect to p, of the loss of the last").Line().
		Comment("Forward on ws; in must be the same sample. Adding lets a loop over samples").Line().
		Comment("sum a mini-batch's gradient into one g.").Line().
		Func().Params(jen.Id("p").Op("*").Id(mg.typ("Params"))).Id("Backward").Params(
		jen.Id("ws").Op("*").Id(mg.typ("Workspace")), jen.Id("in").Op("*").Id(mg.typ("Inputs")), jen.Id("g").Op("*").Id(mg.typ("Params"))).Block(*body...)
}

// bigSlot keeps a value too big for the stack in the workspace, in the
// field an earlier function gave it if there is one.
func (mg *modelGen) bigSlot(n *symbolic.Node) dest {
	if p, ok := mg.big[n]; ok {
		return dest{p, "="}
	}
	d := dest{mg.wsField(hintName(n), n.Shape), "="}
	mg.big[n] = d.p
	return d
}

// emitBackward emits the gradient accumulation into g, reading forward
// values from f's slots and keeping big values where bigSlot says.
func (mg *modelGen) emitBackward(f *fnGen, bigSlot func(*symbolic.Node) dest) {
	f.split = mg.grad.Split
	var roots []*symbolic.Node
	for _, a := range mg.grad.Adjoints {
		if a != nil {
			roots = append(roots, a)
		}
	}
	direct := mg.directAccumulators(f)
	p := f.makePlan(roots, nil)
	f.emitPlan(p, func(n *symbolic.Node) dest {
		if n.Shape.Size() > maxLocal {
			return bigSlot(n)
		}
		return f.newLocal(hintName(n), n.Shape)
	})
	for i, v := range mg.m.Params {
		a := mg.grad.Adjoints[i]
		switch {
		case a == nil:
			f.add(jen.Comment(fmt.Sprintf("The loss does not depend on %s: its gradient is 0.", v.Name)))
		case !direct[i]:
			f.emit(a, dest{fieldPlace("g", mg.fields[v]), "+="})
		}
	}
}

// directAccumulators finds the parameters whose whole gradient is what a
// backward loop accumulates over its steps (the weights of a recurrent
// layer), and has that loop accumulate straight into g: no zeroed
// accumulator, no pass adding it to g afterwards. It reports them by index.
func (mg *modelGen) directAccumulators(f *fnGen) map[int]bool {
	uses := map[*symbolic.Node]int{}
	for _, a := range mg.grad.Adjoints {
		uses[a]++ // an adjoint shared by two parameters (of x in x = a + b) is no one's alone
	}
	symbolic.Walk(mg.grad.Adjoints, func(n *symbolic.Node) {
		for _, a := range n.Args {
			uses[a]++
		}
		if n.Loop != nil {
			for _, x := range n.Loop.Next {
				uses[x]++
			}
		}
	})
	direct := map[int]bool{}
	for i, v := range mg.m.Params {
		a := mg.grad.Adjoints[i]
		if a == nil || a.Op.Kind != symbolic.Proj || uses[a] > 1 {
			continue
		}
		loop := a.Args[0]
		k := a.Ints[0]
		if !loop.Loop.Reverse || loop.Scope != nil || !isZero(loop.Args[k]) {
			continue
		}
		if f.stateInto == nil {
			f.stateInto = map[*symbolic.Node]place{}
		}
		f.stateInto[loop.Loop.State[k]] = fieldPlace("g", mg.fields[v])
		direct[i] = true
	}
	return direct
}

// functions emits Forward, Backward and, at the same time on another
// core, LossGrad, which takes as long as the other two: for a large model
// they are most of the time generation takes. The three share the
// workspace's field names, which each hands out as it goes, so the
// concurrent LossGrad is speculative: the first time it would take a
// workspace field (for a loop's per-step values, or a value too big for
// the stack) it gives up, and it is emitted again after Backward, as it
// would have been without concurrency. Either way the output is the same,
// to the byte.
func (mg *modelGen) functions() (forward, backward, lossGrad jen.Code) {
	if runtime.GOMAXPROCS(0) < 2 {
		return mg.forward(), mg.backward(), mg.lossGrad(false)
	}
	var panicked any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil && r != errNeedsWorkspace {
				panicked = r
			}
		}()
		lossGrad = mg.lossGrad(true)
	}()
	forward = mg.forward()
	backward = mg.backward()
	<-done
	if panicked != nil {
		panic(panicked) // a bug: reported as an internal error by the caller
	}
	if lossGrad == nil {
		lossGrad = mg.lossGrad(false)
	}
	return forward, backward, lossGrad
}

// errNeedsWorkspace stops a speculative LossGrad (modelGen.functions).
var errNeedsWorkspace = errors.New("LossGrad needs a workspace field")

// lossGrad emits LossGrad: Forward and Backward in one function, so that
// the values passed between them stay in locals (registers, for small
// ones) instead of making a round trip through the workspace. A
// speculative LossGrad panics with errNeedsWorkspace rather than touch
// the workspace's fields.
func (mg *modelGen) lossGrad(speculative bool) jen.Code {
	f, body := mg.newFn()
	bigSlot := mg.bigSlot
	if speculative {
		f.wsAlloc = func(string, symbolic.Shape) place { panic(errNeedsWorkspace) }
		bigSlot = func(*symbolic.Node) dest { panic(errNeedsWorkspace) }
	}
	force := append([]*symbolic.Node{mg.m.Loss}, mg.saves.outer...)
	p := f.makePlan(nil, force)
	f.emitPlan(p, func(n *symbolic.Node) dest {
		name := hintName(n)
		if n == mg.m.Loss {
			name = "loss"
		}
		if n.Shape.Size() > maxLocal {
			return bigSlot(n)
		}
		return f.newLocal(name, n.Shape)
	})
	loss := f.elem(mg.m.Loss, nil)
	mg.emitBackward(f, bigSlot)
	f.add(jen.Return(loss.c))
	f.end()
	return jen.Comment("LossGrad returns the loss for the sample in and adds its gradient to g. It").Line().
		Comment("computes what Forward and then Backward would, in one pass; ws holds only").Line().
		Comment("the per-step values of loops and values too big for the stack.").Line().
		Func().Params(jen.Id("p").Op("*").Id(mg.typ("Params"))).Id("LossGrad").Params(
		jen.Id("ws").Op("*").Id(mg.typ("Workspace")), jen.Id("in").Op("*").Id(mg.typ("Inputs")), jen.Id("g").Op("*").Id(mg.typ("Params"))).Float64().Block(*body...)
}

// helpers emits Flat and Step.
func (mg *modelGen) helpers() {
	f, P := mg.fg.f, mg.typ("Params")
	recv := jen.Id("p").Op("*").Id(P)
	first := mg.m.Params[0]
	ptr := jen.Op("&").Id("p").Dot(mg.fields[first])
	for range first.Shape {
		ptr = ptr.Index(jen.Lit(0))
	}
	f.Comment("Flat returns p's numbers as one slice sharing p's memory, parameters in")
	f.Comment("declaration order, each in row-major order, so one optimizer serves any model.")
	f.Func().Params(recv.Clone()).Id("Flat").Params().Index().Float64().Block(
		jen.Return(jen.Qual("unsafe", "Slice").Call(ptr, jen.Id(mg.typ("NumParams")))),
	)
	f.Line()

	names, sizes := []jen.Code{}, []jen.Code{}
	for _, v := range mg.m.Params {
		names = append(names, jen.Lit(v.Name))
		sizes = append(sizes, jen.Lit(v.Shape.Size()))
	}
	pre := unexported(mg.name)
	f.Var().Defs(
		jen.Id(pre+"ParamNames").Op("=").Index(jen.Op("...")).String().Values(names...),
		jen.Id(pre+"ParamSizes").Op("=").Index(jen.Op("...")).Int().Values(sizes...),
	)
	f.Line()
	f.Comment("Layout returns the parameters' names, in the order Flat lays them out, and")
	f.Comment("how many numbers each has: for per-parameter gradient norms.")
	f.Func().Params(jen.Op("*").Id(P)).Id("Layout").Params().Params(jen.Id("names").Index().String(), jen.Id("sizes").Index().Int()).Block(
		jen.Return(jen.Id(pre+"ParamNames").Index(jen.Op(":")), jen.Id(pre+"ParamSizes").Index(jen.Op(":"))),
	)
	f.Line()

	f.Comment("Step takes one gradient-descent step, w ← w − lr·∂L/∂w, with the gradient g.")
	f.Func().Params(recv.Clone()).Id("Step").Params(jen.Id("g").Op("*").Id(P), jen.Id("lr").Float64()).Block(
		jen.Id("w").Op(":=").Id("p").Dot("Flat").Call(),
		jen.For(jen.List(jen.Id("i"), jen.Id("d")).Op(":=").Range().Id("g").Dot("Flat").Call()).Block(
			jen.Id("w").Index(jen.Id("i")).Op("-=").Id("lr").Op("*").Id("d"),
		),
	)
	f.Line()
}
