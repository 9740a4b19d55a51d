package symbolic

import "fmt"

// bmatmul is the batched graphs' product of matrices whose samples are
// matrices of rows (batch.go): a model's X @ transpose(W), X @ W, W @ X,
// transpose(A) @ X or W[l] @ H, where X has a sample axis and W does not.
// Written as an expansion, a product and a reducesum, such a product is
// correct but codegen can only loop over it with strides; as bmatmul, each
// is one register-blocked kernel call, or one per row of X, and so are
// its derivatives, which are bmatmuls too.
//
// Each operand is read as a matrix, or a stack of matrices along its first
// axis: Ints = [sa, sb, ta, tb] say whether a and b are stacks (1) and
// whether each matrix is transposed (1). A matrix is an operand's first
// axis (after the stack's) as rows, and all its later axes, flattened, as
// columns: the trailing axes of a tensor are contiguous, so a batched
// B[k, j, tile] is the k × j·tile matrix a kernel reads, and a stack
// X[i, k, tile] holds i matrices of k × tile. Then
//
//	one stack (sa ≠ sb):  c[p] = op(a[p]) op(b[p]), the shared operand
//	                      the same for every p: c has the stack's axis;
//	both (sa = sb = 1):   c = Σ_p op(a[p]) op(b[p]), the stack summed
//	                      (a shared weight's gradient over the rows);
//	neither:              c = op(a) op(b).
//
// c's shape is the stack's axis if it has one, then op(a)'s rows (one
// axis), then op(b)'s columns: b's columns' axes, or with tb b's rows. A
// transposed a has exactly one column axis. Its derivatives, by the matrix
// chain rule per p (dA = dC Bᵀ, dB = Aᵀ dC, summed over p where the
// operand is shared), are bmatmuls of d and the other operand with the
// same stacking rule (batchmmDeriv).
var opBMatMul *Op

func batchmmOp() *Op {
	opBMatMul = &Op{Code: OpBMatMul, Name: "bmatmul", Kind: MatMul, Arity: 2, Deriv: batchmmDeriv}
	return opBMatMul
}

// BMatMulForm is the layout of a bmatmul n, for code generation: whether
// a and b are stacks, whether each is transposed, and the product's
// dimensions: p matrices (1 without a stack) of m × n, each entry a sum of
// k products, summed over the stack if sum.
type BMatMulForm struct {
	StackA, StackB bool
	TransA, TransB bool
	P, M, N, K     int
	Sum            bool
}

// BMatMulOf returns the form of a bmatmul n.
func BMatMulOf(n *Node) BMatMulForm {
	f := BMatMulForm{StackA: n.Ints[0] == 1, StackB: n.Ints[1] == 1, TransA: n.Ints[2] == 1, TransB: n.Ints[3] == 1}
	a, b := n.Args[0], n.Args[1]
	ar, ac := matrixView(a.Shape, f.StackA)
	br, bc := matrixView(b.Shape, f.StackB)
	f.M, f.K = ar, ac
	if f.TransA {
		f.M, f.K = ac, ar
	}
	f.N = bc
	if f.TransB {
		f.N = br
	}
	f.P = 1
	switch {
	case f.StackA:
		f.P = a.Shape[0]
	case f.StackB:
		f.P = b.Shape[0]
	}
	f.Sum = f.StackA && f.StackB
	return f
}

// matrixView is the rows and columns of the matrices of shape s (after the
// stack's axis if stack).
func matrixView(s Shape, stack bool) (rows, cols int) {
	if stack {
		s = s[1:]
	}
	return s[0], Shape(s[1:]).Size()
}

// BMatMul is the bmatmul of a and b with the given stacks and transposes
// (see opBMatMul). It panics on shapes that do not multiply: the batcher
// and the derivative rule build only valid ones.
func (g *Graph) BMatMul(a, b *Node, sa, sb, ta, tb bool) *Node {
	shape, err := bmatmulShape(a.Shape, b.Shape, sa, sb, ta, tb)
	if err != nil {
		panic(fmt.Sprintf("bmatmul: %v", err))
	}
	return g.node(opBMatMul, []*Node{a, b}, shape, 0, []int{flag(sa), flag(sb), flag(ta), flag(tb)}, nil)
}

