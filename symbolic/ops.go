package symbolic

import (
	"math"
	"slices"

	"github.com/backpropgen/backpropgen/internal/opmath"
)

// Kind says how an op touches its arguments' elements, which is what code
// generation needs to know to emit it as loops.
type Kind int

const (
	Leaf        Kind = iota // var, const
	Elementwise             // out[i] = f(a[i], b[i]); a scalar argument is broadcast
	View                    // out reads one element of its argument: index, transpose, broadcast
	Reduce                  // out is a scalar computed by a loop over the argument: sum, maxall
	MatMul                  // out[i,j] = sum_k a[i,k] b[k,j], with vector forms
	Outer                   // out[i,j] = a[i] b[j]
	Scatter                 // out is zero but for one element or row
	LoopK                   // a for loop (see Loop)
	Proj                    // a loop's final value of one state
	Partial                 // out[kept axes] folds the other axes of the argument: reducesum, reducemax
	ScatterAdd              // out is zero but for rows that a per-sample index selects, added to: put
)

// OpCode identifies an op. Other packages' tables (codegen's Go forms) are
// keyed by it; nothing outside the IR compares op names.
type OpCode int

const (
	OpVar OpCode = iota
	OpConst
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpPow
	OpPowLog
	OpMin
	OpMax
	OpGE
	OpGT
	OpNeg
	OpExp
	OpLog
	OpLog1p
	OpSqrt
	OpSin
	OpCos
	OpTan
	OpTanh
	OpAtan
	OpErf
	OpNormCDF
	OpAbs
	OpSigmoid
	OpRelu
	OpSoftplus
	OpStep
	OpSign
	OpStopGrad
	OpSum
	OpMaxAll
	OpMatMul
	OpOuter
	OpTranspose
	OpIndex
	OpBroadcast
	OpScatter
	OpAddN
	OpCosh
	OpSinh
	OpAsin
	OpAcos
	OpExpm1
	OpLog2
	OpLog10
	OpSquare
	OpRsqrt
	OpGelu
	OpSilu
	OpSoftsign
	OpElu
	OpEluGrad
	OpHuber
	OpLoop
	OpLoopOut
	OpExpand
	OpReduceSum
	OpReduceMax
	OpTake
	OpPut
	OpAMax
	OpWindow
	OpUnwindow
	OpShift
	OpGather
	OpUngather
	OpSlide
	OpUnslide
	OpBMatMul
	numOpCodes
)

// Op is one row of the operator table: what the IR knows about an
// operation. How it prints in Go is codegen's table, keyed by Code.
type Op struct {
	Code  OpCode
	Name  string
	Kind  Kind
	Arity int // -1 for any number
	// Eval computes the op on scalars, for constant folding; nil if the op
	// is never folded.
	Eval func(x ...float64) float64
	// Deriv returns the adjoint contribution to n.Args[i], given the adjoint
	// d of n (same shape as n). Broadcast scalars are summed by the caller.
	// A nil Deriv means no gradient flows through the op.
	Deriv func(g *Graph, n, d *Node, i int) *Node
}

// The operator table. It is filled in by init because derivative rules
// build nodes, and building a node consults the rules and ops: a cycle Go
// forbids among package variables.
var opVar, opConst, opAdd, opSub, opMul, opDiv, opPow, opMin, opMax, opGE, opGT, opNeg, opExp, opLog, opLog1p, opSqrt, opSin, opCos, opTan, opTanh, opAtan, opErf, opNormCDF, opAbs, opSigmoid, opRelu, opSoftplus, opStep, opSign, opStopGrad, opSum, opMaxAll, opPowLog, opMatMul, opOuter, opTranspose, opIndex, opBroadcast, opScatter, opAddN,
	opCosh, opSinh, opAsin, opAcos, opExpm1, opLog2, opLog10, opSquare, opRsqrt, opGelu, opSilu, opSoftsign, opElu, opEluGrad, opHuber *Op

