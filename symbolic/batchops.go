package symbolic

import (
	"fmt"
	"math"
	"slices"
)

// The ops of batched graphs (batch.go). A model is written for one sample;
// its batched form computes a tile of samples at once, each value with a
// last axis of one element per sample. That needs a few ops that the
// language does not (yet) spell: repeating a tensor along new axes,
// reducing some axes of a tensor and keeping others, and indexing with a
// different integer per sample, and its adjoint.
var opExpand, opReduceSum, opReduceMax, opTake, opPut *Op

func batchOps() {
	// expand(x) reads x[o[a_0], o[a_1], ...] at output index o, where
	// a = Ints maps each axis of x to an axis of the output: a broadcast
	// along the output's other axes, and a permutation of x's own if a is
	// not increasing. Its adjoint sums the broadcast axes away.
	opExpand = &Op{Code: OpExpand, Name: "expand", Kind: View, Arity: 1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return expandAdjoint(g, n, d) }}
	// reducesum and reducemax fold the axes of x that are not in Ints (the
	// kept axes, increasing). reducemax is only ever a softmax's shift,
	// like maxall, so no gradient flows through it.
	opReduceSum = &Op{Code: OpReduceSum, Name: "reducesum", Kind: Partial, Arity: 1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Expand(d, n.Args[0].Shape, n.Ints) }}
	opReduceMax = &Op{Code: OpReduceMax, Name: "reducemax", Kind: Partial, Arity: 1}
	// take is index with per-sample positions: Ints are as index's, and a
	// position given at run time is an integer input that holds one value
	// per sample (shape [B]), or a scalar. out[r..., s] is x[i(s)..., r...],
	// followed by s when x has a sample axis of its own.
	opTake = &Op{Code: OpTake, Name: "take", Kind: View, Arity: -1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			ints, own := takeInts(n)
			return g.Put(d, ints, own, n.Args[0].Shape, n.Args[1:]...)
		}}
	// put is take's adjoint: a tensor of x's shape that is zero but for
	// the rows the samples select, to which their values are added (two
	// samples may select one row).
	opPut = &Op{Code: OpPut, Name: "put", Kind: ScatterAdd, Arity: -1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			ints, own := takeInts(n)
			return g.Take(d, ints, own, n.Args[1:]...)
		}}
	for _, op := range []*Op{opExpand, opReduceSum, opReduceMax, opTake, opPut, batchmmOp()} {
		register(op)
	}
}

// Expand repeats x into shape: axis i of x becomes axis axes[i] of the
// result, whose other axes repeat it. An expansion that changes nothing is
// x, and one of a scalar is Broadcast.
func (g *Graph) Expand(x *Node, shape Shape, axes []int) *Node {
	if len(axes) != len(x.Shape) {
		panic(fmt.Sprintf("expand: %d axes for shape %v", len(axes), x.Shape))
	}
	for i, a := range axes {
		if a < 0 || a >= len(shape) || shape[a] != x.Shape[i] {
			panic(fmt.Sprintf("expand: axis %d of %v is not axis %d of %v", i, x.Shape, a, shape))
		}
	}
	if v, ok := x.Constant(); ok { // one value repeated: still one value
		return g.Broadcast(g.Const(v), shape)
	}
	switch {
	case len(x.Shape) == 0:
		return g.Broadcast(x, shape)
	case x.Shape.Equal(shape) && isIdentity(axes):
		return x
	}
	return g.node(opExpand, []*Node{x}, slices.Clone(shape), 0, slices.Clone(axes), nil)
}

func isIdentity(axes []int) bool {
	for i, a := range axes {
		if a != i {
			return false
		}
	}
	return true
}

// expandAdjoint sums d over the axes expand n repeated x along, and puts
// the rest back in x's order.
func expandAdjoint(g *Graph, n, d *Node) *Node {
	x := n.Args[0]
	kept := slices.Sorted(slices.Values(n.Ints))
	r := g.ReduceSum(d, kept)
	perm := make([]int, len(kept)) // axis j of r is axis perm[j] of x
	for j, a := range kept {
		perm[j] = slices.Index(n.Ints, a)
	}
	return g.Expand(r, x.Shape, perm)
}

// ReduceSum sums x over every axis not in keep (increasing); the result's
// axes are the kept ones, in order.
func (g *Graph) ReduceSum(x *Node, keep []int) *Node { return g.reduceAxes(opReduceSum, x, keep) }

// ReduceMax is the largest element of x over every axis not in keep,
// through which no gradient flows.
func (g *Graph) ReduceMax(x *Node, keep []int) *Node { return g.reduceAxes(opReduceMax, x, keep) }

func (g *Graph) reduceAxes(op *Op, x *Node, keep []int) *Node {
	if !slices.IsSorted(keep) || len(keep) > 0 && (keep[0] < 0 || keep[len(keep)-1] >= len(x.Shape)) {
		panic(fmt.Sprintf("%s: axes %v of %v", op.Name, keep, x.Shape))
	}
	switch {
	case len(keep) == len(x.Shape):
		return x
	case len(keep) == 0 && op == opReduceSum:
		return g.Sum(x)
	case len(keep) == 0:
		return g.MaxAll(x)
	}
	shape := make(Shape, len(keep))
	for i, a := range keep {
		shape[i] = x.Shape[a]
	}
	return g.node(op, []*Node{x}, shape, 0, slices.Clone(keep), nil)
}

