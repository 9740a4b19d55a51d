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
	r := &reverser{g: g, stop: stop, live: live, target: map[*Node]bool{}, needs: map[*Node]bool{},
		contrib: map[*Node][]*Node{}, loopAdj: map[*Node][]*Node{}, adj: map[*Node]*Node{}, split: len(g.Nodes)}
	for _, w := range wrt {
		r.target[w] = true
	}
	order := r.order(roots)
	for i, root := range roots {
		r.contrib[root] = append(r.contrib[root], seeds[i])
	}
	saved := g.Line
	defer func() { g.Line = saved }()
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if !r.needs[n] || r.target[n] && len(r.contrib[n]) == 0 {
			continue
		}
		g.Line = n.Line
		d, ok := r.adjoint(n)
		if ok && !r.leaf(n) {
			r.propagate(n, d)
		}
	}
	out := make([]*Node, len(wrt))
	for i, w := range wrt {
		out[i] = r.adj[w]
	}
	return out
}

// reverser is the state of one reverse.
type reverser struct {
	g      *Graph
	stop   func(*Node) bool
	live   map[*Loop][]bool
	target map[*Node]bool // the nodes differentiated with respect to
	// needs[n]: n depends on some target, so its adjoint matters.
	needs   map[*Node]bool
	contrib map[*Node][]*Node // the contributions to each node's adjoint
	loopAdj map[*Node][]*Node // a loop node's adjoints, one per final value
	adj     map[*Node]*Node
	split   int // the graph's size before: nodes from here on are derivatives
}

// leaf reports whether n is not looked into: a target, or stopped at.
func (r *reverser) leaf(n *Node) bool { return r.target[n] || r.stop != nil && r.stop(n) }

// order lists the nodes the roots depend on, arguments before their
// users, and marks those that depend on a target.
func (r *reverser) order(roots []*Node) []*Node {
	var order []*Node
	WalkStop(roots, r.leaf, func(n *Node) {
		order = append(order, n)
		if r.target[n] {
			r.needs[n] = true
			return
		}
		if r.leaf(n) {
			return
		}
		for _, a := range n.Args {
			if r.needs[a] {
				r.needs[n] = true
			}
		}
	})
	return order
}

// adjoint sums n's contributions into its adjoint d, named after n; for a
// loop node, whose adjoints are per final value, d is nil. It reports
// false when n has no adjoint.
func (r *reverser) adjoint(n *Node) (d *Node, ok bool) {
	if n.Op == opLoop {
		return nil, r.loopAdj[n] != nil
	}
	terms := r.contrib[n]
	if len(terms) == 0 {
		return nil, false
	}
	d = r.g.AddN(terms)
	if name := nameOf(n); name != "" && d.Name == "" && d.Op.Kind != Leaf && d.ID >= r.split {
		d.Name = "d" + name
	}
	r.adj[n] = d
	return d, true
}

// propagate adds n's adjoint d's contributions to n's arguments: through a
// loop's derivative loop for a loop node, through the op's rule otherwise.
func (r *reverser) propagate(n, d *Node) {
	switch {
	case n.Op == opLoopOut:
		l := n.Args[0]
		if r.loopAdj[l] == nil {
			r.loopAdj[l] = make([]*Node, len(l.Loop.State))
		}
		r.loopAdj[l][n.Ints[0]] = d
		return
	case n.Op == opLoop:
		need := make([]bool, len(n.Args))
		for j, a := range n.Args {
			need[j] = r.needs[a]
		}
		for j, c := range diffLoop(r.g, n, r.loopAdj[n], need, r.live) {
			if c != nil {
				r.contrib[n.Args[j]] = append(r.contrib[n.Args[j]], c)
			}
		}
		return
	case n.Op.Deriv == nil:
		return
	}
	for j, a := range n.Args {
		if !r.needs[a] {
			continue
		}
		c := n.Op.Deriv(r.g, n, d, j)
		if !c.Shape.Equal(a.Shape) && a.IsScalar() {
			c = r.g.Sum(c) // a broadcast scalar collects every element's share
		}
		r.contrib[a] = append(r.contrib[a], c)
	}
}

// nameOf is the model's name for n, if it has one.
func nameOf(n *Node) string {
	if n.Var != nil {
		return n.Var.Name
	}
	return n.Name
}
