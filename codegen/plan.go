package codegen

import (
	"slices"

	"github.com/backpropgen/backpropgen/symbolic"
)

// A plan decides which nodes of a function get a variable of their own
// (are materialized) and which are computed inside the expression that uses
// them. Inlining is what fuses W @ x + b and tanh into one loop; it is only
// done where it computes nothing twice:
//   - a node used more than once is materialized;
//   - a node read more than once per element of its user (the vector of a
//     matrix-vector product, a scalar broadcast over a tensor, the argument
//     of logsumexp, which is read in two passes) is materialized;
//   - views (index, transpose, broadcast, stop_gradient) are never
//     materialized: they are only a way of indexing their argument, which
//     inherits the materialization need;
//   - scatters bigger than one element are materialized (written row-wise).
type plan struct {
	mat   []*symbolic.Node // in ID order
	isMat map[*symbolic.Node]bool
	uses  map[*symbolic.Node]int
	// live says which states of each loop are computed: a state nothing
	// reads is dropped with its initial value (Go rejects a variable that
	// is only ever assigned).
	live map[*symbolic.Loop][]bool
}

// makePlan plans the computation of roots (each use counted) and of the
// nodes in force, which must be materialized. Nodes for which f.avail is
// true are already in variables and are not looked into.
func (f *fnGen) makePlan(roots []*symbolic.Node, force []*symbolic.Node) *plan {
	avail := f.avail
	uses := map[*symbolic.Node]int{}
	multi := map[*symbolic.Node]bool{}
	seen := map[*symbolic.Node]bool{}
	var nodes, loops []*symbolic.Node
	user := map[*symbolic.Node]*symbolic.Node{} // the last user seen; the only one if uses is 1
	var visit func(n *symbolic.Node)
	use := func(n *symbolic.Node, i int) {
		a := n.Args[i]
		uses[a]++
		user[a] = n
		if !readsOnce(n, i) {
			multi[a] = true
		}
		visit(a)
	}
	visit = func(n *symbolic.Node) {
		if seen[n] || avail(n) {
			return
		}
		seen[n] = true
		nodes = append(nodes, n)
		if n.Op.Kind == symbolic.LoopK {
			loops = append(loops, n) // its arguments once its live states are known
			return
		}
		for i := range n.Args {
			use(n, i)
		}
	}
	rootUses := map[*symbolic.Node]int{}
	for _, r := range roots {
		uses[r]++
		rootUses[r]++
		visit(r)
	}
	for _, r := range force {
		visit(r)
	}
	forced := map[*symbolic.Node]bool{}
	for _, r := range force {
		forced[r] = true
	}
	// A loop state is live if what follows the loop reads its final value;
	// its initial value is then needed, and may make other loops' states
	// live in turn.
	live := map[*symbolic.Loop][]bool{}
	used := map[*symbolic.Node]map[int]bool{} // the arguments of each loop counted as used
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(loops); i++ { // visiting arguments may find more loops
			n := loops[i]
			l := n.Loop
			now, frees := f.liveStates(l, func(out *symbolic.Node) bool { return uses[out] > 0 || forced[out] })
			if used[n] == nil {
				used[n] = map[int]bool{}
			}
			for j, a := range n.Args {
				need := j < len(now) && now[j] || j >= len(now) && frees[a]
				if need && !used[n][j] {
					used[n][j] = true
					use(n, j)
					changed = true
				}
			}
			live[l] = now
		}
	}
	p := &plan{isMat: map[*symbolic.Node]bool{}, uses: uses, live: live}
	for _, r := range force {
		if !avail(r) {
			p.isMat[r] = true
		}
	}
	slices.SortFunc(nodes, func(a, b *symbolic.Node) int { return b.ID - a.ID })
	for _, n := range nodes { // users before their arguments
		if p.isMat[n] || n.Op.Kind == symbolic.Leaf {
			continue
		}
		if n.Op.Kind == symbolic.View {
			if uses[n] > 1 || multi[n] {
				multi[n.Args[0]] = true
			}
			continue
		}
		if n.Op.Kind == symbolic.Proj { // a loop's final value: the loop's state variable
			continue
		}
		if n.Op.Kind == symbolic.LoopK {
			p.isMat[n] = true
			continue
		}
		// A scatter is written row-wise, which emit does for a root (dW[l] += ...)
		// but no expression can do for a user.
		// A term of a sum that is stored is written by emit too (dE[k] += ...).
		inSum := uses[n] == 1 && user[n] != nil && user[n].Op.Name == "addn" && (p.isMat[user[n]] || rootUses[user[n]] > 0)
		scatter := n.Op.Kind == symbolic.Scatter && !allOnes(n.Shape) && uses[n] > rootUses[n] && !inSum
		if uses[n] > 1 || multi[n] || scatter {
			p.isMat[n] = true
		}
	}
	p.limitDepth(nodes)
	for _, n := range nodes {
		if p.isMat[n] {
			p.mat = append(p.mat, n)
		}
	}
	slices.SortFunc(p.mat, func(a, b *symbolic.Node) int { return a.ID - b.ID })
	return p
}

// readsOnce reports whether n reads each element of its i-th argument at
// most once per element of n it computes.
func readsOnce(n *symbolic.Node, i int) bool {
	a := n.Args[i]
	switch n.Op.Kind {
	case symbolic.Elementwise:
		return a.Shape.Equal(n.Shape)
	case symbolic.View:
		return n.Op.Name != "broadcast" || allOnes(n.Shape)
	case symbolic.Reduce:
		return n.Op.Name == "sum"
	case symbolic.Scatter:
		return true
	}
	return false // matmul, outer
}

// maxInline is the deepest expression computed inline: deeper chains of
// single-use values get variables along the way. Go source with one
// expression thousands of operators deep is unreadable, cannot be stepped
// through, and takes go/printer quadratic time.
const maxInline = 16

// limitDepth materializes nodes whose inline expression would be deeper
// than maxInline.
func (p *plan) limitDepth(nodes []*symbolic.Node) {
	asc := slices.Clone(nodes)
	slices.SortFunc(asc, func(a, b *symbolic.Node) int { return a.ID - b.ID })
	depth := map[*symbolic.Node]int{}
	for _, n := range asc {
		k := n.Op.Kind
		if p.isMat[n] || k == symbolic.Leaf || k == symbolic.LoopK || k == symbolic.Proj {
			continue
		}
		d := 0
		for _, a := range n.Args {
			d = max(d, depth[a])
		}
		switch k {
		case symbolic.View:
			depth[n] = d // a view is a way of indexing, no operation
			continue
		case symbolic.Reduce, symbolic.MatMul:
			d = 0 // their terms are summed in a loop of their own
		}
		w := 1
		if n.Op.Name == "addn" {
			w = len(n.Args) - 1 // one + per term
		}
		if d+w > maxInline {
			p.isMat[n] = true
			continue
		}
		depth[n] = d + w
	}
}
