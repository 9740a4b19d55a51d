package symbolic

import "fmt"

// Constructors. Each checks nothing a user can get wrong (Lower reports
// those with positions first); a violated shape rule here is a compiler bug
// and panics.

// Const returns the scalar constant v.
func (g *Graph) Const(v float64) *Node { return g.node(opConst, nil, nil, v, nil, nil) }

// VarNode returns the leaf for v.
func (g *Graph) VarNode(v *Var) *Node { return g.node(opVar, nil, v.Shape, 0, nil, v) }

// Unary applies the elementwise op to x.
func (g *Graph) Unary(op *Op, x *Node) *Node { return g.node(op, []*Node{x}, x.Shape, 0, nil, nil) }

// Binary applies the elementwise op to a and b, which have one shape or of
// which one is a scalar.
func (g *Graph) Binary(op *Op, a, b *Node) *Node {
	shape, ok := broadcastShape(a.Shape, b.Shape)
	if !ok {
		panic(fmt.Sprintf("%s: shapes %v and %v", op.Name, a.Shape, b.Shape))
	}
	return g.node(op, []*Node{a, b}, shape, 0, nil, nil)
}

func broadcastShape(a, b Shape) (Shape, bool) {
	switch {
	case a.Equal(b):
		return a, true
	case len(a) == 0:
		return b, true
	case len(b) == 0:
		return a, true
	}
	return nil, false
}

func (g *Graph) Add(a, b *Node) *Node { return g.Binary(opAdd, a, b) }
func (g *Graph) Sub(a, b *Node) *Node { return g.Binary(opSub, a, b) }
func (g *Graph) Mul(a, b *Node) *Node { return g.Binary(opMul, a, b) }
func (g *Graph) Div(a, b *Node) *Node { return g.Binary(opDiv, a, b) }
func (g *Graph) Neg(a *Node) *Node    { return g.Unary(opNeg, a) }

// maxAddN is the most terms one addn node adds.
const maxAddN = 8

// AddN sums terms of one shape, left to right. More than maxAddN terms
// are a chain of addn nodes, addn(addn(t1..t8), t9..t15) and so on: the
// same sum in the same order, in nodes of bounded size (a parameter used
// 36,000 times must not become one expression 36,000 additions deep).
func (g *Graph) AddN(terms []*Node) *Node {
	if len(terms) == 1 {
		return terms[0]
	}
	acc := g.node(opAddN, terms[:min(len(terms), maxAddN)], terms[0].Shape, 0, nil, nil)
	for rest := terms[min(len(terms), maxAddN):]; len(rest) > 0; {
		k := min(len(rest), maxAddN-1)
		acc = g.node(opAddN, append([]*Node{acc}, rest[:k]...), terms[0].Shape, 0, nil, nil)
		rest = rest[k:]
	}
	return acc
}

// Sum adds up every element of x.
func (g *Graph) Sum(x *Node) *Node { return g.node(opSum, []*Node{x}, nil, 0, nil, nil) }

// MaxAll is the largest element of x, through which no gradient flows.
func (g *Graph) MaxAll(x *Node) *Node { return g.node(opMaxAll, []*Node{x}, nil, 0, nil, nil) }

// shifted returns m = max(x), x - m, exp(x - m) and Σ exp(x - m): the pieces of
// logsumexp, softmax and log_softmax in the form that neither overflows
// nor loses the precision of x - logsumexp(x) when x is large. Their
// derivatives, built from these nodes, are softmax as exp(x - m) / s,
// exact for any shift of x.
func (g *Graph) shifted(x *Node) (m, xm, e, s *Node) {
	m = g.MaxAll(x)
	xm = g.Sub(x, m)
	e = g.Unary(opExp, xm)
	return m, xm, e, g.Sum(e)
}

// LogSumExp is log Σ exp(x) = m + log Σ exp(x - m), m = max(x).
func (g *Graph) LogSumExp(x *Node) *Node {
	m, _, _, s := g.shifted(x)
	return g.Add(m, g.Unary(opLog, s))
}

// Softmax is exp(x - m) / Σ exp(x - m).
func (g *Graph) Softmax(x *Node) *Node {
	_, _, e, s := g.shifted(x)
	return g.Div(e, s)
}

// LogSoftmax is (x - m) - log Σ exp(x - m).
func (g *Graph) LogSoftmax(x *Node) *Node {
	_, xm, _, s := g.shifted(x)
	return g.Sub(xm, g.Unary(opLog, s))
}

// MatMulShape is the shape of a @ b, and whether the product is defined:
// matrix·vector, vector·matrix, matrix·matrix.
func MatMulShape(a, b Shape) (Shape, bool) {
	switch {
	case len(a) == 2 && len(b) == 1 && a[1] == b[0]:
		return Shape{a[0]}, true
	case len(a) == 1 && len(b) == 2 && a[0] == b[0]:
		return Shape{b[1]}, true
	case len(a) == 2 && len(b) == 2 && a[1] == b[0]:
		return Shape{a[0], b[1]}, true
	}
	return nil, false
}

// MatMul is the matrix product a @ b.
func (g *Graph) MatMul(a, b *Node) *Node {
	shape, ok := MatMulShape(a.Shape, b.Shape)
	if !ok {
		panic(fmt.Sprintf("matmul: shapes %v and %v", a.Shape, b.Shape))
	}
	return g.node(opMatMul, []*Node{a, b}, shape, 0, nil, nil)
}

// Outer is a bᵀ for vectors a and b.
func (g *Graph) Outer(a, b *Node) *Node {
	return g.node(opOuter, []*Node{a, b}, Shape{a.Shape[0], b.Shape[0]}, 0, nil, nil)
}

// Transpose swaps the axes of a matrix.
func (g *Graph) Transpose(x *Node) *Node {
	return g.node(opTranspose, []*Node{x}, Shape{x.Shape[1], x.Shape[0]}, 0, nil, nil)
}

// Index selects x[ints...]: fewer indices than x's rank select a row. An
// index of -1 is given at run time by the next of dyn, an integer input.
func (g *Graph) Index(x *Node, ints []int, dyn ...*Node) *Node {
	return g.node(opIndex, append([]*Node{x}, dyn...), x.Shape[len(ints):], 0, ints, nil)
}

// Scatter is the tensor of the given shape that is zero but for
// Index(result, ints, dyn...) = x: the adjoint of indexing.
func (g *Graph) Scatter(x *Node, ints []int, shape Shape, dyn ...*Node) *Node {
	return g.node(opScatter, append([]*Node{x}, dyn...), shape, 0, ints, nil)
}

// Broadcast repeats the scalar x over shape.
func (g *Graph) Broadcast(x *Node, shape Shape) *Node {
	return g.node(opBroadcast, []*Node{x}, shape, 0, nil, nil)
}

// StopGrad is x, through which no gradient flows.
func (g *Graph) StopGrad(x *Node) *Node { return g.node(opStopGrad, []*Node{x}, x.Shape, 0, nil, nil) }