func init() {
	opVar = &Op{Code: OpVar, Name: "var", Kind: Leaf}
	opConst = &Op{Code: OpConst, Name: "const", Kind: Leaf}

	opAdd = &Op{Code: OpAdd, Name: "add", Kind: Elementwise, Arity: 2,
		Eval:  func(x ...float64) float64 { return x[0] + x[1] },
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return d }}
	opSub = &Op{Code: OpSub, Name: "sub", Kind: Elementwise, Arity: 2,
		Eval: func(x ...float64) float64 { return x[0] - x[1] },
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			if i == 0 {
				return d
			}
			return g.Neg(d)
		}}
	opMul = &Op{Code: OpMul, Name: "mul", Kind: Elementwise, Arity: 2,
		Eval:  func(x ...float64) float64 { return x[0] * x[1] },
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Mul(d, n.Args[1-i]) }}
	opDiv = &Op{Code: OpDiv, Name: "div", Kind: Elementwise, Arity: 2,
		Eval: func(x ...float64) float64 { return x[0] / x[1] },
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			b := n.Args[1]
			if i == 0 {
				return g.Div(d, b)
			}
			return g.Neg(g.Div(g.Mul(d, n), b)) // -d·a/b² = -d·n/b
		}}
	opPow = &Op{Code: OpPow, Name: "pow", Kind: Elementwise, Arity: 2,
		Eval: func(x ...float64) float64 { return math.Pow(x[0], x[1]) },
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			a, b := n.Args[0], n.Args[1]
			if i == 0 {
				return g.Mul(d, g.Mul(b, g.Binary(opPow, a, g.Sub(b, g.Const(1)))))
			}
			// ∂(a^b)/∂b = a^b·log a, taken as 0 where a = 0 (as JAX does):
			// there log a is -Inf and the product NaN, and one zero in the
			// data would ruin the gradient of a fitted exponent.
			return g.Mul(d, g.Binary(opPowLog, n, a))
		}}
	// powlog(n, a) is n·log(a), or 0 where a = 0; it appears only in the
	// derivative of pow and has none of its own.
	opPowLog = &Op{Code: OpPowLog, Name: "powlog", Kind: Elementwise, Arity: 2,
		Eval: func(x ...float64) float64 { return opmath.PowLog(x[0], x[1]) }}
	// min and max send the gradient of a tie to their first argument.
	opMin = &Op{Code: OpMin, Name: "min", Kind: Elementwise, Arity: 2,
		Eval: func(x ...float64) float64 { return min(x[0], x[1]) },
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			a, b := n.Args[0], n.Args[1]
			if i == 0 {
				return g.Mul(d, g.Binary(opGE, b, a))
			}
			return g.Mul(d, g.Binary(opGT, a, b))
		}}
	opMax = &Op{Code: OpMax, Name: "max", Kind: Elementwise, Arity: 2,
		Eval: func(x ...float64) float64 { return max(x[0], x[1]) },
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			a, b := n.Args[0], n.Args[1]
			if i == 0 {
				return g.Mul(d, g.Binary(opGE, a, b))
			}
			return g.Mul(d, g.Binary(opGT, b, a))
		}}
	// ge and gt are 1 or 0; they appear in derivatives and have none.
	opGE = &Op{Code: OpGE, Name: "ge", Kind: Elementwise, Arity: 2,
		Eval: func(x ...float64) float64 { return opmath.Ge(x[0], x[1]) }}
	opGT = &Op{Code: OpGT, Name: "gt", Kind: Elementwise, Arity: 2,
		Eval: func(x ...float64) float64 { return opmath.Gt(x[0], x[1]) }}

	opNeg = &Op{Code: OpNeg, Name: "neg", Kind: Elementwise, Arity: 1,
		Eval:  func(x ...float64) float64 { return -x[0] },
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Neg(d) }}
	opExp = unary(OpExp, "exp", math.Exp,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, n) })
	opLog = unary(OpLog, "log", math.Log,
		func(g *Graph, x, n, d *Node) *Node { return g.Div(d, x) })
	opLog1p = unary(OpLog1p, "log1p", math.Log1p,
		func(g *Graph, x, n, d *Node) *Node { return g.Div(d, g.Add(g.Const(1), x)) })
	opSqrt = unary(OpSqrt, "sqrt", math.Sqrt,
		func(g *Graph, x, n, d *Node) *Node { return g.Div(g.Mul(d, g.Const(0.5)), n) })
	opSin = unary(OpSin, "sin", math.Sin,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Unary(opCos, x)) })
	opCos = unary(OpCos, "cos", math.Cos,
		func(g *Graph, x, n, d *Node) *Node { return g.Neg(g.Mul(d, g.Unary(opSin, x))) })
	opTan = unary(OpTan, "tan", math.Tan,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Add(g.Const(1), g.Mul(n, n))) })
	opTanh = unary(OpTanh, "tanh", math.Tanh,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Sub(g.Const(1), g.Mul(n, n))) })
	opAtan = unary(OpAtan, "atan", math.Atan,
		func(g *Graph, x, n, d *Node) *Node { return g.Div(d, g.Add(g.Const(1), g.Mul(x, x))) })
	opErf = unary(OpErf, "erf", math.Erf,
		func(g *Graph, x, n, d *Node) *Node {
			return g.Mul(d, g.Mul(g.Const(2/math.SqrtPi), g.Unary(opExp, g.Neg(g.Mul(x, x)))))
		})
	// norm_cdf is Φ, the standard normal distribution function; its
	// derivative is the density φ(x) = exp(-x²/2)/√(2π).
	opNormCDF = unary(OpNormCDF, "norm_cdf", opmath.NormCDF,
		func(g *Graph, x, n, d *Node) *Node {
			return g.Mul(d, normalDensity(g, x))
		})
	// abs has subgradient 0 at 0 (sign(0) = 0).
	opAbs = unary(OpAbs, "abs", math.Abs,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Unary(opSign, x)) })
	opSigmoid = unary(OpSigmoid, "sigmoid", opmath.Sigmoid,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Mul(n, g.Sub(g.Const(1), n))) })
	// relu has subgradient 0 at 0; relu(x) > 0 exactly when x > 0, so the
	// derivative reads the output and the input need not be kept.
	opRelu = unary(OpRelu, "relu", opmath.Relu,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Unary(opStep, n)) })
	opSoftplus = unary(OpSoftplus, "softplus", opmath.Softplus,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Unary(opSigmoid, x)) })
	opStep = unary(OpStep, "step", opmath.Step, nil)
	opSign = unary(OpSign, "sign", opmath.Sign, nil)

	// stop_gradient is the identity with no derivative.
	opStopGrad = &Op{Code: OpStopGrad, Name: "stop_gradient", Kind: View, Arity: 1}

	opSum = &Op{Code: OpSum, Name: "sum", Kind: Reduce, Arity: 1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Broadcast(d, n.Args[0].Shape) }}
	// maxall is the largest element. It is only ever the shift m of the
	// stable forms of logsumexp, softmax and log_softmax (builtins.go),
	// whose values do not depend on m: so no gradient flows through it.
	opMaxAll = &Op{Code: OpMaxAll, Name: "maxall", Kind: Reduce, Arity: 1}

	opMatMul = &Op{Code: OpMatMul, Name: "matmul", Kind: MatMul, Arity: 2, Deriv: matmulDeriv}
	opOuter = &Op{Code: OpOuter, Name: "outer", Kind: Outer, Arity: 2,
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			if i == 0 {
				return g.MatMul(d, n.Args[1]) // d[m,n] @ b[n]
			}
			return g.MatMul(n.Args[0], d) // a[m] @ d[m,n]
		}}
	opTranspose = &Op{Code: OpTranspose, Name: "transpose", Kind: View, Arity: 1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Transpose(d) }}
	opIndex = &Op{Code: OpIndex, Name: "index", Kind: View, Arity: -1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Scatter(d, n.Ints, n.Args[0].Shape, n.Args[1:]...) }}
	opBroadcast = &Op{Code: OpBroadcast, Name: "broadcast", Kind: View, Arity: 1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Sum(d) }}
	opScatter = &Op{Code: OpScatter, Name: "scatter", Kind: Scatter, Arity: -1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Index(d, n.Ints, n.Args[1:]...) }}
	// addn is the sum of its arguments, all of one shape; the adjoint of a
	// value used several times is one.
	opAddN = &Op{Code: OpAddN, Name: "addn", Kind: Elementwise, Arity: -1,
		Eval: func(x ...float64) float64 {
			s := x[0]
			for _, v := range x[1:] {
				s += v
			}
			return s
		},
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return d }}

	for _, op := range []*Op{opVar, opConst, opAdd, opSub, opMul, opDiv, opPow, opPowLog, opMin, opMax, opGE, opGT,
		opNeg, opExp, opLog, opLog1p, opSqrt, opSin, opCos, opTan, opTanh, opAtan, opErf, opNormCDF, opAbs, opSigmoid,
		opRelu, opSoftplus, opStep, opSign, opStopGrad, opSum, opMaxAll, opMatMul, opOuter, opTranspose, opIndex,
		opBroadcast, opScatter, opAddN, opLoop, opLoopOut} {
		register(op)
	}
	moreOps()
	batchOps()
	axisOps()
	layerOps()
	gatherOps()
	for _, op := range []*Op{opCosh, opSinh, opAsin, opAcos, opExpm1, opLog2, opLog10, opSquare, opRsqrt,
		opGelu, opSilu, opSoftsign, opElu, opEluGrad, opHuber} {
		register(op)
	}
}

