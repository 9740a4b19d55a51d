package symbolic

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// bmmCase is a bmatmul layout: its operands' shapes, stacks and transposes.
type bmmCase struct {
	a, b           Shape
	sa, sb, ta, tb bool
	want           Shape
}

// bmmCases cover every stacking (one stack, both summed, neither), every
// transpose the kernels take and the one they do not (both), and operands
// whose columns span two axes (a batched B[k, j, tile]).
var bmmCases = []bmmCase{
	{Shape{3, 4}, Shape{4, 2, 5}, false, false, false, false, Shape{3, 2, 5}}, // W @ X[k, j, tile]
	{Shape{4, 3}, Shape{4, 2, 5}, false, false, true, false, Shape{3, 2, 5}},  // transpose(A) @ X
	{Shape{3, 4}, Shape{2, 4, 5}, false, true, false, false, Shape{2, 3, 5}},  // X[i] @ transpose(W), per row
	{Shape{4, 3}, Shape{2, 4, 5}, false, true, true, false, Shape{2, 3, 5}},   // X[i] @ W, per row
	{Shape{2, 3, 5}, Shape{2, 4, 5}, true, true, false, true, Shape{3, 4}},    // a weight gradient over the rows
	{Shape{2, 5, 3}, Shape{2, 5, 4}, true, true, true, false, Shape{3, 4}},
	{Shape{2, 5, 3}, Shape{2, 4, 5}, true, true, true, true, Shape{3, 4}},
	{Shape{2, 3, 4}, Shape{4, 5}, true, false, false, false, Shape{2, 3, 5}},
	{Shape{2, 3, 4}, Shape{5, 4}, true, false, false, true, Shape{2, 3, 5}},
	{Shape{3, 2, 5}, Shape{4, 2, 5}, false, false, false, true, Shape{3, 4}}, // columns of two axes contracted
}

