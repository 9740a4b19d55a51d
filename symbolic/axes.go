package symbolic

import (
	"fmt"
	"slices"
)

// Axes: broadcasting a tensor along the leading axes of another, and the
// reductions and normalizers along one axis (sum(x, axis), amax,
// logsumexp, softmax, log_softmax). They lower to the ops of batched
// graphs (batchops.go): expand, reducesum and reducemax, and amax, a
// maximum over some axes through which the gradient flows.
var opAMax *Op

func axisOps() {
	// amax folds the axes of x not in Ints (the kept axes, increasing) by
	// their maximum, like reducemax; its gradient goes to the elements
	// equal to the maximum, shared equally among them when they tie (as
	// PyTorch's amax): d/count · [x = max].
	opAMax = &Op{Code: OpAMax, Name: "amax", Kind: Partial, Arity: 1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			x := n.Args[0]
			mask := g.Binary(opGE, x, g.Expand(n, x.Shape, n.Ints))
			count := g.ReduceSum(mask, n.Ints)
			return g.Mul(g.Expand(g.Div(d, count), x.Shape, n.Ints), mask)
		}}
	register(opAMax)
}

// AMax is the largest element of x over every axis not in keep
// (increasing), with a gradient (see opAMax).
func (g *Graph) AMax(x *Node, keep []int) *Node {
	if !slices.IsSorted(keep) || len(keep) > 0 && (keep[0] < 0 || keep[len(keep)-1] >= len(x.Shape)) {
		panic(fmt.Sprintf("amax: axes %v of %v", keep, x.Shape))
	}
	if len(keep) == len(x.Shape) {
		return x
	}
	shape := make(Shape, len(keep))
	for i, a := range keep {
		shape[i] = x.Shape[a]
	}
	return g.node(opAMax, []*Node{x}, shape, 0, slices.Clone(keep), nil)
}

// otherAxes lists the axes 0..rank-1 but axis.
func otherAxes(rank, axis int) []int {
	var keep []int
	for a := range rank {
		if a != axis {
			keep = append(keep, a)
		}
	}
	return keep
}

// SumAxis sums x along axis.
func (g *Graph) SumAxis(x *Node, axis int) *Node {
	return g.ReduceSum(x, otherAxes(len(x.Shape), axis))
}

// shiftedAxis is shifted along one axis of x: m = max along it (no
// gradient), x − m, exp(x − m) and Σ exp(x − m) along it, with m and the
// sum over the other axes (keep) and x − m and its exponential of x's
// shape.
func (g *Graph) shiftedAxis(x *Node, axis int) (keep []int, m, xm, e, s *Node) {
	keep = otherAxes(len(x.Shape), axis)
	m = g.ReduceMax(x, keep)
	xm = g.Sub(x, g.Expand(m, x.Shape, keep))
	e = g.Unary(opExp, xm)
	return keep, m, xm, e, g.ReduceSum(e, keep)
}

// LogSumExpAxis is log Σ exp(x) along axis: m + log Σ exp(x − m). For a
// vector it is LogSumExp.
func (g *Graph) LogSumExpAxis(x *Node, axis int) *Node {
	if len(x.Shape) == 1 {
		return g.LogSumExp(x)
	}
	_, m, _, _, s := g.shiftedAxis(x, axis)
	return g.Add(m, g.Unary(opLog, s))
}

// SoftmaxAxis is exp(x − m) / Σ exp(x − m) along axis.
func (g *Graph) SoftmaxAxis(x *Node, axis int) *Node {
	if len(x.Shape) == 1 {
		return g.Softmax(x)
	}
	keep, _, _, e, s := g.shiftedAxis(x, axis)
	return g.Div(e, g.Expand(s, x.Shape, keep))
}

// LogSoftmaxAxis is (x − m) − log Σ exp(x − m) along axis.
func (g *Graph) LogSoftmaxAxis(x *Node, axis int) *Node {
	if len(x.Shape) == 1 {
		return g.LogSoftmax(x)
	}
	keep, _, xm, _, s := g.shiftedAxis(x, axis)
	return g.Sub(xm, g.Expand(g.Unary(opLog, s), x.Shape, keep))
}

// Broadcasting. Two shapes broadcast when they are equal, when one is a
// scalar, or when one is the trailing axes of the other ([n] with [m, n],
// [m, n] with [l, m, n]): the smaller is repeated along the larger's
// leading axes. No axis of size 1 is stretched.

// BroadcastShapes returns the shape a op b has, or why a and b do not
// broadcast: a sentence naming the axis that differs.
func BroadcastShapes(a, b Shape) (Shape, string) {
	if s, ok := broadcastShape(a, b); ok {
		return s, ""
	}
	small, big := a, b
	if len(a) > len(b) {
		small, big = b, a
	}
	lead := len(big) - len(small)
	for k := len(small) - 1; k >= 0; k-- {
		if small[k] != big[lead+k] {
			if lead == 0 {
				return nil, fmt.Sprintf("axis %d has %d elements in one and %d in the other", k, a[k], b[k])
			}
			return nil, fmt.Sprintf("%v is repeated along the leading axes of %v, whose axis %d has %d elements, not %d", small, big, lead+k, big[lead+k], small[k])
		}
	}
	return big, ""
}

// BroadcastTo repeats x, whose shape is shape's trailing axes (or a
// scalar, left as it is), along shape's leading axes.
func (g *Graph) BroadcastTo(x *Node, shape Shape) *Node {
	if len(x.Shape) == 0 || len(x.Shape) == len(shape) {
		return x
	}
	lead := len(shape) - len(x.Shape)
	axes := make([]int, len(x.Shape))
	for i := range axes {
		axes[i] = lead + i
	}
	return g.Expand(x, shape, axes)
}
