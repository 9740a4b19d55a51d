package symbolic

import "slices"

// Loop is a for loop: its body runs for Index = From, From+1, ..., To-1
// (or downwards if Reverse), with each State leaf bound to the matching
// Next value of the previous step (Init for the first). Body nodes are
// ordinary nodes of the graph whose Scope is the loop; the loop node
// (op "loop", Args = inits then free values) stands for the whole loop in
// the enclosing scope, and one "loopout" node per state gives its final
// value.
//
// A loop's derivative is another Loop, run in reverse (backpropagation
// through time): its state is the adjoint of the forward state plus one
// accumulator per free value that needs a gradient, and its body, the
// derivative of the forward body, reads the forward body's values at the
// same step (which generated code saves per step).
type Loop struct {
	ID       int
	From, To int
	Reverse  bool
	Fwd      *Loop // for a reverse loop, the loop it differentiates
	Parent   *Loop
	Depth    int
	Index    *Node   // the loop variable's leaf
	State    []*Node // leaves, one per carried value
	Next     []*Node // the carried values at the end of the body
	Names    []string
	Node     *Node   // the loop node
	Outs     []*Node // the loopout nodes, one per state
	identity *Var    // makes two loops with equal inputs distinct nodes
}

// Len is the number of steps.
func (l *Loop) Len() int { return l.To - l.From }

// inner returns the more deeply nested of two scopes; between two loops at
// one depth, the later one, so that a derivative node reading a forward
// body value belongs to the backward loop.
func inner(a, b *Loop) *Loop {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.Depth != b.Depth:
		if a.Depth > b.Depth {
			return a
		}
		return b
	case a.ID >= b.ID:
		return a
	}
	return b
}

// Within reports whether scope s is l or nested in l.
func (l *Loop) Within(s *Loop) bool {
	for ; s != nil; s = s.Parent {
		if s == l {
			return true
		}
	}
	return false
}

var (
	opLoop    = &Op{Code: OpLoop, Name: "loop", Kind: LoopK, Arity: -1}
	opLoopOut = &Op{Code: OpLoopOut, Name: "loopout", Kind: Proj, Arity: 1}
)

// NewLoop starts a loop in g nested in parent (nil at the top), with an
// index variable named index. The caller then adds state with AddState,
// builds the body, and closes it with Close.
func (g *Graph) NewLoop(parent *Loop, index string, from, to int) *Loop {
	g.loops++
	l := &Loop{ID: g.loops, From: from, To: to, Parent: parent, identity: &Var{Name: "loop"}}
	if parent != nil {
		l.Depth = parent.Depth + 1
	} else {
		l.Depth = 1
	}
	v := &Var{Name: index, Kind: Index, Int: true, Range: to}
	l.Index = g.VarNode(v)
	l.Index.Scope = l
	return l
}

// AddState adds a carried value and returns its leaf.
func (g *Graph) AddState(l *Loop, name string, shape Shape) *Node {
	n := g.VarNode(&Var{Name: name, Kind: State, Shape: shape})
	n.Scope = l
	l.State = append(l.State, n)
	l.Names = append(l.Names, name)
	return n
}

// Close ends the body: next are the carried values at its end, inits their
// values before the loop. It returns the final values.
func (g *Graph) Close(l *Loop, inits, next []*Node) []*Node {
	l.Next = next
	args := append([]*Node(nil), inits...)
	args = append(args, l.Frees()...)
	n := g.node(opLoop, args, nil, 0, nil, l.identity)
	n.Loop = l
	n.Scope = l.Parent
	l.Node = n
	for k, st := range l.State {
		out := g.node(opLoopOut, []*Node{n}, st.Shape, 0, []int{k}, nil)
		out.Name = l.Names[k]
		l.Outs = append(l.Outs, out)
	}
	return l.Outs
}

// Frees are the values from outside the loop its body reads, in ID order:
// they are computed before the loop, and a loop's derivative collects
// their adjoints over all steps.
func (l *Loop) Frees() []*Node {
	var out []*Node
	seen := map[*Node]bool{}
	var visit func(n *Node)
	visit = func(n *Node) {
		if seen[n] {
			return
		}
		seen[n] = true
		if !l.Within(n.Scope) {
			if n.Op != opConst && !(l.Fwd != nil && l.Fwd.Within(n.Scope)) {
				out = append(out, n)
			}
			return
		}
		for _, a := range n.Args {
			visit(a)
		}
		if n.Loop != nil && n.Loop != l { // a nested loop: its body is ours too
			for _, x := range n.Loop.Next {
				visit(x)
			}
		}
	}
	for _, x := range l.Next {
		visit(x)
	}
	sortByID(out)
	return out
}

