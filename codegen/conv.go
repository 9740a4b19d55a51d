package codegen

import (
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// Convolutions as matrix-product kernels. A convolution is lowered
// (symbolic/layers.go) to a sum over the channels and the kernel of the
// product of its patches [C, KH, KW, OH, OW] and its kernels [F, C, KH,
// KW], each expanded to [F, C, KH, KW, OH, OW]; its kernels' gradient and
// its input's are the same kind of sum of a product of two expansions
// (reducesum and expand are each other's adjoints), and a batched graph
// appends the sample axis to the patches, the output and their
// gradients. Each of the three is a matrix product of the tensors as they
// lie in memory: with the patches P as the matrix [C·KH·KW, OH·OW(·B)],
//
//	forward        Y[F, OH·OW·B]  = K[F, C·KH·KW] P          GemmNN
//	kernels' grad  dK[F, C·KH·KW] = dY[F, OH·OW·B] Pᵀ        GemmNT
//	patches' grad  dP             = Kᵀ dY[F, OH·OW·B]        GemmTN
//
// and the input's gradient is the unwindow of dP (col2im), emitted as
// before. The patches are a view; as a kernel's operand they are copied
// into the workspace first (im2col), which costs one pass over P for a
// product of F times as many multiply-adds.
//
// contractionOf recognizes any such sum, whichever op made it, when its
// axes fall into the blocks of one kernel product; the others (a batched
// product of two batched values, whose sample axis both factors and the
// result share, or axes that would need moving) stay loops.

// convMin is the smallest contraction, in multiply-adds, computed with a
// kernel. It is below gemmMin: the loops a convolution is otherwise (a sum
// of C·KH·KW terms per output element, in loops of 3) cost more than a
// matrix product's. In testdata/layers.bp's LossGrad, convolutions of
// 2304 and 576 multiply-adds as kernels took 0.68 of the instructions of
// the loops (callgrind, 115.6 k against 170.5 k) and 0.63 of the time
// (paired, 15 rounds); one of 144 made no difference (115.0 k against
// 115.6 k), so it stays loops.
const convMin = 512

// contractionOf returns the kernel product that computes n, if n is a sum
// over some axes of the product of two expansions, reducesum(mul(expand(a),
// expand(b))) (nested expansions and sums composed), whose axes, once axes
// of length 1 are left out, are blocks M, K, N with a's axes M then K (or K
// then M), b's K then N (or N then K), the result's M then N, and each
// block in the same order wherever it appears. a and b are the tensors
// under the expansions.
func contractionOf(n *symbolic.Node) (gemm, bool) {
	if n.Op.Code != symbolic.OpReduceSum {
		return gemm{}, false
	}
	keep := slices.Clone(n.Ints)
	x := n.Args[0]
	for x.Op.Code == symbolic.OpReduceSum { // a sum of a sum: one sum
		for i, k := range keep {
			keep[i] = x.Ints[k]
		}
		x = x.Args[0]
	}
	if x.Op.Code != symbolic.OpMul || !x.Args[0].Shape.Equal(x.Shape) || !x.Args[1].Shape.Equal(x.Shape) {
		return gemm{}, false
	}
	space := x.Shape
	a, aAxes := expanded(x.Args[0])
	b, bAxes := expanded(x.Args[1])
	if a == nil || b == nil {
		return gemm{}, false
	}
	// The class of each axis of the space longer than 1: 'm' (a's alone,
	// kept), 'n' (b's alone, kept) or 'k' (both's, summed).
	inA, inB, kept := make([]bool, len(space)), make([]bool, len(space)), make([]bool, len(space))
	for _, s := range aAxes {
		inA[s] = true
	}
	for _, s := range bAxes {
		inB[s] = true
	}
	for _, s := range keep {
		kept[s] = true
	}
	g := gemm{a: a, b: b, m: 1, n: 1, k: 1}
	class := make([]byte, len(space))
	for s, d := range space {
		switch {
		case d == 1:
		case inA[s] && inB[s] && !kept[s]:
			class[s], g.k = 'k', g.k*d
		case inA[s] && !inB[s] && kept[s]:
			class[s], g.m = 'm', g.m*d
		case inB[s] && !inA[s] && kept[s]:
			class[s], g.n = 'n', g.n*d
		default: // a batch axis, a sum of one factor, a repetition
			return gemm{}, false
		}
	}
	if k, ok := gemmKernel(class, aAxes, bAxes, keep); ok {
		g.kernel = k
		return g, true
	}
	// The result may be Yᵀ's blocks, N then M: then it is b·a.
	for s, c := range class {
		class[s] = map[byte]byte{'m': 'n', 'n': 'm', 'k': 'k', 0: 0}[c]
	}
	if k, ok := gemmKernel(class, bAxes, aAxes, keep); ok {
		g.kernel, g.a, g.b, g.m, g.n = k, b, a, g.n, g.m
		return g, true
	}
	return gemm{}, false
}

// gemmKernel returns the kernel that computes C = A·B, the axes of the
// space being of the classes class (0 for an axis of length 1), A's axes
// aAxes, B's bAxes and C's keep: C's axes must be the M axes then the N
// axes, A's the M then the K axes (GemmNN, GemmNT) or K then M (GemmTN),
// B's K then N (GemmNN, GemmTN) or N then K (GemmNT), each block in one
// order throughout.
func gemmKernel(class []byte, aAxes, bAxes, keep []int) (string, bool) {
	blocks := func(axes []int, c byte) []int {
		var out []int
		for _, s := range axes {
			if class[s] == c {
				out = append(out, s)
			}
		}
		return out
	}
	// pattern is the classes along axes, runs of one class written once.
	pattern := func(axes []int) string {
		var p []byte
		for _, s := range axes {
			if c := class[s]; c != 0 && (len(p) == 0 || p[len(p)-1] != c) {
				p = append(p, c)
			}
		}
		return string(p)
	}
	aM, aK, bK, bN := blocks(aAxes, 'm'), blocks(aAxes, 'k'), blocks(bAxes, 'k'), blocks(bAxes, 'n')
	if !slices.Equal(blocks(keep, 'm'), aM) || !slices.Equal(blocks(keep, 'n'), bN) || !slices.Equal(aK, bK) {
		return "", false
	}
	if p := pattern(keep); p != "mn" && len(p) > 1 {
		return "", false
	}
	pa, pb := pattern(aAxes), pattern(bAxes)
	aT, bT := pa == "km", pb == "nk"
	switch {
	case len(pa) > 2 || len(pb) > 2:
		return "", false
	case !aT && !bT:
		return "GemmNN", true
	case !aT:
		return "GemmNT", true
	case !bT:
		return "GemmTN", true
	}
	return "", false
}

// expanded returns the tensor under a chain of expansions of x and, for
// each of its axes, the axis of x it becomes; nil if an axis is repeated
// (a diagonal) or the tensor is a constant.
func expanded(x *symbolic.Node) (*symbolic.Node, []int) {
	axes := make([]int, len(x.Shape))
	for i := range axes {
		axes[i] = i
	}
	for x.Op.Code == symbolic.OpExpand {
		inner := make([]int, len(x.Ints))
		for i, a := range x.Ints {
			inner[i] = axes[a]
		}
		axes, x = inner, x.Args[0]
	}
	if _, ok := x.Constant(); ok || x.Op.Code == symbolic.OpBroadcast {
		return nil, nil
	}
	seen := map[int]bool{}
	for _, a := range axes {
		if seen[a] {
			return nil, nil
		}
		seen[a] = true
	}
	return x, axes
}

// bigContraction reports whether f computes n with a kernel: n is a
// contraction of at least convMin multiply-adds, one of whose factors has
// three axes or more (a convolution's kernels or patches), and f has a
// workspace for its operands and result (a fn has none). Contractions of
// matrices and vectors are left to the matrix products' own rules
// (gemmOf), and so are those of a single row, column or term, which are
// no matrix product: a batched dot(v, h) or sum(x * R) with a shared v or
// x of any rank is one row times the tile.
func (f *fnGen) bigContraction(n *symbolic.Node) (gemm, bool) {
	if f.wsAlloc == nil || n.Op.Code != symbolic.OpReduceSum {
		return gemm{}, false
	}
	g, ok := contractionOf(n)
	return g, ok && g.kernelSized()
}

// kernelSized reports whether the contraction g is big enough for a kernel
// (bigContraction has the rule).
func (g gemm) kernelSized() bool {
	return max(len(g.a.Shape), len(g.b.Shape)) >= 3 && min(g.m, g.n, g.k) > 1 && g.m*g.n*g.k >= convMin
}

// markContractions records in f.kernelVals the operands and results of
// the kernel contractions among nodes, as markKernelVals does for
// products.
func (f *fnGen) markContractions(nodes []*symbolic.Node) {
	for _, n := range nodes {
		if g, ok := f.bigContraction(n); ok {
			f.kernelVals[n] = true
			f.kernelVals[g.a] = true
			f.kernelVals[g.b] = true
		}
	}
}

// contractionKernel returns the kernel product computing n, if n is a big
// contraction whose operands are fields (as the plan made them).
func (f *fnGen) contractionKernel(n *symbolic.Node) (gemm, bool) {
	g, ok := f.bigContraction(n)
	if !ok {
		return gemm{}, false
	}
	pa, okA := f.operand(g.a)
	pb, okB := f.operand(g.b)
	return g, okA && okB && len(pa.path) > 1 && len(pb.path) > 1
}

// emitContraction writes the contraction g into d with one kernel call.
func (f *fnGen) emitContraction(g gemm, d dest, out symbolic.Shape) {
	pa, _ := f.operand(g.a)
	pb, _ := f.operand(g.b)
	a := firstElem(f.access(pa, nil).c, len(g.a.Shape))
	b := firstElem(f.access(pb, nil).c, len(g.b.Shape))
	if d.op == "+=" {
		f.tally(read, d.p.base())
	}
	c := firstElem(f.lvalue(d.p, nil), len(out))
	f.add(jen.Id(f.fg.kernelName(g.kernel)).Call(jen.Lit(g.m), jen.Lit(g.n), jen.Lit(g.k),
		flatFrom(a, g.a.Shape.Size()), flatFrom(b, g.b.Shape.Size()), flatFrom(c, out.Size()), jen.Lit(d.op == "+=")))
}

// firstElem is the first element of the array c of the given rank.
func firstElem(c *jen.Statement, rank int) *jen.Statement {
	for range rank {
		c = c.Index(jen.Lit(0))
	}
	return c
}

// copyWindow writes the window n (a kernel's patches) into d a row at a
// time with Go's copy, where its last axis reads its argument's last axis
// with stride 1: the patches of a convolution of stride 1, whose rows are
// runs of the padded input (per sample [ow] at kw + ow, over a tile the
// [ow][s] of each row: whole [tile] arrays). An element loop costs some
// twenty instructions an element in bounds checks and index arithmetic.
// It reports false, having emitted nothing, where that does not hold.
func (f *fnGen) copyWindow(n *symbolic.Node, d dest) bool {
	x := n.Args[0]
	px, ok := f.slots[x]
	if !ok || d.op != "=" || len(n.Shape) < 2 {
		return false
	}
	offsets, terms := symbolic.WindowSpec(n)
	// only reports whether window axis w is read by one term alone, of
	// stride 1, into x's axis a.
	only := func(w, a int) bool {
		uses := 0
		for b, ts := range terms {
			for _, t := range ts {
				if t.Axis == w {
					uses++
					if b != a || t.Stride != 1 {
						return false
					}
				}
			}
		}
		return uses == 1
	}
	L, A := len(n.Shape), len(x.Shape)
	if !only(L-1, A-1) || n.Shape[L-1] < 4 {
		return false
	}
	rows := L - 1 // the window's axes a row is indexed by
	srcAxis := A - 1
	whole := offsets[A-1] == 0 && len(terms[A-1]) == 1 && x.Shape[A-1] == n.Shape[L-1]
	if whole && A >= 2 && only(L-2, A-2) {
		rows, srcAxis = L-2, A-2 // rows of whole arrays of x's last axis
	}
	length := n.Shape[rows]
	f.loopNest(n.Shape[:rows], loopVars(n.Shape[:rows], func(int) string { return f.locals.fresh("i") }), func(idx []ix) jen.Code {
		full := append(slices.Clone(idx), make([]ix, L-rows)...)
		for i := rows; i < L; i++ {
			full[i] = cix(0)
		}
		src := windowIndex(n, full)
		start := src[srcAxis]
		f.count([]ix{start})
		from := f.access(px, src[:srcAxis]).c.Index(jen.Id(start.String()), jen.Id(start.plus(length).String()))
		to := f.lvalue(d.p, idx).Index(jen.Op(":"))
		return jen.Copy(to, from)
	})
	return true
}