// Take is x indexed by ints as Index does, where some positions given at
// run time (dyn) hold one value per sample: an integer input of shape [B].
// own says whether x has a sample axis of its own, its last (an input, or
// a value computed from one), or is shared by all samples (a parameter).
// The result has x's remaining axes and then the sample axis. Its Ints are
// ints followed by 1 if own, else 0.
func (g *Graph) Take(x *Node, ints []int, own bool, dyn ...*Node) *Node {
	b := 0
	for _, d := range dyn {
		if len(d.Shape) == 1 {
			b = d.Shape[0]
		}
	}
	if b == 0 {
		panic("take: no per-sample position")
	}
	shape := slices.Clone(x.Shape[len(ints):])
	if !own {
		shape = append(shape, b)
	}
	if v, ok := x.Constant(); ok { // every row is the same
		return g.Broadcast(g.Const(v), shape)
	}
	return g.node(opTake, append([]*Node{x}, dyn...), shape, 0, append(slices.Clone(ints), flag(own)), nil)
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// takeInts splits the Ints of a take or put into the index positions and
// whether the indexed tensor has a sample axis of its own.
func takeInts(n *Node) (ints []int, own bool) {
	return n.Ints[:len(n.Ints)-1], n.Ints[len(n.Ints)-1] == 1
}

// TakeInts is takeInts for code generation.
func TakeInts(n *Node) (ints []int, own bool) { return takeInts(n) }

// Put is the tensor of the given shape that is zero but for the rows
// Take(result, ints, own, dyn...) would read, to which x's are added.
func (g *Graph) Put(x *Node, ints []int, own bool, shape Shape, dyn ...*Node) *Node {
	return g.node(opPut, append([]*Node{x}, dyn...), slices.Clone(shape), 0, append(slices.Clone(ints), flag(own)), nil)
}

// unravel returns the multi-index of flat position i in shape.
func unravel(i int, shape Shape) []int {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		idx[k] = i % shape[k]
		i /= shape[k]
	}
	return idx
}

// ravel returns the flat position of idx in shape.
func ravel(idx []int, shape Shape) int {
	off := 0
	for k, i := range idx {
		off = off*shape[k] + i
	}
	return off
}

// evalExpand, evalPartial, evalTake and evalPut are the interpreter's
// (eval.go) forms of the batch ops.
func (ev *evaluator) evalExpand(n *Node, x []float64) []float64 {
	out := make([]float64, n.Shape.Size())
	src := make([]int, len(n.Ints))
	for i := range out {
		o := unravel(i, n.Shape)
		for k, a := range n.Ints {
			src[k] = o[a]
		}
		out[i] = x[ravel(src, n.Args[0].Shape)]
	}
	return out
}

func (ev *evaluator) evalPartial(n *Node, f *frame) []float64 {
	x := ev.value(n.Args[0], f)
	out := make([]float64, n.Shape.Size())
	if n.Op != opReduceSum { // reducemax, amax
		for i := range out {
			out[i] = math.Inf(-1)
		}
	}
	kept := make([]int, len(n.Ints))
	for i, v := range x {
		idx := unravel(i, n.Args[0].Shape)
		for k, a := range n.Ints {
			kept[k] = idx[a]
		}
		j := ravel(kept, n.Shape)
		if n.Op != opReduceSum {
			out[j] = max(out[j], v)
		} else {
			out[j] += v
		}
	}
	return out
}

// takeRows calls visit for each sample s with the flat offset of the row
// of x (of shape xs, indexed by n's Ints and per-sample positions) that
// sample s selects, the row's size, and whether x has a sample axis.
func (ev *evaluator) takeRows(n *Node, xs Shape, b int, f *frame, visit func(s, off, size int, own bool)) {
	dyn := make([][]float64, len(n.Args)-1)
	for i, d := range n.Args[1:] {
		dyn[i] = ev.value(d, f)
	}
	ints, own := takeInts(n)
	size := Shape(xs[len(ints):]).Size()
	for s := range b {
		off, k := 0, 0
		for a, i := range ints {
			if i < 0 {
				v := dyn[k][0]
				if len(n.Args[1+k].Shape) == 1 {
					v = dyn[k][s]
				}
				k++
				i = int(v)
				if float64(i) != v || i < 0 || i >= xs[a] {
					panic(fmt.Sprintf("index %v is outside dimension %d of %v", v, a+1, xs))
				}
			}
			off = off*xs[a] + i
		}
		visit(s, off*size, size, own)
	}
}

func (ev *evaluator) evalTake(n *Node, f *frame) []float64 {
	x := ev.value(n.Args[0], f)
	b := n.Shape[len(n.Shape)-1]
	out := make([]float64, n.Shape.Size())
	ev.takeRows(n, n.Args[0].Shape, b, f, func(s, off, size int, own bool) {
		if own { // the row holds [r..., b]: sample s's column
			for r := 0; r < size/b; r++ {
				out[r*b+s] = x[off+r*b+s]
			}
			return
		}
		for r := range size {
			out[r*b+s] = x[off+r]
		}
	})
	return out
}

func (ev *evaluator) evalPut(n *Node, f *frame) []float64 {
	d := ev.value(n.Args[0], f)
	b := n.Args[0].Shape[len(n.Args[0].Shape)-1]
	out := make([]float64, n.Shape.Size())
	ev.takeRows(n, n.Shape, b, f, func(s, off, size int, own bool) {
		if own {
			for r := 0; r < size/b; r++ {
				out[off+r*b+s] += d[r*b+s]
			}
			return
		}
		for r := range size {
			out[off+r] += d[r*b+s]
		}
	})
	return out
}