// zeroOf is a zero of shape s.
func (g *Graph) zeroOf(s Shape) *Node {
	if len(s) == 0 {
		return g.Const(0)
	}
	return g.Broadcast(g.Const(0), s)
}

// diffLoop differentiates the loop node n given the adjoints of its final
// values (nil where zero), returning the contribution to each of n's Args
// for which need is true. Only the states live says the root needs are
// differentiated: the others' adjoints are zero.
func diffLoop(g *Graph, n *Node, dOut []*Node, need []bool, live map[*Loop][]bool) []*Node {
	l := n.Loop
	k := len(l.State)
	frees := n.Args[k:]
	g.loops++
	b := &Loop{ID: g.loops, From: l.From, To: l.To, Reverse: true, Fwd: l, Parent: l.Parent,
		Depth: l.Depth, Index: l.Index, identity: &Var{Name: "loop"}}

	var states []int // the live states, by index
	for i := range l.State {
		if live[l] != nil && live[l][i] {
			states = append(states, i)
		}
	}
	var roots, seeds, inits, wrt []*Node
	for _, i := range states {
		st := l.State[i]
		roots = append(roots, l.Next[i])
		seeds = append(seeds, g.AddState(b, "d"+l.Names[i], st.Shape))
		if dOut[i] != nil {
			inits = append(inits, dOut[i])
		} else {
			inits = append(inits, g.zeroOf(st.Shape))
		}
		wrt = append(wrt, st)
	}
	var needFree []int
	for j, f := range frees {
		if need[k+j] {
			needFree = append(needFree, j)
			wrt = append(wrt, f)
		}
	}
	accs := make([]*Node, len(needFree))
	for i, j := range needFree {
		f := frees[j]
		name := "d" + nameOf(frees[j])
		if nameOf(f) == "" {
			name = "dfree"
		}
		accs[i] = g.AddState(b, name, f.Shape)
		inits = append(inits, g.zeroOf(f.Shape))
	}
	outside := func(x *Node) bool { return !l.Within(x.Scope) }
	adj := reverse(g, roots, seeds, wrt, outside, live)

	var next []*Node
	for s, i := range states {
		if adj[s] != nil {
			next = append(next, adj[s])
		} else {
			next = append(next, g.zeroOf(l.State[i].Shape))
		}
	}
	for i := range needFree {
		if a := adj[len(states)+i]; a != nil {
			next = append(next, g.Add(accs[i], a))
		} else {
			next = append(next, accs[i])
		}
	}
	outs := g.Close(b, inits, next)

	contrib := make([]*Node, len(n.Args))
	for s, i := range states {
		if need[i] {
			contrib[i] = outs[s]
		}
	}
	for i, j := range needFree {
		contrib[k+j] = outs[len(states)+i]
	}
	return contrib
}

// LiveStates reports, for every loop that roots depend on, which of its
// states they need: those whose final value they read, and those that the
// steps of needed states read, in the same loop or, through saved values, in
// a backward loop; loops nested in a needed state's step count too. A state
// nothing needs (a running total the loss never reads, or its adjoint) need
// not be computed or saved.
func LiveStates(roots []*Node) map[*Loop][]bool {
	live := map[*Loop][]bool{}
	seen := map[*Node]bool{}
	var visit func(x *Node)
	mark := func(l *Loop, k int) {
		if live[l] == nil {
			live[l] = make([]bool, len(l.State))
		}
		if live[l][k] {
			return
		}
		live[l][k] = true
		visit(l.Next[k])
		visit(l.Node.Args[k])
	}
	visit = func(x *Node) {
		if x == nil || seen[x] {
			return
		}
		seen[x] = true
		switch {
		case x.Op == opLoopOut:
			mark(x.Args[0].Loop, x.Ints[0])
		case x.Var != nil && x.Var.Kind == State:
			mark(x.Scope, slices.Index(x.Scope.State, x))
		default:
			for _, a := range x.Args {
				visit(a)
			}
		}
	}
	for _, r := range roots {
		visit(r)
	}
	return live
}