// TestBMatMulValues compares the interpreter's bmatmul with products
// written out per layout, element by element.
func TestBMatMulValues(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, c := range bmmCases {
		name := fmt.Sprintf("%v%v by %v%v", c.a, c.sa, c.b, c.sb)
		g := NewGraph()
		va := &Var{Name: "a", Kind: Param, Shape: c.a}
		vb := &Var{Name: "b", Kind: Param, Shape: c.b}
		n := g.BMatMul(g.VarNode(va), g.VarNode(vb), c.sa, c.sb, c.ta, c.tb)
		if !n.Shape.Equal(c.want) {
			t.Fatalf("%s: shape %v, want %v", name, n.Shape, c.want)
		}
		a, b := randVals(r, c.a.Size()), randVals(r, c.b.Size())
		vals, err := Eval([]*Node{n}, map[*Var][]float64{va: a, vb: b})
		if err != nil {
			t.Fatal(err)
		}
		want := bmmReference(c, a, b)
		for i := range want {
			if math.Abs(vals[0][i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
				t.Fatalf("%s: element %d is %v, want %v", name, i, vals[0][i], want[i])
			}
		}
	}
}

// bmmReference is c's product computed from its definition: each operand
// a stack of p matrices (or one, the same for every p), rows its first axis
// and the rest flattened as columns.
func bmmReference(c bmmCase, a, b []float64) []float64 {
	p := 1
	if c.sa {
		p = c.a[0]
	} else if c.sb {
		p = c.b[0]
	}
	mat := func(x []float64, s Shape, stack, trans bool, q int) [][]float64 {
		if stack {
			s = s[1:]
			x = x[q*s.Size() : (q+1)*s.Size()]
		}
		rows, cols := s[0], Shape(s[1:]).Size()
		m := make([][]float64, rows)
		for i := range m {
			m[i] = x[i*cols : (i+1)*cols]
		}
		if !trans {
			return m
		}
		tm := make([][]float64, cols)
		for j := range tm {
			tm[j] = make([]float64, rows)
			for i := range rows {
				tm[j][i] = m[i][j]
			}
		}
		return tm
	}
	var out []float64
	var sum []float64
	for q := range p {
		ma, mb := mat(a, c.a, c.sa, c.ta, q), mat(b, c.b, c.sb, c.tb, q)
		var prod []float64
		for i := range ma {
			for j := range mb[0] {
				s := 0.0
				for k := range mb {
					s += ma[i][k] * mb[k][j]
				}
				prod = append(prod, s)
			}
		}
		if c.sa && c.sb {
			if sum == nil {
				sum = make([]float64, len(prod))
			}
			for i := range prod {
				sum[i] += prod[i]
			}
			continue
		}
		out = append(out, prod...)
	}
	if sum != nil {
		return sum
	}
	return out
}

// TestBMatMulGradient checks the derivative rule of every layout against
// central differences of the interpreter, for loss = Σ w ⊙ bmatmul(a, b)
// with w fixed: every branch of batchmmDeriv, including those Batch's
// first derivatives never reach (both transposed).
func TestBMatMulGradient(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, c := range bmmCases {
		name := fmt.Sprintf("%v%v by %v%v, transposed %v %v", c.a, c.sa, c.b, c.sb, c.ta, c.tb)
		g := NewGraph()
		va := &Var{Name: "a", Kind: Param, Shape: c.a}
		vb := &Var{Name: "b", Kind: Param, Shape: c.b}
		vw := &Var{Name: "w", Kind: Input, Shape: c.want}
		na, nb := g.VarNode(va), g.VarNode(vb)
		loss := g.Sum(g.Mul(g.BMatMul(na, nb, c.sa, c.sb, c.ta, c.tb), g.VarNode(vw)))
		grads := Differentiate(g, loss, g.Const(1), []*Node{na, nb})
		env := map[*Var][]float64{va: randVals(r, c.a.Size()), vb: randVals(r, c.b.Size()), vw: randVals(r, c.want.Size())}
		vals, err := Eval(grads, env)
		if err != nil {
			t.Fatal(err)
		}
		for gi, v := range []*Var{va, vb} {
			for i := range env[v] {
				x := env[v][i]
				const h = 1e-5
				env[v][i] = x + h
				up, _ := Eval([]*Node{loss}, env)
				env[v][i] = x - h
				down, _ := Eval([]*Node{loss}, env)
				env[v][i] = x
				num := (up[0][0] - down[0][0]) / (2 * h)
				if math.Abs(vals[gi][i]-num) > 1e-7*(1+math.Abs(num)) {
					t.Fatalf("%s: d%s[%d] is %v, central difference %v", name, v.Name, i, vals[gi][i], num)
				}
			}
		}
	}
}

// TestBMatMulShapes: layouts that do not multiply are refused.
func TestBMatMulShapes(t *testing.T) {
	for _, c := range []bmmCase{
		{a: Shape{3, 4}, b: Shape{5, 2}},                                   // k differs
		{a: Shape{2, 3, 4}, b: Shape{3, 4, 5}, sa: true, sb: true},         // stacks differ
		{a: Shape{4, 2, 3}, b: Shape{4, 5}, ta: true},                      // a transposed with two column axes
		{a: Shape{3, 6}, b: Shape{6, 2, 3}, tb: true},                      // b's columns are not a's
		{a: Shape{3, 2, 3}, b: Shape{6, 5}},                                // contracted axes of different shapes
		{a: Shape{4}, b: Shape{4, 5}},                                      // a vector
		{a: Shape{2, 3}, b: Shape{2, 3, 4}, sa: false, sb: true, ta: true}, // a transposed is [3, 2]: k = 2, b's rows 3
	} {
		if s, err := bmatmulShape(c.a, c.b, c.sa, c.sb, c.ta, c.tb); err == nil {
			t.Errorf("%v (stack %v, transposed %v) by %v (stack %v, transposed %v): shape %v, want an error", c.a, c.sa, c.ta, c.b, c.sb, c.tb, s)
		}
	}
}

func randVals(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = r.Float64()*2 - 1
	}
	return x
}
