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
	// user is the last user of each node seen (its only one if uses is
	// 1), and forced the nodes that must be materialized whatever their
	// uses: matgroup.go finds a product's epilogue with them.
	user   map[*symbolic.Node]*symbolic.Node
	forced map[*symbolic.Node]bool
	// live says which states of each loop are computed: a state nothing
	// reads is dropped with its initial value (Go rejects a variable that
	// is only ever assigned).
	live map[*symbolic.Loop][]bool
}

// planner is the state of one makePlan: the nodes reached and how each is
// used.
type planner struct {
	f      *fnGen
	uses   map[*symbolic.Node]int
	multi  map[*symbolic.Node]bool // read more than once per element by a user
	seen   map[*symbolic.Node]bool
	nodes  []*symbolic.Node
	loops  []*symbolic.Node                  // loop nodes, whose arguments wait for liveness
	user   map[*symbolic.Node]*symbolic.Node // the last user seen; the only one if uses is 1
	forced map[*symbolic.Node]bool
}

// makePlan plans the computation of roots (each use counted) and of the
// nodes in force, which must be materialized. Nodes for which f.avail is
// true are already in variables and are not looked into.
func (f *fnGen) makePlan(roots []*symbolic.Node, force []*symbolic.Node) *plan {
	pl := &planner{f: f, uses: map[*symbolic.Node]int{}, multi: map[*symbolic.Node]bool{},
		seen: map[*symbolic.Node]bool{}, user: map[*symbolic.Node]*symbolic.Node{}, forced: map[*symbolic.Node]bool{}}
	rootUses := map[*symbolic.Node]int{}
	for _, r := range roots {
		pl.uses[r]++
		rootUses[r]++
		pl.visit(r)
	}
	for _, r := range force {
		pl.visit(r)
		pl.forced[r] = true
	}
	p := &plan{isMat: map[*symbolic.Node]bool{}, uses: pl.uses, user: pl.user, forced: pl.forced, live: pl.liveLoops()}
	for _, r := range force {
		if !f.avail(r) {
			p.isMat[r] = true
		}
	}
	p.decide(pl, rootUses)
	p.limitDepth(pl.nodes)
	for _, n := range pl.nodes {
		if p.isMat[n] {
			p.mat = append(p.mat, n)
		}
	}
	slices.SortFunc(p.mat, func(a, b *symbolic.Node) int { return a.ID - b.ID })
	return p
}

func (pl *planner) visit(n *symbolic.Node) {
	if pl.seen[n] || pl.f.avail(n) {
		return
	}
	pl.seen[n] = true
	pl.nodes = append(pl.nodes, n)
	if n.Op.Kind == symbolic.LoopK {
		pl.loops = append(pl.loops, n) // its arguments once its live states are known
		return
	}
	for i := range n.Args {
		pl.use(n, i)
	}
}

// use counts n's use of its i-th argument.
func (pl *planner) use(n *symbolic.Node, i int) {
	a := n.Args[i]
	pl.uses[a]++
	pl.user[a] = n
	if !readsOnce(n, i) {
		pl.multi[a] = true
	}
	pl.visit(a)
}

// liveLoops decides which states of the loops reached are live: a state
// is live if what follows the loop reads its final value. Its initial
// value, and the values from outside the loop that live states read, are
// then used, and may make other loops' states live in turn.
func (pl *planner) liveLoops() map[*symbolic.Loop][]bool {
	live := map[*symbolic.Loop][]bool{}
	used := map[*symbolic.Node]map[int]bool{} // the arguments of each loop counted as used
	outUsed := func(out *symbolic.Node) bool { return pl.uses[out] > 0 || pl.forced[out] }
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(pl.loops); i++ { // using arguments may find more loops
			n := pl.loops[i]
			now, frees := pl.f.liveStates(n.Loop, outUsed)
			if used[n] == nil {
				used[n] = map[int]bool{}
			}
			for j, a := range n.Args {
				need := j < len(now) && now[j] || j >= len(now) && frees[a]
				if need && !used[n][j] {
					used[n][j] = true
					pl.use(n, j)
					changed = true
				}
			}
			live[n.Loop] = now
		}
	}
	return live
}

