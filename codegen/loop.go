package codegen

import (
	"slices"
	"strconv"
	"strings"

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
	base   map[*symbolic.Node]string // workspace array of each loop value
	// shift marks a state's next value, kept at step t+1 of the array that
	// holds the state at step t (entry 0 is the initial value).
	shift map[*symbolic.Node]bool
}

// shifted reports whether state k of l lives in a saved array rather than
// a variable of its own.
func (sv *saves) shifted(l *symbolic.Loop, k int) bool {
	return sv != nil && !l.Reverse && sv.shift[l.Next[k]]
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

// savedSlot is the variable holding n's value at the current step of each
// loop around it.
func (f *fnGen) savedSlot(n *symbolic.Node) string {
	return f.savedSlotAt(n, "")
}

// savedSlotAt is savedSlot with the innermost loop's index replaced by
// last, if not empty.
func (f *fnGen) savedSlotAt(n *symbolic.Node, last string) string {
	s := f.saves.base[n]
	c := chain(n.Scope)
	for i, l := range c {
		t := f.slots[l.Index]
		f.used[t] = true
		if l.From != 0 {
			t += "-" + strconv.Itoa(l.From)
		}
		if i == len(c)-1 {
			switch {
			case last != "":
				t = last
			case f.saves.shift[n]:
				t += "+1"
			}
		}
		s += "[" + t + "]"
	}
	return s
}

// isZero reports whether n is a zero constant or a tensor of zeros.
func isZero(n *symbolic.Node) bool {
	return n.IsConst(0) || n.Op.Name == "broadcast" && n.Args[0].IsConst(0)
}

// emitLoop emits a loop node: state variables set from the inits, a Go for
// loop whose body computes the next state (saving what the backward pass
// needs, if this is a forward loop), and the final values bound to the
// state variables.
func (f *fnGen) emitLoop(n *symbolic.Node, outer *plan) {
	l := n.Loop
	inBody := map[*symbolic.Node]int{} // uses of each state, counted before the body is emitted
	for _, x := range f.bodyNodes(l) {
		for _, a := range x.Args {
			inBody[a]++
		}
	}
	for _, x := range l.Next {
		inBody[x]++
	}
	names := make([]string, len(l.State))
	idx := f.locals.fresh(l.Index.Var.Name)
	f.slots[l.Index] = idx
	f.comment(n)
	f.quiet = true // the initial values belong to the loop's comment
	for i, st := range l.State {
		if f.saves.shifted(l, i) {
			// The state lives in the array that saves it: entry 0 is the
			// initial value, and the body reads entry t and writes t+1.
			x := l.Next[i]
			f.emit(n.Args[i], dest{f.savedSlotAt(x, "0"), "="})
			f.slots[st] = f.savedSlotAt(x, idx)
			if l.From != 0 {
				f.slots[st] = f.savedSlotAt(x, idx+"-"+strconv.Itoa(l.From))
			}
			names[i] = f.savedSlotAt(x, strconv.Itoa(l.Len()))
			continue
		}
		if into, ok := f.stateInto[st]; ok {
			// A parameter's gradient, accumulated straight into g.
			names[i] = into
			f.slots[st] = into
			continue
		}
		inWS := f.wsAlloc != nil && st.Shape.Size() > maxLocal
		if inWS {
			names[i] = f.wsAlloc(l.Names[i], st.Shape)
		} else {
			names[i] = f.locals.fresh(l.Names[i])
			f.declare(jen.Var().Id(names[i]).Add(goType(st.Shape)))
		}
		switch init := n.Args[i]; {
		case isZero(init) && f.declTop == nil && !inWS:
			// declared just above, so already zero
		case isZero(init) && len(st.Shape) > 0:
			f.add(jen.Id(names[i]).Op("=").Add(arrayType(st.Shape)).Values())
		default:
			f.emit(init, dest{names[i], "="})
		}
		f.slots[st] = names[i]
	}
	f.quiet = false
	f.flush()
	outerTop, outerBlock, outerDecl := f.top, f.block, f.declTop
	if f.declTop == nil {
		f.declTop = outerTop
	}
	var body []jen.Code
	f.begin(&body)
	f.loopBody(l)
	f.finish()
	f.top, f.block, f.declTop = outerTop, outerBlock, outerDecl

	var head []jen.Code
	switch {
	case l.Reverse:
		head = []jen.Code{jen.Id(idx).Op(":=").Lit(l.To - 1), jen.Id(idx).Op(">=").Lit(l.From), jen.Id(idx).Op("--")}
	case l.From == 0 && !f.used[idx]:
		head = []jen.Code{jen.Range().Lit(l.To)}
	case l.From == 0:
		head = []jen.Code{jen.Id(idx).Op(":=").Range().Lit(l.To)}
	default:
		head = []jen.Code{jen.Id(idx).Op(":=").Lit(l.From), jen.Id(idx).Op("<").Lit(l.To), jen.Id(idx).Op("++")}
	}
	f.add(jen.For(head...).Block(body...))
	for i, out := range l.Outs {
		f.slots[out] = names[i]
		// A state that nothing reads, in the loop or after it, is only ever
		// assigned; Go rejects such a variable unless it is marked used.
		st := l.State[i]
		local := !strings.Contains(names[i], ".") && !strings.Contains(names[i], "[")
		if local && len(st.Shape) == 0 && inBody[st] == 0 && l.Next[i] != st && outer.uses[out] == 0 && !outer.isMat[out] {
			f.add(jen.Id("_").Op("=").Id(names[i]))
		}
	}
}

// loopBody emits one step of l.
func (f *fnGen) loopBody(l *symbolic.Loop) {
	var saved []*symbolic.Node
	if f.saves != nil {
		if l.Reverse {
			// The forward loop's values at this step, as the forward pass kept them.
			for _, x := range f.saves.inLoop[l.Fwd] {
				f.slots[x] = f.savedSlot(x)
			}
		} else {
			saved = f.saves.inLoop[l]
		}
	}
	var force []*symbolic.Node
	into := map[*symbolic.Node]string{}
	for _, x := range saved {
		if x.Op.Kind == symbolic.Leaf { // a state at the start of the step
			if k := slices.Index(l.State, x); !f.saves.shifted(l, k) {
				f.emit(x, dest{f.savedSlot(x), "="})
			}
			continue
		}
		force = append(force, x)
		into[x] = f.savedSlot(x)
	}

	// How each state is updated: in place when the next value is the state
	// plus something that nothing else reads the state for (loss += ...,
	// gradient accumulators), otherwise from a temporary after the step.
	uses := map[*symbolic.Node]int{}
	for _, x := range f.bodyNodes(l) {
		for _, a := range x.Args {
			uses[a]++
		}
	}
	nexts := map[*symbolic.Node]int{}
	for _, x := range l.Next {
		nexts[x]++
	}
	inPlace := make([][]*symbolic.Node, len(l.State)) // the terms added to the state
	var roots []*symbolic.Node
	for i, st := range l.State {
		x := l.Next[i]
		switch {
		case x == st, f.saves.shifted(l, i):
			continue
		case uses[st] == 1 && nexts[x] == 1 && uses[x] == 0 && isSumWith(x, st):
			for _, t := range x.Args {
				if t != st {
					inPlace[i] = append(inPlace[i], t)
					roots = append(roots, t)
				}
			}
		default:
			roots = append(roots, x)
			if _, ok := into[x]; !ok && x.Op.Kind != symbolic.Leaf {
				force = append(force, x)
			}
		}
	}
	p := makePlan(roots, force, f.avail)
	f.emitPlan(p, func(x *symbolic.Node) dest {
		if s, ok := into[x]; ok {
			return dest{s, "="}
		}
		if f.wsAlloc != nil && x.Shape.Size() > maxLocal {
			return dest{f.wsAlloc(hintName(x), x.Shape), "="}
		}
		if len(x.Shape) > 0 {
			d := dest{f.locals.fresh(hintName(x)), "="}
			f.declare(jen.Var().Id(d.base).Add(goType(x.Shape)))
			return d
		}
		return dest{f.locals.fresh(hintName(x)), ":="}
	})
	// In-place updates first: the copies below overwrite states that their
	// terms may read (a gradient accumulator reads the adjoint state).
	for i, st := range l.State {
		for _, t := range inPlace[i] {
			f.emit(t, dest{f.slots[st], "+="})
		}
	}
	// Next values that are states themselves (a swap) are copied first.
	tmp := map[int]string{}
	for i, st := range l.State {
		x := l.Next[i]
		if x != st && x.Op.Kind == symbolic.Leaf && x.Scope == l && inPlace[i] == nil {
			tmp[i] = f.locals.fresh(l.Names[i] + "_next")
			f.declare(jen.Var().Id(tmp[i]).Add(goType(x.Shape)))
			f.emit(x, dest{tmp[i], "="})
		}
	}
	for i, st := range l.State {
		x := l.Next[i]
		switch {
		case x == st, inPlace[i] != nil, f.saves.shifted(l, i):
		case tmp[i] != "":
			f.add(jen.Id(f.slots[st]).Op("=").Id(tmp[i]))
		default:
			f.emit(x, dest{f.slots[st], "="})
		}
	}
}

// isSumWith reports whether x is st + terms (add or addn) with st once.
func isSumWith(x, st *symbolic.Node) bool {
	if x.Op.Name != "add" && x.Op.Name != "addn" {
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
