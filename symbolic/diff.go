package symbolic

// Differentiate builds, in g, the reverse-mode derivative of root with
// respect to each of wrt, seeding root's adjoint with seed (usually the
// constant 1). It returns one adjoint per wrt node; nil means the derivative
// is identically zero (root does not depend on it).
//
// Nodes are visited once each in reverse topological order (descending ID);
// each node's adjoint is the sum (AddN) of the contributions of its users,
// built with the same constructors as the forward graph, so the derivative
// is IR: simplified, shared with the forward values it reuses, and itself
// differentiable. Its size is a constant times the forward graph's.
func Differentiate(g *Graph, root, seed *Node, wrt []*Node) []*Node {
	// Only the loop states the root needs are differentiated: a state it
	// never reads has a zero adjoint, and its derivative would read
	// forward values that need not be computed at all.
	live := LiveStates([]*Node{root})
	return reverse(g, []*Node{root}, []*Node{seed}, wrt, nil, live)
}

// reverse is reverse-mode differentiation of roots, seeded with seeds,
// with respect to wrt. Nodes for which stop is true are not looked into
// (a loop body's derivative stops at the values from outside the loop).
func reverse(g *Graph, roots, seeds, wrt []*Node, stop func(*Node) bool, live map[*Loop][]bool) []*Node {
	target := map[*Node]bool{}
	for _, w := range wrt {
		target[w] = true
	}
	// needs[n]: n depends on some wrt node, so its adjoint matters.
	needs := map[*Node]bool{}
	var order []*Node
	leaf := func(n *Node) bool { return target[n] || stop != nil && stop(n) }
	WalkStop(roots, leaf, func(n *Node) {
		order = append(order, n)
		if target[n] {
			needs[n] = true
			return
		}
		if leaf(n) {
			return
		}
		for _, a := range n.Args {
			if needs[a] {
				needs[n] = true
			}
		}
	})

	split := len(g.Nodes)
	contrib := map[*Node][]*Node{}
	for i, r := range roots {
		contrib[r] = append(contrib[r], seeds[i])
	}
	loopAdj := map[*Node][]*Node{} // a loop node's adjoints, one per final value
	adj := map[*Node]*Node{}
	saved := g.Line
	defer func() { g.Line = saved }()
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if !needs[n] || target[n] && len(contrib[n]) == 0 {
			continue
		}
		g.Line = n.Line
		var d *Node
		if n.Op == opLoop {
			if loopAdj[n] == nil {
				continue
			}
		} else {
			terms := contrib[n]
			if len(terms) == 0 {
				continue
			}
			d = g.AddN(terms)
			if name := nameOf(n); name != "" && d.Name == "" && d.Op.Kind != Leaf && d.ID >= split {
				d.Name = "d" + name
			}
			adj[n] = d
		}
		if target[n] || (stop != nil && stop(n)) {
			continue
		}
		switch {
		case n.Op == opLoopOut:
			l := n.Args[0]
			if loopAdj[l] == nil {
				loopAdj[l] = make([]*Node, len(l.Loop.State))
			}
			loopAdj[l][n.Ints[0]] = d
			continue
		case n.Op == opLoop:
			need := make([]bool, len(n.Args))
			for j, a := range n.Args {
				need[j] = needs[a]
			}
			for j, c := range diffLoop(g, n, loopAdj[n], need, live) {
				if c != nil {
					contrib[n.Args[j]] = append(contrib[n.Args[j]], c)
				}
			}
			continue
		case n.Op.Deriv == nil:
			continue
		}
		for j, a := range n.Args {
			if !needs[a] {
				continue
			}
			c := n.Op.Deriv(g, n, d, j)
			if !c.Shape.Equal(a.Shape) && a.IsScalar() {
				c = g.Sum(c) // a broadcast scalar collects every element's share
			}
			contrib[a] = append(contrib[a], c)
		}
	}
	out := make([]*Node, len(wrt))
	for i, w := range wrt {
		out[i] = adj[w]
	}
	return out
}

// nameOf is the model's name for n, if it has one.
func nameOf(n *Node) string {
	if n.Var != nil {
		return n.Var.Name
	}
	return n.Name
}