func register(op *Op) {
	if opTable[op.Code] != nil {
		panic("symbolic: two ops with the code of " + op.Name)
	}
	opTable[op.Code] = op
}

// opTable holds every op at its code.
var opTable [numOpCodes]*Op

// Ops returns every op, in code order, for the tables of other packages
// and their tests.
func Ops() []*Op { return slices.Clone(opTable[:]) }

// unary makes the row of a unary elementwise op whose derivative is
// deriv(x, n, d) for argument x, result n and adjoint d.
func unary(code OpCode, name string, eval func(float64) float64, deriv func(g *Graph, x, n, d *Node) *Node) *Op {
	op := &Op{Code: code, Name: name, Kind: Elementwise, Arity: 1,
		Eval: func(x ...float64) float64 { return eval(x[0]) }}
	if deriv != nil {
		op.Deriv = func(g *Graph, n, d *Node, i int) *Node { return deriv(g, n.Args[0], n, d) }
	}
	return op
}

// matmulDeriv is the matrix chain rule: for C = A B, dA = dC Bᵀ and
// dB = Aᵀ dC, which for y = W x is the backprop pair dW += δ xᵀ, dx += Wᵀ δ.
func matmulDeriv(g *Graph, n, d *Node, i int) *Node {
	a, b := n.Args[0], n.Args[1]
	switch {
	case len(a.Shape) == 2 && len(b.Shape) == 1: // y[m] = A[m,k] x[k]
		if i == 0 {
			return g.Outer(d, b)
		}
		return g.MatMul(d, a) // Aᵀ δ as δ[m] @ A[m,k]
	case len(a.Shape) == 1 && len(b.Shape) == 2: // y[n] = v[k] B[k,n]
		if i == 0 {
			return g.MatMul(b, d)
		}
		return g.Outer(a, d)
	default: // C[m,n] = A[m,k] B[k,n]
		if i == 0 {
			return g.MatMul(d, g.Transpose(b))
		}
		return g.MatMul(g.Transpose(a), d)
	}
}

// normalDensity is φ(x) = exp(-x²/2)/√(2π), the derivative of Φ.
func normalDensity(g *Graph, x *Node) *Node {
	return g.Mul(g.Const(1/math.Sqrt(2*math.Pi)), g.Unary(opExp, g.Mul(g.Const(-0.5), g.Mul(x, x))))
}