func bmatmulShape(a, b Shape, sa, sb, ta, tb bool) (Shape, error) {
	bad := fmt.Errorf("%v (stack %v, transposed %v) by %v (stack %v, transposed %v)", a, sa, ta, b, sb, tb)
	ma, mb := a, b
	if sa {
		ma = a[1:]
	}
	if sb {
		mb = b[1:]
	}
	if len(ma) < 2 || len(mb) < 2 || ta && len(ma) != 2 || sa && sb && a[0] != b[0] {
		return nil, bad
	}
	var out Shape
	switch {
	case sa && !sb:
		out = Shape{a[0]}
	case sb && !sa:
		out = Shape{b[0]}
	}
	rows, ka, kb := ma[0], ma[1:], mb[:1]
	if ta {
		rows, ka = ma[1], ma[:1]
	}
	cols := mb[1:]
	if tb {
		kb, cols = mb[1:], mb[:1]
	}
	// The contracted axes have one shape on both sides, so that an
	// element of the product is a sum over them (codegen's loops).
	if !ka.Equal(kb) {
		return nil, bad
	}
	out = append(out, rows)
	return append(out, cols...), nil
}

// batchmmDeriv is the matrix chain rule per matrix of the stack. With
// A = op(a), B = op(b) and C = A B: dA = dC Bᵀ and dB = Aᵀ dC, each summed
// over the stack when its operand is shared, which the stacking rule does
// (d is a stack iff c is, and a is one iff exactly one of d and b is). A
// transposed operand takes the transpose: da = (dC Bᵀ)ᵀ = B dCᵀ.
func batchmmDeriv(g *Graph, n, d *Node, i int) *Node {
	a, b := n.Args[0], n.Args[1]
	f := BMatMulOf(n)
	sc := f.StackA != f.StackB
	var r *Node
	switch {
	case i == 0 && !f.TransA: // dC Bᵀ
		r = g.BMatMul(d, b, sc, f.StackB, false, !f.TransB)
	case i == 0: // B dCᵀ
		r = g.BMatMul(b, d, f.StackB, sc, f.TransB, true)
	case !f.TransB: // Aᵀ dC
		r = g.BMatMul(a, d, f.StackA, sc, !f.TransA, false)
	default: // dCᵀ A
		r = g.BMatMul(d, a, sc, f.StackA, true, f.TransA)
	}
	if want := n.Args[i].Shape; !r.Shape.Equal(want) {
		// Only a product whose operand's columns span several axes and
		// are read as one axis of the other's can come out flattened;
		// Batch builds none that way round.
		panic(fmt.Sprintf("bmatmul: derivative of %v is %v", want, r.Shape))
	}
	return r
}

// evalBMatMul is the interpreter's bmatmul: each entry summed in float64
// over k (and the stack, if summed), in that order.
func evalBMatMul(n *Node, a, b []float64) []float64 {
	f := BMatMulOf(n)
	// at returns element (r, c) of op(x[p]), for x whose matrices are
	// rows × cols, stacked or shared.
	at := func(x []float64, stack, trans bool, shape Shape, p, r, c int) float64 {
		rows, cols := matrixView(shape, stack)
		if trans {
			r, c = c, r
		}
		off := 0
		if stack {
			off = p * rows * cols
		}
		return x[off+r*cols+c]
	}
	plen := f.M * f.N
	out := make([]float64, n.Shape.Size())
	for p := range f.P {
		o := out
		if !f.Sum {
			o = out[p*plen : (p+1)*plen]
		}
		for i := range f.M {
			for j := range f.N {
				s := 0.0
				for k := range f.K {
					s += at(a, f.StackA, f.TransA, n.Args[0].Shape, p, i, k) * at(b, f.StackB, f.TransB, n.Args[1].Shape, p, k, j)
				}
				o[i*f.N+j] += s
			}
		}
	}
	return out
}

// untranspose returns x's matrix and whether x is its transpose.
func untranspose(x *Node) (*Node, bool) {
	if x.Op == opTranspose {
		return x.Args[0], true
	}
	return x, false
}

// sharedTimesRows is the batched a @ b of two matrices where exactly one
// has a sample axis, as a bmatmul, and false for other products.
//   - A @ B[k, j, tile], A shared: one product, B's j·tile columns;
//   - X[i, k, tile] @ W, W shared: row i of the result is X[i]ᵀ W, its
//     transpose [j, tile] is op(W)ᵀ X[i], a stack over i.
//
// A transposed shared operand is read in place.
func (bt *batcher) sharedTimesRows(n *Node, args []*Node, ab []bool) (*Node, bool) {
	if len(n.Args[0].Shape) != 2 || len(n.Args[1].Shape) != 2 || ab[0] == ab[1] {
		return nil, false
	}
	if !ab[0] {
		w, t := untranspose(args[0])
		return bt.g.BMatMul(w, args[1], false, false, t, false), true
	}
	w, t := untranspose(args[1])
	return bt.g.BMatMul(w, args[0], false, true, !t, false), true
}