// decide marks the nodes that need variables of their own.
func (p *plan) decide(pl *planner, rootUses map[*symbolic.Node]int) {
	uses, multi, user := pl.uses, pl.multi, pl.user
	nodes := slices.Clone(pl.nodes)
	slices.SortFunc(nodes, func(a, b *symbolic.Node) int { return b.ID - a.ID })
	for _, n := range nodes { // users before their arguments
		if n.Op.Kind == symbolic.Elementwise && len(n.Shape) > 0 && goForms[n.Op.Code].isCall() {
			// The pre-activation of tanh(W @ x + b) gets an array of its
			// own, so that the products and the calls run in separate
			// loops (fuse.go keeps them apart).
			for _, a := range n.Args {
				if containsProduct(a, 3) {
					p.isMat[a] = true
				}
			}
		}
		bigConv := false
		if g, ok := pl.f.bigContraction(n); ok {
			// A kernel's operands are stored: the patches (a view) too.
			bigConv = true
			for _, a := range []*symbolic.Node{g.a, g.b} {
				if a.Op.Kind != symbolic.Leaf && !pl.f.avail(a) && pl.seen[a] {
					p.isMat[a] = true
				}
			}
		}
		switch {
		case p.isMat[n], n.Op.Kind == symbolic.Leaf:
			continue
		case blockedOuter(n) && n.Args[0].Op.Kind != symbolic.Leaf && n.Args[0].Op.Kind != symbolic.View:
			// accumulateOuter4 reads each factor several times.
			p.isMat[n.Args[0]] = true
		case pl.f.kernelVals[n] && permuted(n):
			p.isMat[n] = true // a kernel reads it in place (batchmm.go)
			continue
		case n.Op.Kind == symbolic.View:
			if uses[n] > 1 || multi[n] {
				multi[n.Args[0]] = true
			}
			continue
		case n.Op.Kind == symbolic.Proj: // a loop's final value: the loop's state variable
			continue
		case n.Op.Kind == symbolic.LoopK:
			p.isMat[n] = true
			continue
		}
		// A scatter is written row-wise, which emit does for a root (dW[l] += ...)
		// but no expression can do for a user.
		// A term of a sum that is stored is written by emit too (dE[k] += ...).
		inSum := uses[n] == 1 && user[n] != nil && isSum(user[n]) && (p.isMat[user[n]] || rootUses[user[n]] > 0)
		scatter := (n.Op.Kind == symbolic.Scatter && !allOnes(n.Shape) || rowAdds(n)) && uses[n] > rootUses[n] && !inSum
		if uses[n] > 1 || multi[n] || scatter || blocked(n) || blockedVecMat(n) && uses[n] > rootUses[n] && !inSum || bigProduct(n) && uses[n] > rootUses[n] || bigConv && uses[n] > rootUses[n] || n.Op.Kind == symbolic.ScatterAdd && !rowAdds(n) {
			p.isMat[n] = true
		}
	}
}

// isSum reports whether n is a sum of terms (add, or addn of three or
// more), which emit writes term by term when some are scatters or
// vector-matrix products.
func isSum(n *symbolic.Node) bool {
	return n.Op.Code == symbolic.OpAddN || n.Op.Code == symbolic.OpAdd
}

// blocked reports whether n is a matrix-vector product that emit computes
// four rows at a time (matvec4), which needs a variable of its own: a
// param or input matrix of 8, 12, ... rows and at least 16 columns.
func blocked(n *symbolic.Node) bool {
	if n.Op.Kind != symbolic.MatMul || len(n.Args[0].Shape) != 2 || len(n.Args[1].Shape) != 1 {
		return false
	}
	m, k := n.Args[0].Shape[0], n.Args[0].Shape[1]
	return n.Args[0].Op.Kind == symbolic.Leaf && n.Args[0].Var != nil && m >= 8 && m%4 == 0 && k >= 16
}

// containsProduct reports whether n is a matrix product, or an elementwise
// op of one, within depth ops.
func containsProduct(n *symbolic.Node, depth int) bool {
	switch {
	case n.Op.Code == symbolic.OpBMatMul:
		// A kernel's product is in an array of its own already, and a
		// small one is summed per element as the expansion it replaces
		// was (batchmm.go).
		return false
	case n.Op.Kind == symbolic.MatMul:
		return true
	case depth == 0 || n.Op.Kind != symbolic.Elementwise:
		return false
	}
	for _, a := range n.Args {
		if containsProduct(a, depth-1) {
			return true
		}
	}
	return false
}

// bigProduct reports whether n is a product of two matrices that a
// kernel computes (kernels.go), which needs a variable of its own.
func bigProduct(n *symbolic.Node) bool {
	if bigBMatMul(n) {
		return true
	}
	if n.Op.Code != symbolic.OpMatMul || len(n.Args[0].Shape) != 2 || len(n.Args[1].Shape) != 2 {
		return false
	}
	both := n.Args[0].Op.Code == symbolic.OpTranspose && n.Args[1].Op.Code == symbolic.OpTranspose
	return !both && n.Shape[0]*n.Shape[1]*n.Args[0].Shape[1] >= gemmMin
}

// readsOnce reports whether n reads each element of its i-th argument at
// most once per element of n it computes.
func readsOnce(n *symbolic.Node, i int) bool {
	a := n.Args[i]
	switch n.Op.Kind {
	case symbolic.Elementwise:
		return a.Shape.Equal(n.Shape)
	case symbolic.View:
		if n.Op.Code == symbolic.OpExpand {
			return n.Shape.Size() == a.Shape.Size() // a permutation, not a repetition
		}
		if n.Op.Code == symbolic.OpWindow {
			return symbolic.WindowReadsOnce(n) // overlapping kernels read an element again
		}
		if n.Op.Code == symbolic.OpGather {
			return false // two integers may pick one row
		}
		if n.Op.Code == symbolic.OpSlide && i == 1 {
			return true // the position
		}
		return n.Op.Code != symbolic.OpBroadcast || allOnes(n.Shape)
	case symbolic.Reduce:
		return n.Op.Code == symbolic.OpSum
	case symbolic.Partial:
		return n.Op.Code == symbolic.OpReduceSum
	case symbolic.ScatterAdd:
		return true
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
		case symbolic.Reduce, symbolic.MatMul, symbolic.Partial:
			d = 0 // their terms are summed in a loop of their own
		}
		w := 1
		if n.Op.Code == symbolic.OpAddN {
			w = len(n.Args) - 1 // one + per term
		}
		if d+w > maxInline {
			p.isMat[n] = true
			continue
		}
		depth[n] = d + w
	}
}
