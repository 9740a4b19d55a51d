package symbolic

import (
	"math"

	"github.com/backpropgen/backpropgen/internal/opmath"
)

// moreOps fills in the rows of the elementwise functions added with the
// second round of built-ins (see "Adding an op" in docs/DESIGN.md).
func moreOps() {
	opCosh = unary(OpCosh, "cosh", math.Cosh,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Unary(opSinh, x)) })
	opSinh = unary(OpSinh, "sinh", math.Sinh,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Unary(opCosh, x)) })
	opAsin = unary(OpAsin, "asin", math.Asin,
		func(g *Graph, x, n, d *Node) *Node { return g.Div(d, oneMinusSquareRoot(g, x)) })
	opAcos = unary(OpAcos, "acos", math.Acos,
		func(g *Graph, x, n, d *Node) *Node { return g.Neg(g.Div(d, oneMinusSquareRoot(g, x))) })
	opExpm1 = unary(OpExpm1, "expm1", math.Expm1,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Unary(opExp, x)) })
	opLog2 = unary(OpLog2, "log2", math.Log2,
		func(g *Graph, x, n, d *Node) *Node { return g.Div(d, g.Mul(x, g.Const(math.Ln2))) })
	opLog10 = unary(OpLog10, "log10", math.Log10,
		func(g *Graph, x, n, d *Node) *Node { return g.Div(d, g.Mul(x, g.Const(math.Ln10))) })
	opSquare = unary(OpSquare, "square", opmath.Sq,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Mul(g.Const(2), x)) })
	// rsqrt' = -x^(-3/2)/2 = -n/(2x), from the saved output.
	opRsqrt = unary(OpRsqrt, "rsqrt", opmath.Rsqrt,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Mul(g.Const(-0.5), g.Div(n, x))) })
	// gelu' = Φ(x) + x·φ(x).
	opGelu = unary(OpGelu, "gelu", opmath.Gelu,
		func(g *Graph, x, n, d *Node) *Node {
			return g.Mul(d, g.Add(g.Unary(opNormCDF, x), g.Mul(x, normalDensity(g, x))))
		})
	// silu' = σ + x·σ(1−σ) = σ·(1 + x·(1−σ)).
	opSilu = unary(OpSilu, "silu", opmath.Silu,
		func(g *Graph, x, n, d *Node) *Node {
			s := g.Unary(opSigmoid, x)
			return g.Mul(d, g.Mul(s, g.Add(g.Const(1), g.Mul(x, g.Sub(g.Const(1), s)))))
		})
	// softsign' = 1/(1+|x|)².
	opSoftsign = unary(OpSoftsign, "softsign", opmath.Softsign,
		func(g *Graph, x, n, d *Node) *Node {
			t := g.Add(g.Const(1), g.Unary(opAbs, x))
			return g.Div(d, g.Mul(t, t))
		})
	binaryFunctions()
}

// oneMinusSquareRoot is √(1 − x²), the denominator of asin' and acos'.
func oneMinusSquareRoot(g *Graph, x *Node) *Node {
	return g.Unary(opSqrt, g.Sub(g.Const(1), g.Mul(x, x)))
}

// binaryFunctions fills in elu and huber, elementwise functions of two
// arguments.
func binaryFunctions() {
	// elu(x, alpha): ∂/∂x is eluGrad (alpha at 0), ∂/∂alpha is eˣ − 1 for
	// x <= 0, else 0: expm1(min(x, 0)).
	opElu = &Op{Code: OpElu, Name: "elu", Kind: Elementwise, Arity: 2,
		Eval: func(x ...float64) float64 { return opmath.Elu(x[0], x[1]) },
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			x, alpha := n.Args[0], n.Args[1]
			if i == 0 {
				return g.Mul(d, g.Binary(opEluGrad, x, alpha))
			}
			return g.Mul(d, g.Unary(opExpm1, g.Binary(opMin, x, g.Const(0))))
		}}
	opEluGrad = &Op{Code: OpEluGrad, Name: "elugrad", Kind: Elementwise, Arity: 2,
		Eval: func(x ...float64) float64 { return opmath.EluGrad(x[0], x[1]) }}
	// huber(r, delta), of the residual r = a − b: ∂/∂r is r clipped to
	// [−delta, delta], ∂/∂delta is |r| − delta outside it, else 0.
	opHuber = &Op{Code: OpHuber, Name: "huber", Kind: Elementwise, Arity: 2,
		Eval: func(x ...float64) float64 { return opmath.Huber(x[0], x[1]) },
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			r, delta := n.Args[0], n.Args[1]
			if i == 0 {
				return g.Mul(d, g.Binary(opMin, g.Binary(opMax, r, g.Neg(delta)), delta))
			}
			return g.Mul(d, g.Unary(opRelu, g.Sub(g.Unary(opAbs, r), delta)))
		}}
}
