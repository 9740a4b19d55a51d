package codegen

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

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
	outputs []string // field names of outputs, parallel to m.Outputs
	ws      *namer   // workspace field names
	wsDecl  []jen.Code
	saved   map[*symbolic.Node]place // forward values kept for Backward
	saves   *saves
	big     map[*symbolic.Node]place // workspace fields of values too big for locals
	// direct holds, by parameter index, the backward loop state that
	// accumulates the parameter's whole gradient straight into g.
	direct map[int]*symbolic.Node
	// tile, for the generator of a model's tile functions (batch.go), is
	// the batched model, whose inputs are fields of the batch workspace.
	tile *symbolic.Batched
	// stepArrays are the workspace arrays of per-step values shared by
	// the model's functions (fnGen.stepArray).
	stepArrays map[*symbolic.Node]place
}

func (fg *fileGen) model(m *symbolic.Model) {
	mg := &modelGen{fg: fg, m: m, name: exported(m.Name), fields: map[*symbolic.Var]string{},
		ws: newFieldNamer(), saved: map[*symbolic.Node]place{}, big: map[*symbolic.Node]place{},
		stepArrays: map[*symbolic.Node]place{}}
	mg.grad = fg.grads.Model
	mg.varFields()
	mg.saves = mg.computeSaves()
	mg.direct = mg.directAccumulators()
	fns := mg.functions()
	bg := mg.batchGen()
	fns = append(fns, mg.batchFunctions(bg)...)
	mg.types()
	mg.batchType(bg)
	for _, fn := range fns {
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

// wsField adds a workspace field for a value of shape s and returns its
// place. Workspace fields are unexported whatever the model calls the
// value: the workspace is opaque to callers.
func (mg *modelGen) wsField(hint string, s symbolic.Shape) place {
	if hint != "" {
		hint = unexported(hint)
	}
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
	in := "in"
	if mg.tile != nil {
		in = "ws" // the tile's inputs, which load copied
	}
	for _, n := range mg.m.Graph.Nodes {
		if n.Op.Kind == symbolic.Leaf && n.Var != nil && n.Var.Kind == symbolic.Input {
			f.slots[n] = fieldPlace(in, mg.fields[n.Var])
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
	mg.placeLoopSaves(sv)
	return sv
}

// placeLoopSaves gives each loop value the backward pass reads a
// workspace array with an entry per step. A saved state's next value is
// kept one entry further on in the state's array: the step reads the state
// at t and writes the next at t+1, as hand-written BPTT does, with no
// copying between steps.
func (mg *modelGen) placeLoopSaves(sv *saves) {
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
			if x.Op.Kind != symbolic.Leaf && x.Scope == l && nexts[x] == 1 && (saved[x] || saved[l.State[k]]) {
				// A saved state's next value is kept in the state's array
				// even when the backward pass does not read it (an LSTM's
				// c): that is no more work than the copy into the state
				// variable it replaces, and the state needs no copy into
				// its array at the start of each step.
				if !saved[x] {
					saved[x] = true
					sv.inLoop[l] = append(sv.inLoop[l], x)
				}
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
				name = n.Var.Name + "Prev" // a state, as the step found it
			}
			sv.base[n] = mg.wsField(name, sv.savedShape(n))
		}
	}
	for st, x := range shared {
		sv.base[st] = sv.base[x]
	}
}

// newFn starts one of the model's functions: parameters, inputs and saved
// values bound, the integer inputs checked.
func (mg *modelGen) newFn() (*fnGen, *[]jen.Code) {
	f, body := mg.newFnUnchecked()
	if mg.tile == nil { // load checks a tile's
		mg.checkInputs(f)
	}
	return f, body
}

func (mg *modelGen) newFnUnchecked() (*fnGen, *[]jen.Code) {
	f := newFnGen(mg.fg, mg.fg.newLocals())
	mg.bindVars(f)
	f.markKernelVals(mg.m.Graph.Nodes)
	f.wsShared = mg.stepArrays
	body := new([]jen.Code)
	f.begin(body)
	return f, body
}

// outputNames maps each output's node to the name of its first output.
func (mg *modelGen) outputNames() map[*symbolic.Node]string {
	names := map[*symbolic.Node]string{}
	for _, o := range mg.m.Outputs {
		if names[o.Node] == "" {
			names[o.Node] = o.Name
		}
	}
	return names
}

// localName names the variable of n: the loss, an output, or what n is.
func (mg *modelGen) localName(n *symbolic.Node, outNames map[*symbolic.Node]string) string {
	switch {
	case n == mg.m.Loss:
		return "loss"
	case outNames[n] != "":
		return outNames[n]
	}
	return hintName(n)
}

func (mg *modelGen) forward() jen.Code {
	f, body := mg.newFn()
	keep := map[*symbolic.Node]bool{}
	for _, n := range mg.saves.outer {
		keep[n] = true
	}
	outNames := mg.outputNames()
	force := append([]*symbolic.Node{mg.m.Loss}, mg.saves.outer...)
	for _, o := range mg.m.Outputs {
		force = append(force, o.Node)
	}
	kept := func(n *symbolic.Node) bool { return keep[n] || outNames[n] != "" }
	f.emitPlan(f.makePlan(nil, force), func(n *symbolic.Node) dest {
		if kept(n) || n.Shape.Size() > maxLocal || f.kernelVals[n] {
			d := dest{mg.wsField(mg.localName(n, outNames), n.Shape), "="}
			mg.big[n] = d.p
			return d
		}
		return f.newLocal(mg.localName(n, outNames), n.Shape)
	}, kept)
	for _, n := range mg.saves.outer {
		mg.saved[n] = f.slots[n]
	}
	if copies := mg.copyOutputs(f); len(copies) > 0 {
		f.add(jen.If(jen.Id("out").Op("!=").Nil()).Block(copies...))
	}
	f.add(jen.Return(f.elem(mg.m.Loss, nil).c))
	f.end()
	doc := wrapDoc(fmt.Sprintf("Forward returns the loss of model %s for the sample in and keeps in ws what Backward needs. If out is not nil, Forward sets the outputs too.", mg.m.Name))
	return comments(doc).Func().Params(mg.recv()).Id("Forward").Params(mg.wsIn(), mg.outParam()).Float64().Block(*body...)
}

// copyOutputs returns the statements that copy each output into out,
// except those already computed there.
func (mg *modelGen) copyOutputs(f *fnGen) []jen.Code {
	var copies []jen.Code
	for i, o := range mg.m.Outputs {
		field := fieldPlace("out", mg.outputs[i])
		if p, ok := f.slots[o.Node]; ok && p.key == field.key {
			continue
		}
		value := f.whole(o.Node).c
		if p, ok := f.slots[o.Node]; ok && len(o.Node.Shape) > 0 {
			// Its variable, even where whole reads the node as the
			// constant it is (a loop state no step changes: 0, not an array).
			value = f.access(p, nil).c
		}
		copies = append(copies, jen.Id("out").Dot(mg.outputs[i]).Op("=").Add(value))
	}
	return copies
}

func (mg *modelGen) recv() jen.Code { return jen.Id("p").Op("*").Id(mg.typ("Params")) }

// wsIn is the parameter list every method starts with: (ws, in).
func (mg *modelGen) wsIn() jen.Code {
	return jen.List(jen.Id("ws").Op("*").Id(mg.typ("Workspace")), jen.Id("in").Op("*").Id(mg.typ("Inputs")))
}

func (mg *modelGen) outParam() jen.Code  { return jen.Id("out").Op("*").Id(mg.typ("Outputs")) }
func (mg *modelGen) gradParam() jen.Code { return jen.Id("g").Op("*").Id(mg.typ("Params")) }

func (mg *modelGen) backward(overwrite bool) jen.Code {
	if overwrite && mg.clearsCheaply() {
		return mg.clearThen("BackwardTo", "Backward", nil)
	}
	f, body := mg.newFn()
	for n, s := range mg.saved {
		f.slots[n] = s
	}
	if overwrite {
		mg.clearDirect(f)
	}
	mg.emitBackward(f, mg.bigSlot, overwrite)
	f.end()
	doc := []string{"Backward adds to g the gradient, with respect to p, of the loss of the last",
		"Forward on ws; in must be the same sample. Adding lets a loop over samples",
		"sum a mini-batch's gradient into one g."}
	name := "Backward"
	if overwrite {
		name = "BackwardTo"
		doc = wrapDoc("BackwardTo sets g to the gradient that Backward would add to a cleared g, without clearing g first. " +
			mg.directSentence())
	}
	return comments(doc).Func().Params(mg.recv()).Id(name).Params(mg.wsIn(), mg.gradParam()).Block(*body...)
}

// overwriteMin is the smallest gradient, in float64s, for which the
// overwrite forms (BackwardTo, LossGradTo) are functions of their own that
// write each entry once. Below it clearing g costs a few nanoseconds, less
// than a second copy of the function costs in code size: a 36,000-line
// model would generate (and compile) twice the code for nothing.
const overwriteMin = 256

// clearsCheaply reports whether the gradient is smaller than overwriteMin.
func (mg *modelGen) clearsCheaply() bool { return size(mg.m.Params) < overwriteMin }

// clearThen emits the overwrite form name of the adding method adding,
// for a small gradient: it clears g and calls adding.
func (mg *modelGen) clearThen(name, adding string, result jen.Code) jen.Code {
	call := jen.Id("p").Dot(adding).Call(jen.Id("ws"), jen.Id("in"), jen.Id("g"))
	var body []jen.Code
	body = append(body, jen.Op("*").Id("g").Op("=").Id(mg.typ("Params")).Values())
	if result != nil {
		body = append(body, jen.Return(call))
	} else {
		body = append(body, call)
	}
	doc := wrapDoc(fmt.Sprintf("%s sets g to the gradient that %s would add to a cleared g. The model has %d parameters, so it clears g and calls %s: clearing costs less than a copy of %s that writes each entry once (which models of %d parameters or more get).",
		name, adding, size(mg.m.Params), adding, adding, overwriteMin))
	sig := jen.Func().Params(mg.recv()).Id(name).Params(mg.wsIn(), mg.gradParam())
	if result != nil {
		sig = sig.Add(result)
	}
	return comments(doc).Add(sig).Block(body...)
}

// fuseMaxNodes is the largest model, in IR nodes, whose LossGrad is its
// own function, Forward and Backward fused. A larger one calls Forward and
// then Backward: the fused copy would double an already huge file (and
// the time to generate and compile it) for a gain, values kept in
// registers between the passes, that such a model's size makes small.
// The shipped models have at most a few thousand nodes; a model of 36,000
// bindings has 108,000. (A variable for the tests.)
var fuseMaxNodes = 20000

// forwardThenBackward emits LossGrad (or LossGradTo, if overwrite) for a
// model larger than fuseMaxNodes.
func (mg *modelGen) forwardThenBackward(overwrite bool) jen.Code {
	name, backward := "LossGrad", "Backward"
	if overwrite {
		name, backward = "LossGradTo", "BackwardTo"
	}
	body := []jen.Code{
		jen.Id("loss").Op(":=").Id("p").Dot("Forward").Call(jen.Id("ws"), jen.Id("in"), jen.Nil()),
		jen.Id("p").Dot(backward).Call(jen.Id("ws"), jen.Id("in"), jen.Id("g")),
		jen.Return(jen.Id("loss")),
	}
	verb := "adds its gradient to g"
	if overwrite {
		verb = "sets g to its gradient"
	}
	doc := wrapDoc(fmt.Sprintf("%s returns the loss for the sample in and %s. The model has %d operations, more than %d, so it calls Forward and then %s rather than being a fused copy of both.",
		name, verb, mg.grad.Split, fuseMaxNodes, backward))
	return comments(doc).Func().Params(mg.recv()).Id(name).Params(mg.wsIn(), mg.gradParam()).Float64().Block(body...)
}

// comments is a doc comment of the given lines.
func comments(lines []string) *jen.Statement {
	s := jen.Null()
	for _, l := range lines {
		s.Comment(l).Line()
	}
	return s
}

// directSentence says which gradients the overwrite forms clear and then
// add to: those a loop sums over its steps (clearDirect) and those that
// are rows picked by integer inputs (emitSum clears and adds the rows).
func (mg *modelGen) directSentence() string {
	var looped, rows, picked []string
	scatter := func(t *symbolic.Node) bool { return t.Op.Kind == symbolic.Scatter || t.Op.Code == symbolic.OpUngather }
	for i, v := range mg.m.Params {
		a := mg.grad.Adjoints[i]
		switch {
		case mg.direct[i] != nil:
			looped = append(looped, v.Name)
		case a == nil:
		case scatter(a) || a.Op.Code == symbolic.OpAddN && !slices.ContainsFunc(a.Args, func(t *symbolic.Node) bool { return !scatter(t) }):
			rows = append(rows, v.Name)
		case a.Op.Code == symbolic.OpAddN && slices.ContainsFunc(a.Args, scatter):
			picked = append(picked, v.Name)
		}
	}
	var s []string
	if len(looped) > 0 {
		s = append(s, fmt.Sprintf("A loop sums the gradients of %s over its steps, so it clears them first.", joinNames(looped)))
	}
	if len(rows) > 0 {
		s = append(s, fmt.Sprintf("The gradients of %s are sums of the rows that integer inputs pick, so it clears them first.", joinNames(rows)))
	}
	if len(picked) > 0 {
		s = append(s, fmt.Sprintf("The entries of %s that integer inputs pick are written and then added to.", joinNames(picked)))
	}
	switch {
	case len(s) == 0:
		return "It writes each entry of g once."
	case len(looped)+len(rows) < len(mg.m.Params):
		s = append(s, "It writes each other entry of g once.")
	}
	return strings.Join(s, " ")
}

// joinNames is "a, b and c".
func joinNames(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// wrapDoc breaks text into comment lines of at most 76 columns.
func wrapDoc(text string) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len([]rune(line))+1+len([]rune(w)) > 76 {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// clearDirect sets to zero the gradients a backward loop accumulates into
// g step by step, for the overwrite forms.
func (mg *modelGen) clearDirect(f *fnGen) {
	for i, v := range mg.m.Params {
		if mg.direct[i] != nil {
			f.add(jen.Id("g").Dot(mg.fields[v]).Op("=").Add(zeroValue(v.Shape)))
		}
	}
}

// zeroValue is the zero of a value of shape s: 0 or an empty array literal.
func zeroValue(s symbolic.Shape) jen.Code {
	if len(s) == 0 {
		return jen.Lit(0)
	}
	return arrayType(s).Values()
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

// emitBackward emits the gradient into g, reading forward values from f's
// slots and keeping big values where bigSlot says. It adds to g, or, if
// overwrite, assigns each entry (the loops of clearDirect's parameters
// still add to the g it cleared).
func (mg *modelGen) emitBackward(f *fnGen, bigSlot func(*symbolic.Node) dest, overwrite bool) {
	f.split = mg.grad.Split
	var roots []*symbolic.Node
	for _, a := range mg.grad.Adjoints {
		if a != nil {
			roots = append(roots, a)
		}
	}
	for i, st := range mg.direct {
		if f.stateInto == nil {
			f.stateInto = map[*symbolic.Node]place{}
		}
		f.stateInto[st] = fieldPlace("g", mg.fields[mg.m.Params[i]])
	}
	op := "+="
	if overwrite {
		op = "="
	}
	f.emitPlan(f.makePlan(roots, nil), func(n *symbolic.Node) dest {
		if n.Shape.Size() > maxLocal || f.kernelVals[n] {
			return bigSlot(n)
		}
		return f.newLocal(hintName(n), n.Shape)
	})
	for i, v := range mg.m.Params {
		a := mg.grad.Adjoints[i]
		switch {
		case a == nil:
			f.add(jen.Comment(fmt.Sprintf("The loss does not depend on %s: its gradient is 0.", v.Name)))
			if overwrite {
				f.add(jen.Id("g").Dot(mg.fields[v]).Op("=").Add(zeroValue(v.Shape)))
			}
		case mg.direct[i] == nil:
			f.emit(a, dest{fieldPlace("g", mg.fields[v]), op})
		}
	}
}

// directAccumulators finds the parameters whose whole gradient is what a
// backward loop accumulates over its steps (the weights of a recurrent
// layer), so that the loop accumulates straight into g: no zeroed
// accumulator, no pass adding it to g afterwards. It returns the loop
// state of each, by parameter index.
func (mg *modelGen) directAccumulators() map[int]*symbolic.Node {
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
	direct := map[int]*symbolic.Node{}
	for i := range mg.m.Params {
		a := mg.grad.Adjoints[i]
		if a == nil || a.Op.Kind != symbolic.Proj || uses[a] > 1 {
			continue
		}
		loop := a.Args[0]
		k := a.Ints[0]
		if !loop.Loop.Reverse || loop.Scope != nil || !isZero(loop.Args[k]) || !onlyAdded(loop.Loop, k) {
			continue
		}
		direct[i] = loop.Loop.State[k]
	}
	return direct
}

// onlyAdded reports whether state k of l is an accumulator: its next value
// is itself plus terms, and nothing else in the body reads it. Only such a
// state can live in g and be added to there: another, such as the adjoint
// of a value a loop scales each step (s = s * 0.5 + ...), would scale what
// g held before the call too.
func onlyAdded(l *symbolic.Loop, k int) bool {
	st := l.State[k]
	if !isSumWith(l.Next[k], st) {
		return false
	}
	reads := 0
	symbolic.WalkStop(l.Next, func(x *symbolic.Node) bool { return x.Scope != l }, func(x *symbolic.Node) {
		for _, a := range x.Args {
			if a == st {
				reads++
			}
		}
	})
	return reads == 1
}

// functions emits the model's methods in the order the file lists them:
// Forward, Backward, LossGrad, BackwardTo, LossGradTo and Predict. For a
// large model they are most of the time generation takes, so they are
// emitted on two cores: Forward, Backward and BackwardTo (which read what
// Forward saves) on this one, LossGrad, LossGradTo and Predict (which
// compute everything themselves) on another. The functions share the
// workspace's field names, which each hands out as it goes, so the second
// core's functions are speculative: the first time one would take a
// workspace field (for a loop's per-step values, or a value too big for
// the stack) it gives up, and it is emitted again after the first core's,
// in the order the sequential emission uses. Either way the output is the
// same, to the byte (TestDeterministic compares one core with two).
func (mg *modelGen) functions() []jen.Code {
	spec := []func(speculative bool) jen.Code{
		func(s bool) jen.Code { return mg.lossGrad(s, false) },
		func(s bool) jen.Code { return mg.lossGrad(s, true) },
		mg.predict,
	}
	rest := make([]jen.Code, len(spec))
	if runtime.GOMAXPROCS(0) < 2 {
		forward, backward, backwardTo := mg.forward(), mg.backward(false), mg.backward(true)
		for i, fn := range spec {
			rest[i] = fn(false)
		}
		return []jen.Code{forward, backward, rest[0], backwardTo, rest[1], rest[2]}
	}
	var panicked any
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, fn := range spec {
			rest[i], panicked = speculate(fn)
			if panicked != nil {
				return
			}
		}
	}()
	forward, backward, backwardTo := mg.forward(), mg.backward(false), mg.backward(true)
	<-done
	if panicked != nil {
		panic(panicked) // a bug: reported as an internal error by the caller
	}
	for i, fn := range spec {
		if rest[i] == nil {
			rest[i] = fn(false)
		}
	}
	return []jen.Code{forward, backward, rest[0], backwardTo, rest[1], rest[2]}
}

// speculate emits a function speculatively: nil if it needs a workspace
// field, and what it panicked with if it panicked otherwise.
func speculate(fn func(speculative bool) jen.Code) (code jen.Code, panicked any) {
	defer func() {
		if r := recover(); r != nil && r != errNeedsWorkspace {
			code, panicked = nil, r
		}
	}()
	return fn(true), nil
}

// workspace returns where f keeps values too big for the stack: the
// workspace's fields (mg.bigSlot), or, for a speculative function, nowhere:
// it and f's loops panic with errNeedsWorkspace instead.
func (mg *modelGen) workspace(f *fnGen, speculative bool) func(*symbolic.Node) dest {
	if !speculative {
		return mg.bigSlot
	}
	f.wsAlloc = func(string, symbolic.Shape) place { panic(errNeedsWorkspace) }
	f.wsShared = nil // the other goroutine's functions write it
	return func(*symbolic.Node) dest { panic(errNeedsWorkspace) }
}

// errNeedsWorkspace stops a speculative function (modelGen.functions).
var errNeedsWorkspace = errors.New("a speculative function needs a workspace field")

// lossGrad emits LossGrad (or, if overwrite, LossGradTo): Forward and
// Backward in one function, so that the values passed between them stay in
// locals (registers, for small ones) instead of making a round trip
// through the workspace. A speculative LossGrad panics with
// errNeedsWorkspace rather than touch the workspace's fields.
func (mg *modelGen) lossGrad(speculative, overwrite bool) jen.Code {
	if overwrite && mg.clearsCheaply() {
		return mg.clearThen("LossGradTo", "LossGrad", jen.Float64())
	}
	if mg.grad.Split > fuseMaxNodes {
		return mg.forwardThenBackward(overwrite)
	}
	body := mg.lossGradBody(speculative, overwrite)
	doc := []string{"LossGrad returns the loss for the sample in and adds its gradient to g. It",
		"computes what Forward and then Backward would, in one pass; ws holds only",
		"the per-step values of loops and values too big for the stack."}
	name := "LossGrad"
	if overwrite {
		name = "LossGradTo"
		doc = wrapDoc("LossGradTo returns the loss for the sample in and sets g to its gradient, as LossGrad would add it to a cleared g, without clearing g first. " +
			mg.directSentence())
	}
	return comments(doc).Func().Params(mg.recv()).Id(name).Params(mg.wsIn(), mg.gradParam()).Float64().Block(body...)
}

// lossGradBody is the body of LossGrad (or LossGradTo, if overwrite).
func (mg *modelGen) lossGradBody(speculative, overwrite bool) []jen.Code {
	f, body := mg.newFn()
	bigSlot := mg.workspace(f, speculative)
	if overwrite {
		mg.clearDirect(f)
	}
	force := append([]*symbolic.Node{mg.m.Loss}, mg.saves.outer...)
	f.emitPlan(f.makePlan(nil, force), func(n *symbolic.Node) dest {
		if n.Shape.Size() > maxLocal || f.kernelVals[n] {
			return bigSlot(n)
		}
		return f.newLocal(mg.localName(n, nil), n.Shape)
	})
	loss := f.elem(mg.m.Loss, nil)
	mg.emitBackward(f, bigSlot, overwrite)
	f.add(jen.Return(loss.c))
	f.end()
	return *body
}

// predictPlan is Forward's plan cut down to what the outputs need. The
// same plan materializes the same values, so Predict sums in the same
// order and its outputs equal Forward's to the bit (a plan of the outputs
// alone would inline values Forward keeps, and sum some of them in another
// order).
func (mg *modelGen) predictPlan(f *fnGen, outputs []*symbolic.Node) *plan {
	if len(outputs) == 0 {
		return f.makePlan(nil, nil)
	}
	force := append([]*symbolic.Node{mg.m.Loss}, mg.saves.outer...)
	p := f.makePlan(nil, append(force, outputs...))
	// What the outputs need: what a plan of the outputs alone reaches
	// (through the live states of loops only), and which loop states
	// they need.
	alone := f.makePlan(nil, outputs)
	need := alone.uses
	for _, o := range outputs {
		need[o]++
	}
	p.mat = slices.DeleteFunc(p.mat, func(n *symbolic.Node) bool { return need[n] == 0 })
	p.live = alone.live
	return p
}

// predict emits Predict: the outputs without the loss, for inference.
// Only the values the outputs need are computed, and only the integer
// inputs they read are checked, so inputs that only the loss reads (a
// target, a label) may be left as they are.
func (mg *modelGen) predict(speculative bool) jen.Code {
	f, body := mg.newFnUnchecked()
	bigSlot := mg.workspace(f, speculative)
	var roots []*symbolic.Node
	for _, o := range mg.m.Outputs {
		roots = append(roots, o.Node)
	}
	mg.checkInputsOf(f, roots)
	first := map[*symbolic.Node]string{} // the out field each node is computed into
	for i, o := range mg.m.Outputs {
		if first[o.Node] == "" {
			first[o.Node] = mg.outputs[i]
		}
	}
	outNames := mg.outputNames()
	f.emitPlan(mg.predictPlan(f, roots), func(n *symbolic.Node) dest {
		switch {
		case first[n] != "":
			return dest{fieldPlace("out", first[n]), "="}
		case n.Shape.Size() > maxLocal || f.kernelVals[n]:
			return bigSlot(n)
		}
		return f.newLocal(mg.localName(n, outNames), n.Shape)
	}, func(n *symbolic.Node) bool { return first[n] != "" })
	f.add(mg.copyOutputs(f)...)
	f.end()
	doc := wrapDoc(fmt.Sprintf("Predict sets out to the outputs of model %s for the sample in, without the loss: it computes only what the outputs need, so inputs that only the loss reads (a target) are not read. out must not be nil; ws is scratch space.", mg.m.Name))
	if len(mg.m.Outputs) == 0 {
		doc = wrapDoc(fmt.Sprintf("Predict does nothing: model %s declares no outputs. It is here so that every generated model has the same methods.", mg.m.Name))
	}
	return comments(doc).Func().Params(mg.recv()).Id("Predict").Params(mg.wsIn(), mg.outParam()).Block(*body...)
}
