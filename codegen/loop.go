package codegen

import (
	"maps"
	"math"
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// saves records which forward values the backward pass reads, and where
// they are kept: values from outside loops in workspace fields (outer), and
// values of loop bodies in workspace arrays with one entry per step
// (inLoop), which is what backpropagation through time needs.
type saves struct {
	outer  []*symbolic.Node
	inLoop map[*symbolic.Loop][]*symbolic.Node
	base   map[*symbolic.Node]place // workspace array of each loop value
	// shift marks a state's next value, kept at step t+1 of the array that
	// holds the state at step t (entry 0 is the initial value).
	shift map[*symbolic.Node]bool
}

// shifted reports whether state k of l lives in a saved array rather than
// a variable of its own.
func (sv *saves) shifted(l *symbolic.Loop, k int) bool {
	// The next value must be l's own: an inner loop's state may take a
	// value of the outer loop's body (c = s in a loop inside the one that
	// updates s), which is shifted in the outer loop's array, not this one's.
	x := l.Next[k]
	return sv != nil && !l.Reverse && sv.shift[x] && x.Scope == l
}

// chain is the loops enclosing scope, outermost first.
func chain(scope *symbolic.Loop) []*symbolic.Loop {
	var out []*symbolic.Loop
	for l := scope; l != nil; l = l.Parent {
		out = append([]*symbolic.Loop{l}, out...)
	}
	return out
}

// savedShape is the shape of the array that keeps n for every step of the
// loops around it (one more step for a shifted state).
func (sv *saves) savedShape(n *symbolic.Node) symbolic.Shape {
	var s symbolic.Shape
	for _, l := range chain(n.Scope) {
		s = append(s, l.Len())
	}
	if sv.shift[n] {
		s[len(s)-1]++
	}
	return append(s, n.Shape...)
}

// savedSlot is the place holding n's value at the current step of each
// loop around it.
func (f *fnGen) savedSlot(n *symbolic.Node) place {
	c := chain(n.Scope)
	pre := make([]ix, len(c))
	for i, l := range c {
		pre[i] = vix(f.slots[l.Index].base()).plus(-l.From)
	}
	if f.saves.shift[n] {
		pre[len(pre)-1] = pre[len(pre)-1].plus(1)
	}
	return f.saves.base[n].at(pre...)
}

// savedSlotAt is savedSlot with the innermost loop's index replaced by
// last.
func (f *fnGen) savedSlotAt(n *symbolic.Node, last ix) place {
	p := f.savedSlot(n)
	p.pre[len(p.pre)-1] = last
	return p
}

// isZero reports whether n is the constant +0 or a tensor of them.
func isZero(n *symbolic.Node) bool {
	v, ok := n.Constant()
	return ok && v == 0 && !math.Signbit(v)
}

// liveStates reports which of l's states the code after the loop reads
// (outUsed of its final value), or the backward pass (saved values),
// directly or through other states; and which values from outside the
// loop (the loop node's free arguments) the live states' steps read.
// Loops nested in l count only through their own live states.
func (f *fnGen) liveStates(l *symbolic.Loop, outUsed func(*symbolic.Node) bool) (live []bool, frees map[*symbolic.Node]bool) {
	lv := &liveness{f: f, l: l, stateOf: map[*symbolic.Node]stateRef{}, lives: map[*symbolic.Loop][]bool{},
		isFree: map[*symbolic.Node]bool{}, frees: map[*symbolic.Node]bool{}, seen: map[*symbolic.Node]bool{}}
	for _, a := range l.Node.Args[len(l.State):] {
		lv.isFree[a] = true
	}
	lv.enter(l)
	for k, out := range l.Outs {
		if outUsed(out) {
			lv.mark(l, k)
		}
	}
	if f.saves != nil && !l.Reverse {
		for _, x := range f.saves.inLoop[l] {
			lv.visit(x)
		}
	}
	return lv.lives[l], lv.frees
}

// liveness is the state of one liveStates.
type liveness struct {
	f       *fnGen
	l       *symbolic.Loop
	stateOf map[*symbolic.Node]stateRef // the state leaves of l and the loops in it
	lives   map[*symbolic.Loop][]bool
	isFree  map[*symbolic.Node]bool // l's values from outside it
	frees   map[*symbolic.Node]bool // those the live states read
	seen    map[*symbolic.Node]bool
}

// stateRef is state k of loop l.
type stateRef struct {
	l *symbolic.Loop
	k int
}

// enter starts tracking the states of m.
func (lv *liveness) enter(m *symbolic.Loop) {
	if lv.lives[m] == nil {
		lv.lives[m] = make([]bool, len(m.State))
		for k, st := range m.State {
			lv.stateOf[st] = stateRef{m, k}
		}
	}
}

// mark makes state k of m live, and what its steps read.
func (lv *liveness) mark(m *symbolic.Loop, k int) {
	if lv.lives[m][k] {
		return
	}
	lv.lives[m][k] = true
	lv.visit(m.Next[k])
	if m != lv.l {
		lv.visit(m.Node.Args[k]) // a nested loop's initial value, computed in our body
	}
}

// visit follows what x reads, within l.
func (lv *liveness) visit(x *symbolic.Node) {
	if lv.seen[x] {
		return
	}
	lv.seen[x] = true
	if s, ok := lv.stateOf[x]; ok {
		lv.mark(s.l, s.k)
		return
	}
	switch l := lv.l; {
	case lv.isFree[x]:
		lv.frees[x] = true
		return
	case x.Op.Kind == symbolic.Proj: // a nested loop's final value
		m := x.Args[0].Loop
		lv.enter(m)
		lv.mark(m, x.Ints[0]) // its steps read the values from outside it they need
		return
	case lv.f.avail(x) || x.Scope == nil:
		// Values outside every loop hold no state. (Scopes do not
		// tell more: a backward loop's Parent is its forward loop's.)
		return
	case l.Fwd != nil && x.ID < lv.f.split && l.Fwd.Within(x.Scope):
		// A forward value a backward loop reads: the forward pass
		// saved it, and what it was computed from is not needed here.
		return
	}
	for _, a := range x.Args {
		lv.visit(a)
	}
}

// emitLoop emits a loop node: state variables set from the inits, a Go for
// loop whose body computes the next state (saving what the backward pass
// needs, if this is a forward loop), and the final values bound to the
// state variables.
func (f *fnGen) emitLoop(n *symbolic.Node, outer *plan) {
	l := n.Loop
	live := outer.live[l]
	idx := f.locals.fresh(l.Index.Var.Name)
	f.slots[l.Index] = localPlace(idx)
	f.steps[idx] = true
	f.comment(n)
	places := make([]place, len(l.State))
	f.notes.quiet = true // the initial values belong to the loop's comment
	for i, st := range l.State {
		switch {
		case !live[i]:
		case f.isInvariant(n, i):
			// A constant no step changes (the adjoint of loss += ... is 1
			// at every step) is not carried: it is read as the constant.
			f.invariant[st], f.invariant[l.Outs[i]] = n.Args[i], n.Args[i]
		default:
			places[i] = f.initState(n, i)
			f.slots[st] = places[i]
		}
	}
	f.notes.quiet = false
	f.flush()
	// The loop's comment, if no initial value took it, goes on the for.
	note := f.notes.pending
	f.notes.pending = ""
	before := f.uses.index[idx]
	saved := f.out
	if f.out.declTop == nil {
		f.out.declTop = saved.top
	}
	// The body's values live in its block, one step at a time: after the
	// loop they are out of scope, and only the states' final values remain.
	outerSlots := maps.Clone(f.slots)
	outerDeferred, outerCopies := f.deferred, f.stepCopies
	f.deferred, f.stepCopies = nil, map[*symbolic.Node]place{}
	var body []jen.Code
	f.begin(&body)
	f.loopBody(l, live)
	f.finish()
	f.out = saved
	f.slots = outerSlots
	deferred := f.deferred
	f.deferred, f.stepCopies = outerDeferred, outerCopies

	if note != "" {
		f.add(jen.Comment(note))
	}
	f.add(jen.For(loopHead(l, idx, f.uses.index[idx] > before)...).Block(body...))
	f.emitDeferred(deferred)
	for i, out := range l.Outs {
		if live[i] && !f.isInvariant(n, i) {
			f.slots[out] = f.finalPlace(l, i, places[i])
		}
	}
}

// loopHead is the header of l's for loop over idx, which the body reads
// if usesIdx: backward from the last step for a reverse loop.
func loopHead(l *symbolic.Loop, idx string, usesIdx bool) []jen.Code {
	switch {
	case l.Reverse:
		return []jen.Code{jen.Id(idx).Op(":=").Lit(l.To - 1), jen.Id(idx).Op(">=").Lit(l.From), jen.Id(idx).Op("--")}
	case l.From == 0 && !usesIdx:
		return []jen.Code{jen.Range().Lit(l.To)}
	case l.From == 0:
		return []jen.Code{jen.Id(idx).Op(":=").Range().Lit(l.To)}
	}
	return []jen.Code{jen.Id(idx).Op(":=").Lit(l.From), jen.Id(idx).Op("<").Lit(l.To), jen.Id(idx).Op("++")}
}

// isInvariant reports whether state i of loop node n is a constant that
// no step changes.
func (f *fnGen) isInvariant(n *symbolic.Node, i int) bool {
	_, konst := n.Args[i].Constant()
	_, into := f.stateInto[n.Loop.State[i]]
	return konst && !into && n.Loop.Next[i] == n.Loop.State[i] && !f.saves.shifted(n.Loop, i)
}

// finalPlace is where state k of l is after the loop.
func (f *fnGen) finalPlace(l *symbolic.Loop, k int, p place) place {
	if f.saves.shifted(l, k) {
		return f.savedSlotAt(l.Next[k], cix(l.Len()))
	}
	return p
}

// initState gives state i of loop node n its place and initial value.
func (f *fnGen) initState(n *symbolic.Node, i int) place {
	l := n.Loop
	st := l.State[i]
	if f.saves.shifted(l, i) {
		// The state lives in the array that saves it: entry 0 is the
		// initial value, and the body reads entry t and writes t+1.
		x := l.Next[i]
		f.emit(n.Args[i], dest{f.savedSlotAt(x, cix(0)), "="})
		return f.savedSlotAt(x, vix(f.slots[l.Index].base()).plus(-l.From))
	}
	if into, ok := f.stateInto[st]; ok {
		return into // a parameter's gradient, accumulated straight into g
	}
	var p place
	inWS := f.wsAlloc != nil && (st.Shape.Size() > maxLocal || f.kernelVals[st])
	if inWS {
		p = f.wsAlloc(l.Names[i], st.Shape)
	} else {
		p = localPlace(f.locals.fresh(l.Names[i]))
		f.declareVar(p.name(), st.Shape)
	}
	switch init := n.Args[i]; {
	case isZero(init) && f.out.declTop == nil && !inWS:
		// declared just above, so already zero
	case isZero(init) && len(st.Shape) > 0:
		f.add(f.lvalue(p, nil).Op("=").Add(arrayType(st.Shape)).Values())
	default:
		f.emit(init, dest{p, "="})
	}
	return p
}

// loopBody emits one step of l, updating its live states.
func (f *fnGen) loopBody(l *symbolic.Loop, live []bool) {
	force, into := f.stepSaves(l)
	inPlace, roots, next := f.stateUpdates(l, live)
	for _, x := range next {
		if _, ok := into[x]; !ok && x.Op.Kind != symbolic.Leaf {
			force = append(force, x)
		}
	}
	p := f.makePlan(roots, force)
	keep := func(x *symbolic.Node) bool { _, ok := into[x]; return ok } // a nested loop's final value saved for the backward pass
	added := f.addEarly(l, p, inPlace)
	over := f.overwrites(l, live, inPlace, p, added)
	slot := f.stepSlot(into)
	f.emitPlanThen(p, func(x *symbolic.Node) dest {
		if _, ok := into[x]; !ok {
			if d, ok := over.place(x); ok {
				return d
			}
		}
		return slot(x)
	}, keep, added.emitReady)
	f.updateStates(l, live, inPlace, added.done, over.written)
}

// overwrite decides which states of a step get their next value written
// over them, rather than into a variable of its own copied into the state
// at the end of the step (dh = dh2): those whose value, when their next
// value is computed, nothing in the step still has to read.
type overwrite struct {
	f       *fnGen
	l       *symbolic.Loop
	next    map[*symbolic.Node]int // a candidate next value → its state
	readers map[int][]*symbolic.Node
	terms   map[int][]stateTerm // in-place updates that read the state
	added   *earlyAdds
	written map[int]bool // states whose next value went over them
}

func (f *fnGen) overwrites(l *symbolic.Loop, live []bool, inPlace [][]*symbolic.Node, p *plan, added *earlyAdds) *overwrite {
	o := &overwrite{f: f, l: l, next: map[*symbolic.Node]int{}, readers: map[int][]*symbolic.Node{},
		terms: map[int][]stateTerm{}, added: added, written: map[int]bool{}}
	nexts := map[*symbolic.Node]int{}
	for i, x := range l.Next {
		if live[i] {
			nexts[x]++
		}
	}
	for k, st := range l.State {
		x := l.Next[k]
		_, into := f.stateInto[st]
		_, stored := f.slots[st]
		switch {
		case !live[k], !stored, into, inPlace[k] != nil, f.saves.shifted(l, k), x == st,
			x.Op.Kind == symbolic.Leaf, x.Scope != l, nexts[x] != 1, nexts[st] > 0, f.reads(p, x, st):
			continue
		}
		o.next[x] = k
		for _, n := range p.mat {
			if n != x && f.reads(p, n, st) {
				o.readers[k] = append(o.readers[k], n)
			}
		}
		for j, ts := range inPlace {
			for ti, t := range ts {
				if t == st || f.reads(p, t, st) {
					o.terms[k] = append(o.terms[k], stateTerm{j, ti, t})
				}
			}
		}
	}
	return o
}

// place returns the state's own place for x, a next value, if every
// value of the step that reads the state has been computed.
func (o *overwrite) place(x *symbolic.Node) (dest, bool) {
	k, ok := o.next[x]
	if !ok || slices.ContainsFunc(o.readers[k], func(n *symbolic.Node) bool { return !o.f.avail(n) }) {
		return dest{}, false
	}
	for _, t := range o.terms[k] {
		if !o.added.done[t] {
			return dest{}, false
		}
	}
	o.written[k] = true
	return dest{o.f.slots[o.l.State[k]], "="}, true
}

// reads reports whether computing n reads st: n's inline expression does
// (n itself, or a value the plan computes inline, not one in a variable).
func (f *fnGen) reads(p *plan, n, st *symbolic.Node) bool {
	for _, a := range n.Args {
		if a == st || !p.isMat[a] && !f.avail(a) && f.reads(p, a, st) {
			return true
		}
	}
	return false
}

// earlyAdds are the in-place updates of a step's accumulating states
// (gradient += term), each emitted as soon as the values its term reads
// are computed rather than at the end of the step: the update then shares
// the loop that computes its term (g.b[i] += δ[i] beside δ[i] = ...)
// instead of reading it back in a loop of its own. That is safe because
// nothing else in the step reads such a state (stateUpdates).
type earlyAdds struct {
	f     *fnGen
	l     *symbolic.Loop
	terms []earlyAdd
	done  map[stateTerm]bool
}

// stateTerm is term t of state k's update, the i-th of its terms: a term
// the update has twice (loss += h; ...; loss += h, one node hash-consed)
// is two stateTerms, each added once.
type stateTerm struct {
	k, i int
	t    *symbolic.Node
}

// earlyAdd is a term and the values of the plan it waits for.
type earlyAdd struct {
	stateTerm
	wait []*symbolic.Node
}

func (f *fnGen) addEarly(l *symbolic.Loop, p *plan, inPlace [][]*symbolic.Node) *earlyAdds {
	e := &earlyAdds{f: f, l: l, done: map[stateTerm]bool{}}
	for k, ts := range inPlace {
		for ti, t := range ts {
			var wait []*symbolic.Node
			seen := map[*symbolic.Node]bool{}
			var visit func(n *symbolic.Node)
			visit = func(n *symbolic.Node) {
				if seen[n] || f.avail(n) {
					return
				}
				seen[n] = true
				if p.isMat[n] {
					wait = append(wait, n)
					return
				}
				for _, a := range n.Args {
					visit(a)
				}
			}
			visit(t)
			e.terms = append(e.terms, earlyAdd{stateTerm{k, ti, t}, wait})
		}
	}
	return e
}

// emitReady emits the updates whose terms can now be computed: scalars
// first, so that a statement between two loops does not keep them from
// fusing (g.by += δ between g.Wy's loop and the next).
func (e *earlyAdds) emitReady() {
	for _, scalar := range []bool{true, false} {
		for _, a := range e.terms {
			if e.done[a.stateTerm] || (a.t.Shape.Size() == 1) != scalar || slices.ContainsFunc(a.wait, func(n *symbolic.Node) bool { return !e.f.avail(n) }) {
				continue
			}
			e.done[a.stateTerm] = true
			e.f.addTerm(e.l, e.l.State[a.k], a.t)
		}
	}
}

// stepSaves binds, in a backward loop, the forward values the forward
// pass kept for this step; in a forward loop it returns the values to
// save (force) and where each is kept (into), and saves the states the
// backward pass reads as the step found them.
func (f *fnGen) stepSaves(l *symbolic.Loop) (force []*symbolic.Node, into map[*symbolic.Node]place) {
	into = map[*symbolic.Node]place{}
	if f.saves == nil {
		return nil, into
	}
	if l.Reverse {
		for _, x := range f.saves.inLoop[l.Fwd] {
			f.slots[x] = f.savedSlot(x)
		}
		return nil, into
	}
	for _, x := range f.saves.inLoop[l] {
		if x.Op.Kind == symbolic.Leaf { // a state at the start of the step
			if k := slices.Index(l.State, x); !f.saves.shifted(l, k) {
				f.emit(x, dest{f.savedSlot(x), "="})
			}
			continue
		}
		force = append(force, x)
		into[x] = f.savedSlot(x)
	}
	return force, into
}

// stateUpdates decides how each live state is updated: in place when the
// next value is the state plus terms that nothing else reads the state for
// (loss += ..., gradient accumulators), whose terms it returns in inPlace,
// and otherwise from its next value (in next), assigned after the step.
// roots are everything the step computes.
func (f *fnGen) stateUpdates(l *symbolic.Loop, live []bool) (inPlace [][]*symbolic.Node, roots, next []*symbolic.Node) {
	uses := map[*symbolic.Node]int{}
	for _, x := range f.bodyNodes(l) {
		for _, a := range x.Args {
			uses[a]++
		}
	}
	nexts := map[*symbolic.Node]int{}
	for i, x := range l.Next {
		if live[i] {
			nexts[x]++
			uses[x]++ // a state carried into another (s12 = s11) is read by the copy
		}
	}
	inPlace = make([][]*symbolic.Node, len(l.State))
	for i, st := range l.State {
		x := l.Next[i]
		switch {
		case !live[i], x == st, f.saves.shifted(l, i):
		case uses[st] == 1 && nexts[x] == 1 && uses[x] == 1 && isSumWith(x, st):
			for _, t := range x.Args {
				if t != st {
					inPlace[i] = append(inPlace[i], t)
					roots = append(roots, t)
				}
			}
		default:
			roots = append(roots, x)
			next = append(next, x)
		}
	}
	return inPlace, roots, next
}

// stepSlot is where a loop step keeps the values it computes: the saves
// of the forward pass where into says, big values in the workspace, the
// rest in locals of the step's block.
func (f *fnGen) stepSlot(into map[*symbolic.Node]place) func(x *symbolic.Node) dest {
	return func(x *symbolic.Node) dest {
		if s, ok := into[x]; ok {
			return dest{s, "="}
		}
		if f.wsAlloc != nil && (x.Shape.Size() > maxLocal || f.kernelVals[x]) {
			return dest{f.wsAlloc(hintName(x), x.Shape), "="}
		}
		if len(x.Shape) > 0 {
			name := f.locals.fresh(hintName(x))
			f.declareVar(name, x.Shape)
			return dest{localPlace(name), "="}
		}
		return dest{localPlace(f.locals.fresh(hintName(x))), ":="}
	}
}

// updateStates ends a step: the in-place updates first (the copies below
// overwrite states that their terms may read: a gradient accumulator reads
// the adjoint state), then next values that are states themselves (a
// swap) through temporaries, then the other states from their next values.
func (f *fnGen) updateStates(l *symbolic.Loop, live []bool, inPlace [][]*symbolic.Node, done map[stateTerm]bool, written map[int]bool) {
	for i, st := range l.State {
		for ti, t := range inPlace[i] {
			if !done[stateTerm{i, ti, t}] {
				f.addTerm(l, st, t)
			}
		}
	}
	tmp := map[int]place{}
	for i, st := range l.State {
		x := l.Next[i]
		if live[i] && x != st && x.Op.Kind == symbolic.Leaf && x.Scope == l && inPlace[i] == nil {
			tmp[i] = localPlace(f.locals.fresh(l.Names[i] + "Next"))
			f.declareVar(tmp[i].name(), x.Shape)
			f.emit(x, dest{tmp[i], "="})
		}
	}
	for i, st := range l.State {
		x := l.Next[i]
		switch {
		case !live[i], x == st, inPlace[i] != nil, f.saves.shifted(l, i), written[i]:
		case len(tmp[i].path) > 0:
			f.add(f.lvalue(f.slots[st], nil).Op("=").Add(f.access(tmp[i], nil).c))
		default:
			f.emit(x, dest{f.slots[st], "="})
		}
	}
}

// addTerm adds the step's term t into state st, or defers it (defer.go).
func (f *fnGen) addTerm(l *symbolic.Loop, st, t *symbolic.Node) {
	if !f.deferOuter(l, st, t) {
		f.emit(t, dest{f.slots[st], "+="})
	}
}

// isSumWith reports whether x is st + terms (add or addn) with st once.
func isSumWith(x, st *symbolic.Node) bool {
	if x.Op.Code != symbolic.OpAdd && x.Op.Code != symbolic.OpAddN {
		return false
	}
	count := 0
	for _, a := range x.Args {
		if a == st {
			count++
		}
		if !a.Shape.Equal(x.Shape) {
			return false
		}
	}
	return count == 1
}

// bodyNodes lists the nodes of l's body that the step computes.
func (f *fnGen) bodyNodes(l *symbolic.Loop) []*symbolic.Node {
	var out []*symbolic.Node
	seen := map[*symbolic.Node]bool{}
	var visit func(x *symbolic.Node)
	visit = func(x *symbolic.Node) {
		if seen[x] || f.avail(x) {
			return
		}
		seen[x] = true
		out = append(out, x)
		for _, a := range x.Args {
			visit(a)
		}
	}
	for _, x := range l.Next {
		visit(x)
	}
	return out
}
