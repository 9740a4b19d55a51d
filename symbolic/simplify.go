package symbolic

import (
	"math"
	"slices"
)

// A rule rewrites op(args) to an existing or simpler node. Rules are exact in
// floating point: x*1 → x and x+0 → x hold for every x, but 0*x → 0 does not
// (NaN, ±Inf) and is not here. Zero adjoints never become nodes at all:
// Differentiate leaves them out.
type rule struct {
	op   *Op
	name string
	// apply returns the replacement, or nil if the rule does not match.
	apply func(g *Graph, args []*Node, shape Shape, ints []int) *Node
}

var (
	rules     []rule
	rulesByOp map[*Op][]rule
)

func init() {
	rules = []rule{
		// x + (-0) is x for every x, -0 included; x + 0 is not (-0 + 0 = +0).
		{opAdd, "-0+x → x", func(g *Graph, a []*Node, s Shape, _ []int) *Node { return ifNegZero(a[0], a[1], s) }},
		{opAdd, "x+(-0) → x", func(g *Graph, a []*Node, s Shape, _ []int) *Node { return ifNegZero(a[1], a[0], s) }},
		{opAdd, "x+(-y) → x-y", func(g *Graph, a []*Node, s Shape, _ []int) *Node {
			if a[1].Op == opNeg {
				return g.Sub(a[0], a[1].Args[0])
			}
			return nil
		}},
		{opAdd, "(-x)+y → y-x", func(g *Graph, a []*Node, s Shape, _ []int) *Node {
			if a[0].Op == opNeg {
				return g.Sub(a[1], a[0].Args[0])
			}
			return nil
		}},
		{opSub, "x-(-y) → x+y", func(g *Graph, a []*Node, s Shape, _ []int) *Node {
			if a[1].Op == opNeg {
				return g.Add(a[0], a[1].Args[0])
			}
			return nil
		}},
		{opSub, "x-0 → x", func(g *Graph, a []*Node, s Shape, _ []int) *Node { // x - (+0) is x, -0 included
			if isPosZero(a[1]) && a[0].Shape.Equal(s) {
				return a[0]
			}
			return nil
		}},
		// (-0) - x is -x for every x; 0 - x is not (0 - 0 = +0, -0 = -0).
		{opSub, "-0-x → -x", func(g *Graph, a []*Node, s Shape, _ []int) *Node {
			if isNegZero(a[0]) && a[1].Shape.Equal(s) {
				return g.Neg(a[1])
			}
			return nil
		}},
		{opMul, "1*x → x", func(g *Graph, a []*Node, s Shape, _ []int) *Node { return ifConst(a[0], 1, a[1], s) }},
		{opMul, "x*1 → x", func(g *Graph, a []*Node, s Shape, _ []int) *Node { return ifConst(a[1], 1, a[0], s) }},
		{opMul, "-1*x → -x", func(g *Graph, a []*Node, s Shape, _ []int) *Node {
			if a[0].IsConst(-1) && a[1].Shape.Equal(s) {
				return g.Neg(a[1])
			}
			return nil
		}},
		{opMul, "x*-1 → -x", func(g *Graph, a []*Node, s Shape, _ []int) *Node {
			if a[1].IsConst(-1) && a[0].Shape.Equal(s) {
				return g.Neg(a[0])
			}
			return nil
		}},
		{opMul, "(-x)*y → -(x*y)", func(g *Graph, a []*Node, s Shape, _ []int) *Node {
			if a[0].Op == opNeg {
				return g.Neg(g.Mul(a[0].Args[0], a[1]))
			}
			return nil
		}},
		{opMul, "x*(-y) → -(x*y)", func(g *Graph, a []*Node, s Shape, _ []int) *Node {
			if a[1].Op == opNeg {
				return g.Neg(g.Mul(a[0], a[1].Args[0]))
			}
			return nil
		}},
		{opDiv, "x/1 → x", func(g *Graph, a []*Node, s Shape, _ []int) *Node { return ifConst(a[1], 1, a[0], s) }},
		{opPow, "x^1 → x", func(g *Graph, a []*Node, s Shape, _ []int) *Node { return ifConst(a[1], 1, a[0], s) }},
		{opNeg, "-(-x) → x", func(g *Graph, a []*Node, s Shape, _ []int) *Node {
			if a[0].Op == opNeg {
				return a[0].Args[0]
			}
			return nil
		}},
		{opTranspose, "(xᵀ)ᵀ → x", func(g *Graph, a []*Node, s Shape, _ []int) *Node {
			if a[0].Op == opTranspose {
				return a[0].Args[0]
			}
			return nil
		}},
		{opSum, "sum(scalar) → scalar", func(g *Graph, a []*Node, s Shape, _ []int) *Node {
			if a[0].IsScalar() {
				return a[0]
			}
			return nil
		}},
		{opBroadcast, "broadcast to own shape → x", func(g *Graph, a []*Node, s Shape, _ []int) *Node {
			if a[0].Shape.Equal(s) {
				return a[0]
			}
			return nil
		}},
		{opIndex, "x[] → x", func(g *Graph, a []*Node, s Shape, ints []int) *Node {
			if len(ints) == 0 {
				return a[0]
			}
			return nil
		}},
		{opIndex, "scatter(x, k)[k] → x", func(g *Graph, a []*Node, s Shape, ints []int) *Node {
			if a[0].Op == opScatter && slices.Equal(a[0].Ints, ints) && slices.Equal(a[0].Args[1:], a[1:]) {
				return a[0].Args[0]
			}
			return nil
		}},
		{opStopGrad, "stop_gradient(const) → const", func(g *Graph, a []*Node, s Shape, _ []int) *Node {
			if a[0].Op == opConst {
				return a[0]
			}
			return nil
		}},
	}

	rulesByOp = map[*Op][]rule{}
	for _, r := range rules {
		rulesByOp[r.op] = append(rulesByOp[r.op], r)
	}
}

