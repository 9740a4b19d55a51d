package refeval

import (
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/backpropgen/backpropgen/generated/exercise1"
	"github.com/backpropgen/backpropgen/generated/layers"
	"github.com/backpropgen/backpropgen/generated/mixed"
	"github.com/backpropgen/backpropgen/generated/nested"
	"github.com/backpropgen/backpropgen/generated/policy"
	"github.com/backpropgen/backpropgen/generated/rnn"
	"github.com/backpropgen/backpropgen/generated/xor"
	"github.com/backpropgen/backpropgen/parser"
)

func parse(t *testing.T, src string) *parser.File {
	t.Helper()
	f, err := parser.Parse("test.bp", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	return f
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= 1e-12*(1+math.Abs(a)+math.Abs(b))
}

func closeAll(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(a[i], b[i]) {
			return false
		}
	}
	return true
}

// The value of each built-in and operator form, computed by hand.
func TestExprs(t *testing.T) {
	inf := math.Inf(1)
	lnScale := math.Sqrt(2.0/3 + 1e-5) // the standard deviation of 1, 2, 3 in layer_norm
	// attention(C[0], C[0], C[1]): the scores are [1, 3] and [3, 13] over
	// √2, the first key's weights p0 and p1.
	p0, p1 := 1/(1+math.Exp(2/math.Sqrt2)), 1/(1+math.Exp(10/math.Sqrt2))
	tests := []struct {
		expr  string
		want  []float64
		shape []int
	}{
		{"1 + 2 * 3", []float64{7}, nil},
		{"8 - 3 - 2", []float64{3}, nil},
		{"8 / 4 / 2", []float64{1}, nil},
		{"2 ^ 3 ^ 2", []float64{512}, nil},
		{"-2 ^ 2", []float64{-4}, nil},
		{"2 ^ -1", []float64{0.5}, nil},
		{"v + 1", []float64{2, 3, 4}, []int{3}},
		{"2 * v - v", []float64{1, 2, 3}, []int{3}},
		{"v * v", []float64{1, 4, 9}, []int{3}},
		{"6 / v", []float64{6, 3, 2}, []int{3}},
		{"v ^ 2", []float64{1, 4, 9}, []int{3}},
		{"2 ^ v", []float64{2, 4, 8}, []int{3}},
		{"-v", []float64{-1, -2, -3}, []int{3}},
		{"M @ v", []float64{14, 32}, []int{2}},
		{"u @ M", []float64{4, 5, 6}, []int{3}},
		{"(u + 1) @ M", []float64{9, 12, 15}, []int{3}},
		{"M @ transpose(M)", []float64{14, 32, 32, 77}, []int{2, 2}},
		{"transpose(M)", []float64{1, 4, 2, 5, 3, 6}, []int{3, 2}},
		{"v @ v", []float64{14}, nil},
		{"M[1]", []float64{4, 5, 6}, []int{3}},
		{"M[1, 2]", []float64{6}, nil},
		{"M[N - 2, N - 1]", []float64{6}, nil},
		{"C[1]", []float64{4, 5, 6, 7}, []int{2, 2}},
		{"C[1, 0]", []float64{4, 5}, []int{2}},
		{"C[1, 1, 0] + C[0, 1, 1]", []float64{9}, nil},
		{"(M @ v)[1]", []float64{32}, nil},
		{"exp(1)", []float64{math.E}, nil},
		{"log(v)", []float64{0, math.Ln2, math.Log(3)}, []int{3}},
		{"log1p(1e-20)", []float64{1e-20}, nil},
		{"sqrt(v * v)", []float64{1, 2, 3}, []int{3}},
		{"sin(0.5)", []float64{math.Sin(0.5)}, nil},
		{"cos(0.5)", []float64{math.Cos(0.5)}, nil},
		{"tan(0.5)", []float64{math.Tan(0.5)}, nil},
		{"tanh(0.5)", []float64{math.Tanh(0.5)}, nil},
		{"atan(1)", []float64{math.Pi / 4}, nil},
		{"erf(0.5)", []float64{math.Erf(0.5)}, nil},
		{"norm_cdf(0)", []float64{0.5}, nil},
		{"norm_cdf(-40)", []float64{0.5 * math.Erfc(40/math.Sqrt2)}, nil},
		{"norm_cdf(1.959963984540054)", []float64{0.975}, nil},
		{"abs(0 - v)", []float64{1, 2, 3}, []int{3}},
		{"relu(v - 2)", []float64{0, 0, 1}, []int{3}},
		{"leaky_relu(v - 2, 0.1)", []float64{-0.1, 0, 1}, []int{3}},
		{"sigmoid(0)", []float64{0.5}, nil},
		{"sigmoid(1000)", []float64{1}, nil},
		{"sigmoid(-1000)", []float64{0}, nil},
		{"sigmoid(-2)", []float64{1 / (1 + math.Exp(2))}, nil},
		{"softplus(0)", []float64{math.Ln2}, nil},
		{"softplus(1000)", []float64{1000}, nil},
		{"softplus(-1000)", []float64{0}, nil},
		{"min(v, 2)", []float64{1, 2, 2}, []int{3}},
		{"max(2, v)", []float64{2, 2, 3}, []int{3}},
		{"pow(v, 2)", []float64{1, 4, 9}, []int{3}},
		{"sum(M)", []float64{21}, nil},
		{"mean(M)", []float64{3.5}, nil},
		{"dot(M, M)", []float64{91}, nil},
		{"mse(v, u @ M)", []float64{9}, nil},
		{"mse(v, 1)", []float64{5.0 / 3}, nil},
		{"logsumexp(v)", []float64{math.Log(math.E + math.Exp(2) + math.Exp(3))}, nil},
		{"logsumexp(v + 1000)", []float64{1000 + math.Log(math.E+math.Exp(2)+math.Exp(3))}, nil},
		{"logsumexp(v - 1000)", []float64{-1000 + math.Log(math.E+math.Exp(2)+math.Exp(3))}, nil},
		{"softmax(u)", []float64{1 / (1 + math.E), math.E / (1 + math.E)}, []int{2}},
		{"softmax(u * 1000)", []float64{0, 1}, []int{2}},
		{"log_softmax(u)", []float64{-math.Log(1 + math.E), 1 - math.Log(1+math.E)}, []int{2}},
		{"log_softmax(u * 1000)", []float64{-1000, 0}, []int{2}},
		{"stop_gradient(v)", []float64{1, 2, 3}, []int{3}},
		{"cosh(0.5)", []float64{(math.Exp(0.5) + math.Exp(-0.5)) / 2}, nil},
		{"sinh(0.5)", []float64{(math.Exp(0.5) - math.Exp(-0.5)) / 2}, nil},
		{"asin(0.5)", []float64{math.Pi / 6}, nil},
		{"acos(0.5)", []float64{math.Pi / 3}, nil},
		{"expm1(1e-20)", []float64{1e-20}, nil},
		{"log2(v + 5)", []float64{math.Log2(6), math.Log2(7), 3}, []int{3}},
		{"log10(1000)", []float64{3}, nil},
		{"square(v)", []float64{1, 4, 9}, []int{3}},
		{"rsqrt(4)", []float64{0.5}, nil},
		{"gelu(0)", []float64{0}, nil},
		{"gelu(1)", []float64{0.8413447460685429}, nil},
		{"silu(0)", []float64{0}, nil},
		{"silu(-1000)", []float64{0}, nil},
		{"softsign(v - 4)", []float64{-0.75, -2.0 / 3, -0.5}, []int{3}},
		{"elu(v - 2, 2)", []float64{2 * math.Expm1(-1), 0, 1}, []int{3}},
		{"clip(v, 1.5, 2.5)", []float64{1.5, 2, 2.5}, []int{3}},
		{"clip(v, 3, 1)", []float64{1, 1, 1}, []int{3}},
		{"huber(v, 1, 1)", []float64{0, 0.5, 1.5}, []int{3}},
		{"bce_with_logits(0, 1)", []float64{math.Ln2}, nil},
		{"bce_with_logits(v * 1000, 1)", []float64{0}, nil},
		{"bce_with_logits(v * -1000, 1)", []float64{6000}, nil},
		{"cross_entropy(v, k)", []float64{math.Log(math.E+math.Exp(2)+math.Exp(3)) - 2}, nil},
		{"cross_entropy(v, 2)", []float64{math.Log(math.E+math.Exp(2)+math.Exp(3)) - 3}, nil},
		{"v[k]", []float64{2}, nil},
		{"M[1, k]", []float64{5}, nil},
		{"M[0, k]", []float64{2}, nil},
		{"zeros(2, N - 1)", []float64{0, 0, 0, 0}, []int{2, 2}},
		{"ones(N)", []float64{1, 1, 1}, []int{3}},
		{"1 / (v - 1)", []float64{inf, 1, 0.5}, []int{3}},
		{"flatten(M)", []float64{1, 2, 3, 4, 5, 6}, []int{6}},
		{"flatten(C)", []float64{0, 1, 2, 3, 4, 5, 6, 7}, []int{8}},
		{"M[:, 1]", []float64{2, 5}, []int{2}},
		{"M[1, 1:]", []float64{5, 6}, []int{2}},
		{"M[0:1]", []float64{1, 2, 3}, []int{1, 3}},
		{"C[:, 1, 0:1]", []float64{2, 6}, []int{2, 1}},
		{"C[1:, :1]", []float64{4, 5}, []int{1, 1, 2}},
		{"concat(M, M * 2, 0)", []float64{1, 2, 3, 4, 5, 6, 2, 4, 6, 8, 10, 12}, []int{4, 3}},
		{"concat(M, C[0], 1)", []float64{1, 2, 3, 0, 1, 4, 5, 6, 2, 3}, []int{2, 5}},
		{"concat(M[:, 2:], M, -1)", []float64{3, 1, 2, 3, 6, 4, 5, 6}, []int{2, 4}},
		{"reshape(M, 3, 2)", []float64{1, 2, 3, 4, 5, 6}, []int{3, 2}},
		{"reshape(C, 4, 1, 2)", []float64{0, 1, 2, 3, 4, 5, 6, 7}, []int{4, 1, 2}},
		{"conv2d(C, ones(1, 2, 2, 2), 1, 0)", []float64{28}, []int{1, 1, 1}},
		{"conv2d(C, ones(1, 2, 1, 1), 1, 1)", []float64{0, 0, 0, 0, 0, 4, 6, 0, 0, 8, 10, 0, 0, 0, 0, 0}, []int{1, 4, 4}},
		{"conv2d(C, ones(1, 2, 1, 1), 2, 0)", []float64{4}, []int{1, 1, 1}},
		{"conv2d(C, ones(2, 2, 1, 2), 1, 0)", []float64{10, 18, 10, 18}, []int{2, 2, 1}},
		{"conv1d(M, ones(1, 2, 2), 1, 0)", []float64{12, 16}, []int{1, 2}},
		{"conv1d(M, ones(1, 2, 1), 2, 1)", []float64{0, 7, 0}, []int{1, 3}},
		{"max_pool2d(C, 2)", []float64{3, 7}, []int{2, 1, 1}},
		{"avg_pool2d(C, 2)", []float64{1.5, 5.5}, []int{2, 1, 1}},
		{"max_pool2d(C, 1)", []float64{0, 1, 2, 3, 4, 5, 6, 7}, []int{2, 2, 2}},
		{"layer_norm(v, v, u @ M)", []float64{4 - 1/lnScale, 5, 6 + 3/lnScale}, []int{3}},
		{"layer_norm(M, v, v)", []float64{1 - 1/lnScale, 2, 3 + 3/lnScale, 1 - 1/lnScale, 2, 3 + 3/lnScale}, []int{2, 3}},
		{"attention(C[0], C[0], C[1])", []float64{4*p0 + 6*(1-p0), 5*p0 + 7*(1-p0), 4*p1 + 6*(1-p1), 5*p1 + 7*(1-p1)}, []int{2, 2}},
		{"attention(C[0], C[0], C[1], 1)", []float64{4, 5, 4*p1 + 6*(1-p1), 5*p1 + 7*(1-p1)}, []int{2, 2}},
		{"attention(C[0], C[0], C[1], K - 3)", []float64{4*p0 + 6*(1-p0), 5*p0 + 7*(1-p0), 4*p1 + 6*(1-p1), 5*p1 + 7*(1-p1)}, []int{2, 2}},
		{"attention(M, M * 0, M)", []float64{2.5, 3.5, 4.5, 2.5, 3.5, 4.5}, []int{2, 3}},
		{"attention(M, M * 0, M, 1)", []float64{1, 2, 3, 2.5, 3.5, 4.5}, []int{2, 3}},
		{"attention(M, zeros(3, 3), transpose(M), 1)", []float64{1, 4, 1.5, 4.5}, []int{2, 2}},
		{"attention(M, zeros(3, 3), transpose(M))", []float64{2, 5, 2, 5}, []int{2, 2}},
		{"sq(v)", []float64{1, 4, 9}, []int{3}},
		{"quad(v, 2)", []float64{28}, nil},
		{"first(M)", []float64{1, 2, 3}, []int{3}},
	}
	for _, tt := range tests {
		src := `
fn quad(q[N], k) {
    s = sq(q)
    s += 0
    return k * sum(s)
}
fn sq(x[N]) = x * x
fn first(A[2, N]) = A[0]
model m
param v[N]
param M[2, 3]
param C[2, 2, 2]
input u[2]
input k int
const N = K
const K = 3
out = ` + tt.expr + `
loss = sum(v)
output out
`
		f := parse(t, src)
		params := map[string][]float64{"v": {1, 2, 3}, "M": {1, 2, 3, 4, 5, 6}, "C": {0, 1, 2, 3, 4, 5, 6, 7}}
		inputs := map[string][]float64{"u": {0, 1}}
		_, outs, err := EvalModel(f, params, inputs, map[string][]int{"k": {1}})
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		got := outs["out"]
		if !closeAll(got.Data, tt.want) || !sameShape(got.Shape, append([]int{}, tt.shape...)) {
			t.Errorf("%s = %v %v, want %v %v", tt.expr, got.Shape, got.Data, tt.shape, tt.want)
		}
	}
}

