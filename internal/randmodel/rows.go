package randmodel

// rowsPct is the chance, in percent, that a product of two matrices is a
// product of a sample's rows and a parameter matrix (rowsProduct).
const rowsPct = 25

// rowsBindingPct is the chance, in percent, that a model's binding is
// tanh of such a product, of 2 to 6 rows and columns.
const rowsBindingPct = 10

// rowsProduct is a matrix product of the given shape [r, c] whose one operand is
// an input matrix (a sample of rows, or a function of one) and the other
// a parameter matrix, in each of the ways a model writes one:
// X @ transpose(W), X @ W, W @ X, transpose(A) @ X, W[l] @ X and X @ W[l].
// Batched, each is a bmatmul (symbolic/batchmm.go); the contracted
// dimension, 8 to 40, makes many of them big enough over a tile for
// kernel calls. Its form and sizes come from the rows stream, so that a
// model without one is the model the seed gave before.
func (g *gen) rowsProduct(shape []int) (Expr, float64) {
	r, c := shape[0], shape[1]
	k := 8 + g.rows.Intn(33)
	sample := func(s []int) Expr {
		x := Expr(&Name{N: g.newDecl("input", s).name})
		if g.rows.Intn(100) < 30 {
			x = &Call{F: "tanh", Args: []Expr{x}}
		}
		return x
	}
	param := func(s []int) Expr { return &Name{N: g.newDecl("param", s).name} }
	layer := func(s []int) Expr { // W[l] of a stack of two
		w := g.newDecl("param", append([]int{2}, s...))
		return &Index{X: &Name{N: w.name}, Idx: []Idx{{V: g.rows.Intn(2)}}}
	}
	tr := func(x Expr) Expr { return &Call{F: "transpose", Args: []Expr{x}} }
	var x Expr
	switch g.rows.Intn(6) {
	case 0:
		x = &Bin{Op: "@", X: sample([]int{r, k}), Y: tr(param([]int{c, k}))}
	case 1:
		x = &Bin{Op: "@", X: sample([]int{r, k}), Y: param([]int{k, c})}
	case 2:
		x = &Bin{Op: "@", X: param([]int{r, k}), Y: sample([]int{k, c})}
	case 3:
		x = &Bin{Op: "@", X: tr(param([]int{k, r})), Y: sample([]int{k, c})}
	case 4:
		x = &Bin{Op: "@", X: layer([]int{r, k}), Y: sample([]int{k, c})}
	default:
		x = &Bin{Op: "@", X: sample([]int{r, k}), Y: layer([]int{k, c})}
	}
	return x, float64(k)
}