// simplify returns a replacement for op(args), or nil to make the node.
func simplify(g *Graph, op *Op, args []*Node, shape Shape, ints []int) *Node {
	// An elementwise op broadcasts scalars itself: broadcast(c) ⊙ x is c ⊙ x,
	// which lets the rules below see constants.
	if op.Kind == Elementwise && op != opAddN && len(args) == 2 {
		for i, a := range args {
			if a.Op == opBroadcast && args[1-i].Shape.Equal(shape) {
				b := slices.Clone(args)
				b[i] = a.Args[0]
				return g.Binary(op, b[0], b[1])
			}
		}
	}
	if n := fold(g, op, args, shape); n != nil {
		return n
	}
	// An elementwise op of scalars and broadcast scalars is the broadcast
	// of the op of the scalars: the same value in every element, computed
	// once (ones(3) * x is broadcast(1 * x), which x*1 → x simplifies).
	if op.Kind == Elementwise && len(shape) > 0 && scalarsOnly(args) {
		s := make([]*Node, len(args))
		for i, a := range args {
			s[i] = a
			if a.Op == opBroadcast {
				s[i] = a.Args[0]
			}
		}
		return g.Broadcast(g.node(op, s, nil, 0, nil, nil), shape)
	}
	for _, r := range rulesByOp[op] {
		if n := r.apply(g, args, shape, ints); n != nil {
			return n
		}
	}
	return nil
}

// scalarsOnly reports whether every one of args is a scalar or a
// broadcast scalar.
func scalarsOnly(args []*Node) bool {
	for _, a := range args {
		if !a.IsScalar() && a.Op != opBroadcast {
			return false
		}
	}
	return true
}

// constValue reports whether every element of n is one constant, and
// which: a constant, or a constant broadcast over a shape.
func constValue(n *Node) (float64, bool) {
	switch {
	case n.Op == opConst:
		return n.Val, true
	case n.Op == opBroadcast && n.Args[0].Op == opConst:
		return n.Args[0].Val, true
	}
	return 0, false
}

// fold computes, at compile time and in float64 exactly as the generated
// code would at run time, an op whose arguments are all constants: an
// elementwise op of constant tensors, or the sum or maximum of one. So the
// generated Go never holds an operation between two literals, which Go would
// evaluate as an exact untyped constant (1/2 is the integer 0, 1/0 does not
// compile) rather than in float64.
func fold(g *Graph, op *Op, args []*Node, shape Shape) *Node {
	if len(args) == 0 {
		return nil
	}
	vals := make([]float64, len(args))
	for i, a := range args {
		v, ok := constValue(a)
		if !ok {
			return nil
		}
		vals[i] = v
	}
	var v float64
	switch {
	case op.Kind == Elementwise && op.Eval != nil:
		v = op.Eval(vals...)
	case op == opSum: // added one element at a time, as a loop would
		v = vals[0]
		for range args[0].Shape.Size() - 1 {
			v += vals[0]
		}
	case op == opMaxAll:
		v = vals[0]
	default:
		return nil
	}
	if len(shape) == 0 {
		return g.Const(v)
	}
	return g.Broadcast(g.Const(v), shape)
}

func isNegZero(n *Node) bool { return n.Op == opConst && n.Val == 0 && math.Signbit(n.Val) }
func isPosZero(n *Node) bool { return n.Op == opConst && n.Val == 0 && !math.Signbit(n.Val) }

// ifNegZero returns x if c is the constant -0 and x already has the
// result's shape.
func ifNegZero(c, x *Node, shape Shape) *Node {
	if isNegZero(c) && x.Shape.Equal(shape) {
		return x
	}
	return nil
}

// ifConst returns x if c is the constant v and x already has the result's
// shape (a rule must not change the shape of a broadcast).
func ifConst(c *Node, v float64, x *Node, shape Shape) *Node {
	if c.IsConst(v) && x.Shape.Equal(shape) {
		return x
	}
	return nil
}