// Rebinding, += and the two output forms.
func TestBindings(t *testing.T) {
	f := parse(t, `
model m
param a
x = a * 2
output first = x
x = x + 1
x += 10
output x
output twice = x * 2
loss = x
`)
	loss, outs, err := EvalModel(f, map[string][]float64{"a": {1}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if loss != 13 || outs["first"].Data[0] != 2 || outs["x"].Data[0] != 13 || outs["twice"].Data[0] != 26 {
		t.Errorf("loss %v, outputs %v", loss, outs)
	}
}

func TestLoops(t *testing.T) {
	tests := []struct {
		name, body string
		want       float64
	}{
		// s = 0+1+2+3+4
		{"sum", "s = 0\nfor t in 0..5 { s += xs[t] }\nloss = s", 10},
		// carried state, a local name that does not leak, and the loop
		// variable indexing.
		{"carried", "s = 1\nfor t in 1..4 { y = s * 2\n s = y + xs[t] }\nloss = s", ((1*2+1)*2+2)*2 + 3},
		// a name first bound inside the loop is local: the outer y is untouched.
		{"local", "y = 7\ns = 0\nfor t in 0..2 { z = xs[t] + 1\n s += z }\nloss = s + y", 3 + 7},
		// nested loops carry the outer state through the inner loop.
		{"nested", "s = 0\nfor i in 0..3 { for j in 0..2 { s = s * 2 + xs[i] + xs[j] } }\nloss = s",
			nestedWant()},
		// a carried name rebound before being read in the body.
		{"rebind", "s = 5\nfor t in 0..3 { s = xs[t]\n s += 1 }\nloss = s", 3},
		// offsets from the loop variable: xs[t-1] + xs[t+1] for t = 1, 2, 3.
		{"offset", "s = 0\nfor t in 1..4 { s += xs[t - 1] * xs[t + 1] }\nloss = s", 0*2 + 1*3 + 2*4},
		// a window that moves with t: (xs[t-2] + 2 xs[t-1]) for t = 2, 3, 4.
		{"window", "s = 0\nfor t in 2..5 { s += dot(xs[t - 2:t], ones(2) + xs[0:2]) }\nloss = s", (0 + 2) + (1 + 4) + (2 + 6)},
	}
	for _, tt := range tests {
		f := parse(t, "model m\nparam xs[5]\n"+tt.body)
		loss, _, err := EvalModel(f, map[string][]float64{"xs": {0, 1, 2, 3, 4}}, nil, nil)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if loss != tt.want {
			t.Errorf("%s: loss %v, want %v", tt.name, loss, tt.want)
		}
	}
}

// E[tokens] gathers the rows the integers pick, in their order, a row
// picked twice appearing twice.
func TestGather(t *testing.T) {
	f := parse(t, "model m\nparam E[3, 2]\ninput tok[2, 2] int\nG = E[tok]\nloss = G[0, 0, 0] + 10 * G[0, 1, 1] + 100 * G[1, 0, 0] + 1000 * G[1, 1, 1]")
	e := []float64{1, 2, 3, 4, 5, 6}
	loss, _, err := EvalModel(f, map[string][]float64{"E": e}, nil, map[string][]int{"tok": {2, 0, 2, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if want := 5 + 10*2 + 100*5 + 1000*4.0; loss != want {
		t.Errorf("loss %v, want %v", loss, want)
	}
}

func nestedWant() float64 {
	s := 0.0
	for i := range 3 {
		for j := range 2 {
			s = s*2 + float64(i) + float64(j)
		}
	}
	return s
}

func TestEvalFn(t *testing.T) {
	f := parse(t, `
fn g(x[2], y) { z = x * y
return h(z) }
fn h(v[2]) = sum(v) + k(v[0])
fn k(a) = a ^ 2
`)
	got, err := EvalFn(f, "g", [][]float64{{1, 2}, {3}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Shape) != 0 || got.Data[0] != 9+9 {
		t.Errorf("g = %v", got)
	}
	if _, err := EvalFn(f, "g", [][]float64{{1}, {3}}); err == nil {
		t.Errorf("g with a short argument: no error")
	}
}

// Errors rather than panics on what the compiler would reject.
func TestErrors(t *testing.T) {
	for _, src := range []string{
		"model m\nparam a\nloss = a + b",
		"model m\nparam a[2]\nloss = a[2]",
		"model m\nparam a[2]\ninput k int\nloss = a[k]",
		"model m\nparam a[2]\nloss = a @ ones(3)",
		"model m\nparam a\nloss = f(a)\nfn f(x) = f(x)",
		"model m\nparam a\nloss = zeros(2)",
		"model m\nconst A = B\nconst B = A\nparam a[A]\nloss = sum(a)",
	} {
		f := parse(t, src)
		_, _, err := EvalModel(f, map[string][]float64{"a": {1, 2}}, nil, map[string][]int{"k": {5}})
		if err == nil {
			t.Errorf("no error for\n%s", src)
		}
	}
}

func parseFile(t *testing.T, name string) *parser.File {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.Parse(name, src)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func fill(r *rand.Rand, xs []float64, scale float64) {
	for i := range xs {
		xs[i] = scale * (2*r.Float64() - 1)
	}
}

// byLayout splits flat parameters by a generated Layout.
func byLayout(flat []float64, layout func() (names, fields []string, sizes []int)) map[string][]float64 {
	names, _, sizes := layout()
	m := map[string][]float64{}
	off := 0
	for i, n := range names {
		m[n] = flat[off : off+sizes[i]]
		off += sizes[i]
	}
	return m
}

// The checked-in generated packages, believed correct on their models,
// agree with the interpreter.
func TestShippedModels(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	check := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-10*(1+math.Abs(want)) {
			t.Errorf("%s: interpreter %v, generated %v", name, got, want)
		}
	}
	{
		f := parseFile(t, "xor.bp")
		var p xor.XorParams
		fill(r, p.Flat(), 1)
		in := xor.XorInputs{X: [2]float64{0.3, -0.7}, Y: 1}
		var ws xor.XorWorkspace
		var out xor.XorOutputs
		want := p.Forward(&ws, &in, &out)
		loss, outs, err := EvalModel(f, byLayout(p.Flat(), p.Layout), map[string][]float64{"x": in.X[:], "y": {in.Y}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		check("xor loss", loss, want)
		check("xor p", outs["p"].Data[0], out.P[0])
	}
	{
		f := parseFile(t, "rnn.bp")
		var p rnn.RnnParams
		fill(r, p.Flat(), 0.4)
		var in rnn.RnnInputs
		for t := range in.Xs {
			fill(r, in.Xs[t][:], 1)
			in.Ys[t] = math.Sin(float64(t))
		}
		var ws rnn.RnnWorkspace
		want := p.Forward(&ws, &in, nil)
		var xs []float64
		for t := range in.Xs {
			xs = append(xs, in.Xs[t][:]...)
		}
		loss, _, err := EvalModel(f, byLayout(p.Flat(), p.Layout), map[string][]float64{"xs": xs, "ys": in.Ys[:]}, nil)
		if err != nil {
			t.Fatal(err)
		}
		check("rnn loss", loss, want)
	}
	{
		f := parseFile(t, "nested.bp")
		var p nested.NestedParams
		fill(r, p.Flat(), 0.8)
		var in nested.NestedInputs
		var xs []float64
		for i := range in.X {
			fill(r, in.X[i][:], 1)
			xs = append(xs, in.X[i][:]...)
		}
		var ws nested.NestedWorkspace
		want := p.Forward(&ws, &in, nil)
		loss, _, err := EvalModel(f, byLayout(p.Flat(), p.Layout), map[string][]float64{"x": xs}, nil)
		if err != nil {
			t.Fatal(err)
		}
		check("nested loss", loss, want)
	}
	{
		f := parseFile(t, "mixed.bp")
		var p mixed.MixedParams
		fill(r, p.Flat(), 0.8)
		in := mixed.MixedInputs{X: [3]float64{0.5, -1, 2}}
		var ws mixed.MixedWorkspace
		var out mixed.MixedOutputs
		want := p.Forward(&ws, &in, &out)
		loss, outs, err := EvalModel(f, byLayout(p.Flat(), p.Layout), map[string][]float64{"x": in.X[:]}, nil)
		if err != nil {
			t.Fatal(err)
		}
		check("mixed loss", loss, want)
		for i := range out.H {
			check("mixed h", outs["h"].Data[i], out.H[i])
		}
	}
	{
		f := parseFile(t, "policy.bp")
		var p policy.PolicyParams
		fill(r, p.Flat(), 0.5)
		for action := range 2 {
			in := policy.PolicyInputs{S: [4]float64{0.1, -0.2, 0.3, 1}, Action: action, Ret: 1.5}
			var ws policy.PolicyWorkspace
			var out policy.PolicyOutputs
			want := p.Forward(&ws, &in, &out)
			loss, outs, err := EvalModel(f, byLayout(p.Flat(), p.Layout),
				map[string][]float64{"s": in.S[:], "ret": {in.Ret}}, map[string][]int{"action": {action}})
			if err != nil {
				t.Fatal(err)
			}
			check("policy loss", loss, want)
			for i := range out.Probs {
				check("policy probs", outs["probs"].Data[i], out.Probs[i])
			}
		}
	}
	{
		f := parseFile(t, "layers.bp")
		var p layers.LayersParams
		fill(r, p.Flat(), 0.5)
		in := layers.LayersInputs{Label: 3}
		fill(r, in.Flat(), 1)
		var ws layers.LayersWorkspace
		var out layers.LayersOutputs
		want := p.Forward(&ws, &in, &out)
		loss, outs, err := EvalModel(f, byLayout(p.Flat(), p.Layout), map[string][]float64{"img": in.Flat()[:64], "series": in.Flat()[64:]}, map[string][]int{"label": {3}})
		if err != nil {
			t.Fatal(err)
		}
		check("layers loss", loss, want)
		for i := range out.Probs {
			check("layers probs", outs["probs"].Data[i], out.Probs[i])
		}
	}
	{
		f := parseFile(t, "exercise1.bp")
		got, err := EvalFn(f, "f", [][]float64{{-2}, {5}, {-4}})
		if err != nil {
			t.Fatal(err)
		}
		check("exercise1 f", got.Data[0], exercise1.F(-2, 5, -4))
	}
}

// Every shipped model evaluates without error at some point.
func TestAllShippedModelsEvaluate(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*.bp"))
	for _, path := range files {
		f := parseFile(t, filepath.Base(path))
		in := newInterp(f)
		params, inputs, ints := map[string][]float64{}, map[string][]float64{}, map[string][]int{}
		hasModel := false
		for _, st := range f.Stmts {
			switch st := st.(type) {
			case *parser.ModelDecl:
				hasModel = true
			case *parser.VarDecl:
				if st.Int {
					ints[st.Name.Name] = make([]int, size(in.dims(st.Dims)))
					continue
				}
				vals := make([]float64, size(in.dims(st.Dims)))
				for i := range vals {
					vals[i] = 0.1 + 0.01*float64(i%7)
				}
				if st.Kind == "param" {
					params[st.Name.Name] = vals
				} else {
					inputs[st.Name.Name] = vals
				}
			}
		}
		if !hasModel {
			continue
		}
		loss, _, err := EvalModel(f, params, inputs, ints)
		if err != nil || math.IsNaN(loss) {
			t.Errorf("%s: loss %v, %v", path, loss, err)
		}
	}
}
