package symbolic

import "math"

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
)

// GoForm says how an elementwise op prints in Go. Exactly one field is set.
type GoForm struct {
	Infix  string // "a + b"
	Prefix string // "-a"
	Func   string // a package function "math.Exp", or a Go builtin "max"
	Helper string // a helper function codegen emits beside the model
}

// Op is one row of the operator table: everything backpropgen knows about an
// operation is here, so adding one is adding a row.
type Op struct {
	Name  string
	Kind  Kind
	Arity int // -1 for any number
	Go    GoForm
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
var opVar, opConst, opAdd, opSub, opMul, opDiv, opPow, opMin, opMax, opGE, opGT, opNeg, opExp, opLog, opLog1p, opSqrt, opSin, opCos, opTan, opTanh, opAtan, opErf, opNormCDF, opAbs, opSigmoid, opRelu, opSoftplus, opStep, opSign, opStopGrad, opSum, opMaxAll, opPowLog, opMatMul, opOuter, opTranspose, opIndex, opBroadcast, opScatter, opAddN *Op

func init() {
	opVar = &Op{Name: "var", Kind: Leaf}
	opConst = &Op{Name: "const", Kind: Leaf}

	opAdd = &Op{Name: "add", Kind: Elementwise, Arity: 2, Go: GoForm{Infix: "+"},
		Eval:  func(x ...float64) float64 { return x[0] + x[1] },
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return d }}
	opSub = &Op{Name: "sub", Kind: Elementwise, Arity: 2, Go: GoForm{Infix: "-"},
		Eval: func(x ...float64) float64 { return x[0] - x[1] },
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			if i == 0 {
				return d
			}
			return g.Neg(d)
		}}
	opMul = &Op{Name: "mul", Kind: Elementwise, Arity: 2, Go: GoForm{Infix: "*"},
		Eval:  func(x ...float64) float64 { return x[0] * x[1] },
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Mul(d, n.Args[1-i]) }}
	opDiv = &Op{Name: "div", Kind: Elementwise, Arity: 2, Go: GoForm{Infix: "/"},
		Eval: func(x ...float64) float64 { return x[0] / x[1] },
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			b := n.Args[1]
			if i == 0 {
				return g.Div(d, b)
			}
			return g.Neg(g.Div(g.Mul(d, n), b)) // -d·a/b² = -d·n/b
		}}
	opPow = &Op{Name: "pow", Kind: Elementwise, Arity: 2, Go: GoForm{Func: "math.Pow"},
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
	opPowLog = &Op{Name: "powlog", Kind: Elementwise, Arity: 2, Go: GoForm{Helper: "powLog"},
		Eval: func(x ...float64) float64 { return powLog(x[0], x[1]) }}
	// min and max send the gradient of a tie to their first argument.
	opMin = &Op{Name: "min", Kind: Elementwise, Arity: 2, Go: GoForm{Func: "min"},
		Eval: func(x ...float64) float64 { return min(x[0], x[1]) },
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			a, b := n.Args[0], n.Args[1]
			if i == 0 {
				return g.Mul(d, g.Binary(opGE, b, a))
			}
			return g.Mul(d, g.Binary(opGT, a, b))
		}}
	opMax = &Op{Name: "max", Kind: Elementwise, Arity: 2, Go: GoForm{Func: "max"},
		Eval: func(x ...float64) float64 { return max(x[0], x[1]) },
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			a, b := n.Args[0], n.Args[1]
			if i == 0 {
				return g.Mul(d, g.Binary(opGE, a, b))
			}
			return g.Mul(d, g.Binary(opGT, b, a))
		}}
	// ge and gt are 1 or 0; they appear in derivatives and have none.
	opGE = &Op{Name: "ge", Kind: Elementwise, Arity: 2, Go: GoForm{Helper: "ge"},
		Eval: func(x ...float64) float64 { return b2f(x[0] >= x[1]) }}
	opGT = &Op{Name: "gt", Kind: Elementwise, Arity: 2, Go: GoForm{Helper: "gt"},
		Eval: func(x ...float64) float64 { return b2f(x[0] > x[1]) }}

	opNeg = &Op{Name: "neg", Kind: Elementwise, Arity: 1, Go: GoForm{Prefix: "-"},
		Eval:  func(x ...float64) float64 { return -x[0] },
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Neg(d) }}
	opExp = unary("exp", GoForm{Func: "math.Exp"}, math.Exp,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, n) })
	opLog = unary("log", GoForm{Func: "math.Log"}, math.Log,
		func(g *Graph, x, n, d *Node) *Node { return g.Div(d, x) })
	opLog1p = unary("log1p", GoForm{Func: "math.Log1p"}, math.Log1p,
		func(g *Graph, x, n, d *Node) *Node { return g.Div(d, g.Add(g.Const(1), x)) })
	opSqrt = unary("sqrt", GoForm{Func: "math.Sqrt"}, math.Sqrt,
		func(g *Graph, x, n, d *Node) *Node { return g.Div(g.Mul(d, g.Const(0.5)), n) })
	opSin = unary("sin", GoForm{Func: "math.Sin"}, math.Sin,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Unary(opCos, x)) })
	opCos = unary("cos", GoForm{Func: "math.Cos"}, math.Cos,
		func(g *Graph, x, n, d *Node) *Node { return g.Neg(g.Mul(d, g.Unary(opSin, x))) })
	opTan = unary("tan", GoForm{Func: "math.Tan"}, math.Tan,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Add(g.Const(1), g.Mul(n, n))) })
	opTanh = unary("tanh", GoForm{Func: "math.Tanh"}, math.Tanh,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Sub(g.Const(1), g.Mul(n, n))) })
	opAtan = unary("atan", GoForm{Func: "math.Atan"}, math.Atan,
		func(g *Graph, x, n, d *Node) *Node { return g.Div(d, g.Add(g.Const(1), g.Mul(x, x))) })
	opErf = unary("erf", GoForm{Func: "math.Erf"}, math.Erf,
		func(g *Graph, x, n, d *Node) *Node {
			return g.Mul(d, g.Mul(g.Const(2/math.SqrtPi), g.Unary(opExp, g.Neg(g.Mul(x, x)))))
		})
	// norm_cdf is Φ, the standard normal distribution function; its
	// derivative is the density φ(x) = exp(-x²/2)/√(2π).
	opNormCDF = unary("norm_cdf", GoForm{Helper: "normCDF"}, normCDF,
		func(g *Graph, x, n, d *Node) *Node {
			return g.Mul(d, g.Mul(g.Const(1/math.Sqrt(2*math.Pi)), g.Unary(opExp, g.Mul(g.Const(-0.5), g.Mul(x, x)))))
		})
	// abs has subgradient 0 at 0 (sign(0) = 0).
	opAbs = unary("abs", GoForm{Func: "math.Abs"}, math.Abs,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Unary(opSign, x)) })
	opSigmoid = unary("sigmoid", GoForm{Helper: "sigmoid"}, sigmoid,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Mul(n, g.Sub(g.Const(1), n))) })
	// relu has subgradient 0 at 0; relu(x) > 0 exactly when x > 0, so the
	// derivative reads the output and the input need not be kept.
	opRelu = unary("relu", GoForm{Helper: "relu"}, relu,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Unary(opStep, n)) })
	opSoftplus = unary("softplus", GoForm{Helper: "softplus"}, softplus,
		func(g *Graph, x, n, d *Node) *Node { return g.Mul(d, g.Unary(opSigmoid, x)) })
	opStep = unary("step", GoForm{Helper: "step"}, func(x float64) float64 { return b2f(x > 0) }, nil)
	opSign = unary("sign", GoForm{Helper: "sign"}, sign, nil)

	// stop_gradient is the identity with no derivative.
	opStopGrad = &Op{Name: "stop_gradient", Kind: View, Arity: 1}

	opSum = &Op{Name: "sum", Kind: Reduce, Arity: 1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Broadcast(d, n.Args[0].Shape) }}
	// maxall is the largest element. It is only ever the shift m of the
	// stable forms of logsumexp, softmax and log_softmax (builtins.go),
	// whose values do not depend on m: so no gradient flows through it.
	opMaxAll = &Op{Name: "maxall", Kind: Reduce, Arity: 1}

	opMatMul = &Op{Name: "matmul", Kind: MatMul, Arity: 2, Deriv: matmulDeriv}
	opOuter = &Op{Name: "outer", Kind: Outer, Arity: 2,
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			if i == 0 {
				return g.MatMul(d, n.Args[1]) // d[m,n] @ b[n]
			}
			return g.MatMul(n.Args[0], d) // a[m] @ d[m,n]
		}}
	opTranspose = &Op{Name: "transpose", Kind: View, Arity: 1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Transpose(d) }}
	opIndex = &Op{Name: "index", Kind: View, Arity: -1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Scatter(d, n.Ints, n.Args[0].Shape, n.Args[1:]...) }}
	opBroadcast = &Op{Name: "broadcast", Kind: View, Arity: 1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Sum(d) }}
	opScatter = &Op{Name: "scatter", Kind: Scatter, Arity: -1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Index(d, n.Ints, n.Args[1:]...) }}
	// addn is the sum of its arguments, all of one shape; the adjoint of a
	// value used several times is one.
	opAddN = &Op{Name: "addn", Kind: Elementwise, Arity: -1,
		Eval: func(x ...float64) float64 {
			s := x[0]
			for _, v := range x[1:] {
				s += v
			}
			return s
		},
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return d }}
}

// unary makes the row of a unary elementwise op whose derivative is
// deriv(x, n, d) for argument x, result n and adjoint d.
func unary(name string, form GoForm, eval func(float64) float64, deriv func(g *Graph, x, n, d *Node) *Node) *Op {
	op := &Op{Name: name, Kind: Elementwise, Arity: 1, Go: form,
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

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func relu(x float64) float64 { return max(x, 0) }

func softplus(x float64) float64 { return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

func powLog(n, a float64) float64 {
	if a == 0 {
		return 0
	}
	return n * math.Log(a)
}

func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
