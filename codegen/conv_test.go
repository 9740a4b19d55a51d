package codegen

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen/symbolic"
)

// The contractions of a two-layer CNN, per sample and over a tile of 8,
// are the kernel products worked out by hand: for each convolution the
// forward product K·P (GemmNN), the kernels' gradient dY·Pᵀ (GemmNT) and,
// for the second, whose input has a gradient, the patches' Kᵀ·dY
// (GemmTN), with m, n, k = F, OH·OW(·tile), C·KH·KW.
func TestContractionsOfConvolutions(t *testing.T) {
	src := `model m
param K1[4, 2, 3, 3]
param K2[4, 4, 2, 2]
input x[2, 6, 6]
c1 = relu(conv2d(x, K1, 1, 1))
c2 = tanh(conv2d(c1, K2, 2, 0))
loss = sum(c2)
`
	prog := lower(t, "m.bp", []byte(src))
	prog.Tile = 8
	grads := prog.Differentiate()
	found := func(g *symbolic.Graph) []string {
		var out []string
		for _, n := range g.Nodes {
			if c, ok := contractionOf(n); ok {
				out = append(out, fmt.Sprintf("%s %d×%d×%d", c.kernel, c.m, c.n, c.k))
			}
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		name  string
		graph *symbolic.Graph
		want  []string
	}{
		{"per sample", grads.Model.Graph, []string{"GemmNN 4×36×18", "GemmNN 4×9×16", "GemmNT 4×16×9", "GemmNT 4×18×36", "GemmTN 16×9×4"}},
		{"tile of 8", grads.Batch.Graph, []string{"GemmNN 4×288×18", "GemmNN 4×72×16", "GemmNT 4×16×72", "GemmNT 4×18×288", "GemmTN 16×72×4"}},
	} {
		if got := found(c.graph); !slices.Equal(got, c.want) {
			t.Errorf("%s: contractions %v, want %v", c.name, got, c.want)
		}
	}
}

// contractionOf takes only sums whose axes are one kernel product's as
// the tensors lie in memory.
func TestContractionOf(t *testing.T) {
	g := symbolic.NewGraph()
	leaf := func(name string, shape ...int) *symbolic.Node {
		return g.VarNode(&symbolic.Var{Name: name, Kind: symbolic.Param, Shape: shape})
	}
	contract := func(a *symbolic.Node, aAxes []int, b *symbolic.Node, bAxes []int, space symbolic.Shape, keep ...int) *symbolic.Node {
		return g.ReduceSum(g.Mul(g.Expand(a, space, aAxes), g.Expand(b, space, bAxes)), keep)
	}
	a34, b45, b54 := leaf("a", 3, 4), leaf("b", 4, 5), leaf("c", 5, 4)
	for _, c := range []struct {
		name string
		n    *symbolic.Node
		want string // kernel m×n×k, a and b; "" if none
	}{
		{"A·B", contract(a34, []int{0, 1}, b45, []int{1, 2}, symbolic.Shape{3, 4, 5}, 0, 2), "GemmNN 3×5×4 a b"},
		{"A·Bᵀ", contract(a34, []int{0, 1}, b54, []int{2, 1}, symbolic.Shape{3, 4, 5}, 0, 2), "GemmNT 3×5×4 a c"},
		{"the result as (B·Aᵀ)'s blocks", contract(a34, []int{1, 2}, b54, []int{0, 2}, symbolic.Shape{5, 3, 4}, 0, 1), "GemmNT 5×3×4 c a"},
		{"Aᵀ·B", contract(leaf("d", 4, 3), []int{1, 0}, b45, []int{1, 2}, symbolic.Shape{3, 4, 5}, 0, 2), "GemmTN 3×5×4 d b"},
		{"Aᵀ·Bᵀ", contract(leaf("e", 4, 3), []int{1, 0}, b54, []int{2, 1}, symbolic.Shape{3, 4, 5}, 0, 2), ""},
		{"an axis of both, kept (a batched product)", contract(leaf("f", 2, 3, 4), []int{0, 1, 2}, leaf("g", 2, 4, 5), []int{0, 2, 3}, symbolic.Shape{2, 3, 4, 5}, 0, 1, 3), ""},
		{"M's axes in another order than the result's", contract(leaf("h", 3, 2, 4), []int{1, 0, 2}, b45, []int{2, 3}, symbolic.Shape{2, 3, 4, 5}, 0, 1, 3), ""},
		{"K's axes in two orders", contract(leaf("i", 3, 2, 4), []int{0, 1, 2}, leaf("j", 4, 2, 5), []int{2, 1, 3}, symbolic.Shape{3, 2, 4, 5}, 0, 3), ""},
		{"a sum of one factor's axis", contract(a34, []int{0, 1}, leaf("k", 5), []int{2}, symbolic.Shape{3, 4, 5}, 0, 2), ""},
		{"a sum of a sum, one product", g.ReduceSum(g.ReduceSum(g.Mul(g.Expand(leaf("l", 3, 4, 2), symbolic.Shape{3, 4, 2, 5}, []int{0, 1, 2}), g.Expand(leaf("m", 4, 2, 5), symbolic.Shape{3, 4, 2, 5}, []int{1, 2, 3})), []int{0, 1, 3}), []int{0, 2}), "GemmNN 3×5×8 l m"},
		{"axes of length 1 read either way", contract(leaf("o", 1, 3, 4), []int{1, 0, 2}, b45, []int{2, 3}, symbolic.Shape{3, 1, 4, 5}, 0, 1, 3), "GemmNN 3×5×4 o b"},
		{"not a product", g.ReduceSum(g.Add(g.Expand(a34, symbolic.Shape{3, 4, 5}, []int{0, 1}), g.Expand(b45, symbolic.Shape{3, 4, 5}, []int{1, 2})), []int{0, 2}), ""},
	} {
		got := ""
		if k, ok := contractionOf(c.n); ok {
			got = fmt.Sprintf("%s %d×%d×%d %s %s", k.kernel, k.m, k.n, k.k, k.a.Var.Name, k.b.Var.Name)
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// A convolution below convMin multiply-adds stays loops; one above it is
// three kernel calls in LossGrad (forward, kernels' gradient, input's).
func TestSmallConvolutionsStayLoops(t *testing.T) {
	for _, c := range []struct {
		src   string
		calls int
	}{
		{"model m\nparam K[2, 1, 2, 2]\nparam L[2, 2, 2, 2]\ninput x[1, 4, 4]\nloss = sum(tanh(conv2d(tanh(conv2d(x, K, 1, 0)), L, 1, 0)))\n", 0},
		{"model m\nparam K[4, 2, 3, 3]\nparam L[4, 4, 3, 3]\ninput x[2, 8, 8]\nloss = sum(tanh(conv2d(tanh(conv2d(x, K, 1, 1)), L, 1, 1)))\n", 5},
	} {
		prog := lower(t, "m.bp", []byte(c.src))
		code, err := Generate(prog, prog.Differentiate(), Options{Package: "m"})
		if err != nil {
			t.Fatal(err)
		}
		s := string(code)
		start := strings.Index(s, ") LossGrad(")
		end := start + strings.Index(s[start:], "\n}\n")
		if got := strings.Count(s[start:end], "mGemm"); got != c.calls {
			t.Errorf("%s: LossGrad calls the kernels %d times, want %d", c.src, got, c.calls)
		}
	}
}

// The patches of a convolution of stride 1 are copied a row at a time,
// per sample a row of OW and over a tile whole [tile] arrays; those of
// stride 2 are not runs of the input: per sample they are copied element
// by element, and over a tile a [tile] array at a time.
func TestPatchesCopiedByRows(t *testing.T) {
	for _, c := range []struct {
		stride int
		want   []string // the distinct copies of channel 0, per sample and over the tile
	}{
		{1, []string{
			"copy(ws.t2[0][i2][i3][i4][:], ws.t[0][i4+i2][i3:i3+8])",
			"copy(ws.t2[0][i4][i5][i6][:], t[0][i6+i4][i5:i5+8])",
			"copy(ws.t2[0][i4][i5][i6][:], ws.t[0][i6+i4][i5:i5+8])",
			"copy(ws.t2[0][i5][i6][i7][:], ws.t[0][i7+i5][i6:i6+8])",
		}},
		{2, []string{
			"copy(ws.t2[0][i5][i6][i7][i8][:], ws.t[0][i7*2+i5][i8*2+i6][0:8])",
		}},
	} {
		src := fmt.Sprintf("model m\nparam K[4, 2, 3, 3]\ninput x[2, 8, 8]\nloss = sum(tanh(conv2d(x, K, %d, 1)))\n", c.stride)
		prog := lower(t, "m.bp", []byte(src))
		prog.Tile = 8
		code, err := Generate(prog, prog.Differentiate(), Options{Package: "m"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range strings.Split(string(code), "\n") {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, "copy(ws.t2[0]") && !slices.Contains(got, l) {
				got = append(got, l)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("stride %d: copies %q, want %q", c.stride, got, c.want)
		}
	}
}
