package builtins

import (
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// domain is where a fn's arguments are drawn from.
type domain int

const (
	reals    domain = iota // [0.2, 2] and [-2, 2] on alternate trials
	positive               // [0.2, 2]
	unit                   // [-0.9, 0.9]
)

// Every fn of builtins.bp with its gradient, and its domain.
var fns = []struct {
	name    string
	f, grad any
	domain  domain
}{
	{"exp", FExp, FExpGrad, reals},
	{"log", FLog, FLogGrad, positive},
	{"log1p", FLog1p, FLog1pGrad, positive},
	{"sqrt", FSqrt, FSqrtGrad, positive},
	{"sin", FSin, FSinGrad, reals},
	{"cos", FCos, FCosGrad, reals},
	{"tan", FTan, FTanGrad, reals},
	{"tanh", FTanh, FTanhGrad, reals},
	{"atan", FAtan, FAtanGrad, reals},
	{"erf", FErf, FErfGrad, reals},
	{"norm_cdf", FNormCdf, FNormCdfGrad, reals},
	{"abs", FAbs, FAbsGrad, reals},
	{"sigmoid", FSigmoid, FSigmoidGrad, reals},
	{"relu", FRelu, FReluGrad, reals},
	{"softplus", FSoftplus, FSoftplusGrad, reals},
	{"leaky_relu", FLeakyRelu, FLeakyReluGrad, reals},
	{"cosh", FCosh, FCoshGrad, reals},
	{"sinh", FSinh, FSinhGrad, reals},
	{"asin", FAsin, FAsinGrad, unit},
	{"acos", FAcos, FAcosGrad, unit},
	{"expm1", FExpm1, FExpm1Grad, reals},
	{"log2", FLog2, FLog2Grad, positive},
	{"log10", FLog10, FLog10Grad, positive},
	{"square", FSquare, FSquareGrad, reals},
	{"rsqrt", FRsqrt, FRsqrtGrad, positive},
	{"gelu", FGelu, FGeluGrad, reals},
	{"silu", FSilu, FSiluGrad, reals},
	{"softsign", FSoftsign, FSoftsignGrad, reals},
	{"elu", FElu, FEluGrad, reals},
	{"clip", FClip, FClipGrad, reals},
	{"clip_vec", FClipVec, FClipVecGrad, reals},
	{"huber", FHuber, FHuberGrad, positive}, // delta > 0
	{"huber_vec", FHuberVec, FHuberVecGrad, positive},
	{"bce", FBce, FBceGrad, reals},
	{"bce_vec", FBceVec, FBceVecGrad, reals},
	{"min", FMin, FMinGrad, reals},
	{"max", FMax, FMaxGrad, reals},
	{"pow", FPow, FPowGrad, positive},
	{"ops", FOps, FOpsGrad, positive},
	{"assoc", FAssoc, FAssocGrad, positive},
	{"sum", FSum, FSumGrad, reals},
	{"mean", FMean, FMeanGrad, reals},
	{"dot", FDot, FDotGrad, reals},
	{"mse", FMse, FMseGrad, reals},
	{"matvec", FMatvec, FMatvecGrad, reals},
	{"vecmat", FVecmat, FVecmatGrad, reals},
	{"matmat", FMatmat, FMatmatGrad, reals},
	{"transpose", FTranspose, FTransposeGrad, reals},
	{"softmax", FSoftmax, FSoftmaxGrad, reals},
	{"log_softmax", FLogSoftmax, FLogSoftmaxGrad, reals},
	{"logsumexp", FLogsumexp, FLogsumexpGrad, reals},
	{"zeros", FZeros, FZerosGrad, reals},
	{"row", FRow, FRowGrad, reals},
	{"call", FCall, FCallGrad, reals},
}

// args builds a call's arguments (float64s and arrays of them) from x.
func args(fn reflect.Type, x []float64) []reflect.Value {
	var out []reflect.Value
	for i := range fn.NumIn() {
		v := reflect.New(fn.In(i)).Elem()
		x = fill(v, x)
		out = append(out, v)
	}
	return out
}

func fill(v reflect.Value, x []float64) []float64 {
	if v.Kind() == reflect.Float64 {
		v.SetFloat(x[0])
		return x[1:]
	}
	for i := range v.Len() {
		x = fill(v.Index(i), x)
	}
	return x
}

func flatten(v reflect.Value, out []float64) []float64 {
	if v.Kind() == reflect.Float64 {
		return append(out, v.Float())
	}
	for i := range v.Len() {
		out = flatten(v.Index(i), out)
	}
	return out
}

func size(t reflect.Type) int {
	if t.Kind() == reflect.Float64 {
		return 1
	}
	return t.Len() * size(t.Elem())
}

func TestEveryBuiltinMatchesFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, fn := range fns {
		f, g := reflect.ValueOf(fn.f), reflect.ValueOf(fn.grad)
		n := 0
		for i := range f.Type().NumIn() {
			n += size(f.Type().In(i))
		}
		for trial := range 8 {
			x := make([]float64, n)
			for i := range x {
				switch {
				case fn.domain == unit:
					x[i] = 1.8*r.Float64() - 0.9
				case fn.domain == reals && trial%2 == 1:
					x[i] = 4*r.Float64() - 2
				default:
					x[i] = 0.2 + 1.8*r.Float64()
				}
			}
			res := g.Call(args(g.Type(), x))
			value := f.Call(args(f.Type(), x))[0].Float()
			if res[0].Float() != value {
				t.Errorf("%s at %v: Grad's value %v, value function %v", fn.name, x, res[0].Float(), value)
			}
			var grad []float64
			for _, r := range res[1:] {
				grad = flatten(r, grad)
			}
			eval := func() float64 { return f.Call(args(f.Type(), x))[0].Float() }
			for _, bad := range gradcheck.Compare(eval, x, grad, nil) {
				t.Errorf("%s at %v: %s", fn.name, x, bad)
			}
		}
	}
}

// stop_gradient hides its argument from differentiation, so finite
// differences (which see through it) do not apply: f = x·sg(x·y) has
// ∂f/∂x = x·y and ∂f/∂y = 0.
func TestStopGradient(t *testing.T) {
	x, y := 1.5, -2.0
	v, dx, dy := FStopGradientGrad(x, y)
	if v != x*x*y || dx != x*y || dy != 0 {
		t.Errorf("got %v, %v, %v; want %v, %v, 0", v, dx, dy, x*x*y, x*y)
	}
}

// Non-smooth points take the subgradients docs/LANGUAGE.md documents.
func TestSubgradients(t *testing.T) {
	if _, d := FReluGrad(0); d != 0 {
		t.Errorf("relu'(0) = %v, want 0", d)
	}
	if _, d := FAbsGrad(0); d != 0 {
		t.Errorf("abs'(0) = %v, want 0", d)
	}
	if v, dx, dy := FMaxGrad(1, 1); v != 1 || dx != 1 || dy != 0 {
		t.Errorf("max tie: %v, %v, %v; want 1, 1, 0 (gradient to the first argument)", v, dx, dy)
	}
	if v, dx, dy := FMinGrad(1, 1); v != 1 || dx != 1 || dy != 0 {
		t.Errorf("min tie: %v, %v, %v; want 1, 1, 0", v, dx, dy)
	}
	if _, dx, _ := FLeakyReluGrad(0, 0.1); dx != 0.1 {
		t.Errorf("leaky_relu'(0) = %v, want the slope 0.1", dx)
	}
	if v, dx, _ := FLeakyReluGrad(-2, 0.1); v != -0.2 || dx != 0.1 {
		t.Errorf("leaky_relu(-2, 0.1) = %v, %v; want -0.2, 0.1", v, dx)
	}
}

func finite(t *testing.T, name string, vs ...float64) {
	t.Helper()
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("%s: %v is not finite", name, vs)
			return
		}
	}
}

// For inputs of ±1000 nothing may overflow to Inf or NaN, and the values are
// the limits the functions tend to.
func TestStableAtLargeInputs(t *testing.T) {
	for _, x := range []float64{1000, -1000} {
		v, d := FSigmoidGrad(x)
		finite(t, "sigmoid", v, d)
		if want := math.Max(0, math.Copysign(1, x)); math.Abs(v-want) > 1e-300 || d != 0 {
			t.Errorf("sigmoid(%v) = %v, %v; want %v, 0", x, v, d, want)
		}
		v, d = FSoftplusGrad(x)
		finite(t, "softplus", v, d)
		if want := math.Max(0, x); v != want {
			t.Errorf("softplus(%v) = %v, want %v", x, v, want)
		}
	}
	x := [4]float64{1000, -1000, 0, 1000}
	v, d := FLogsumexpGrad(x)
	finite(t, "logsumexp", append([]float64{v}, d[:]...)...)
	if want := 1000 + math.Ln2; math.Abs(v-want) > 1e-12 {
		t.Errorf("logsumexp = %v, want %v", v, want)
	}
	// 1000 + ln 2 is rounded to the spacing of floats near 1000 (1.1e-13),
	// so softmax here is 0.5 to about that relative accuracy.
	near := func(got, want [4]float64) bool {
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				return false
			}
		}
		return true
	}
	if !near(d, [4]float64{0.5, 0, 0, 0.5}) {
		t.Errorf("logsumexp gradient %v, want softmax [0.5 0 0 0.5]", d)
	}
	w := [4]float64{1, 2, 3, 4}
	v, dx, dw := FSoftmaxGrad(x, w)
	finite(t, "softmax", append(append([]float64{v}, dx[:]...), dw[:]...)...)
	if math.Abs(v-2.5) > 1e-12 || !near(dw, [4]float64{0.5, 0, 0, 0.5}) {
		t.Errorf("softmax: w·softmax(x) = %v (want 2.5), d/dw = %v", v, dw)
	}
	v, dx, dw = FLogSoftmaxGrad(x, w)
	finite(t, "log_softmax", append(append([]float64{v}, dx[:]...), dw[:]...)...)
	if want := 1*-math.Ln2 + 2*(-2000-math.Ln2) + 3*(-1000-math.Ln2) + 4*-math.Ln2; math.Abs(v-want) > 1e-9 {
		t.Errorf("w·log_softmax(x) = %v, want %v", v, want)
	}
}

// a - b - c is (a - b) - c, a / b / c is (a / b) / c and a ^ b ^ c is a ^ (b ^ c).
func TestAssociativity(t *testing.T) {
	a, b, c := 2.0, 3.0, 0.5
	want := (a - b) - c + (a/b)/c + math.Pow(a, math.Pow(b, c))
	if got := FAssoc(a, b, c); got != want {
		t.Errorf("assoc = %v, want %v", got, want)
	}
	x, y := 1.5, 2.5
	if got, want := FOps(x, y), -x/y-math.Pow(y, 3)+x*y-2; math.Abs(got-want) > 1e-15 {
		t.Errorf("ops = %v, want %v (unary minus binds looser than ^)", got, want)
	}
}

func TestNoAllocs(t *testing.T) {
	var A [2][3]float64
	var x [3]float64
	var w [4]float64
	for name, f := range map[string]func(){
		"matvec":  func() { sink, _, _ = FMatvecGrad(A, x) },
		"softmax": func() { sink, _, _ = FSoftmaxGrad(w, w) },
		"call":    func() { sink, _, _ = FCallGrad(x, 2) },
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s allocates %v times", name, a)
		}
	}
}

// sink keeps results alive, so the calls measured are not optimized away.
var sink float64

// softmax, log_softmax and logsumexp are computed from x − max(x), so
// shifting x by c changes neither softmax nor log_softmax, nor their
// gradients: the max-shifted form loses nothing for any c. (The form
// exp(x − logsumexp(x)) lost up to 2e-5 relative at c = 1e12.)
func TestShiftInvariance(t *testing.T) {
	base := [4]float64{0, 1, -1, 0.5}
	w := [4]float64{0.3, -1.2, 2, 0.7}
	_, sdx0, sdw0 := FSoftmaxGrad(base, w)
	_, ldx0, ldw0 := FLogSoftmaxGrad(base, w)
	_, edx0 := FLogsumexpGrad(base)
	for _, c := range []float64{1e3, 1e6, 1e9, 1e12} {
		var x [4]float64
		for i := range x {
			x[i] = base[i] + c // exact: every element is a multiple of 0.5 far below c's spacing
		}
		_, sdx, sdw := FSoftmaxGrad(x, w)
		_, ldx, ldw := FLogSoftmaxGrad(x, w)
		_, edx := FLogsumexpGrad(x)
		for _, pair := range []struct {
			name      string
			got, want [4]float64
		}{
			{"softmax d/dx", sdx, sdx0}, {"softmax d/dw", sdw, sdw0},
			{"log_softmax d/dx", ldx, ldx0}, {"log_softmax d/dw", ldw, ldw0},
			{"logsumexp d/dx", edx, edx0},
		} {
			for i := range pair.got {
				if err := gradcheck.RelErr(pair.got[i], pair.want[i], 1e-300); err > 1e-14 {
					t.Errorf("c = %g: %s[%d] = %v, unshifted %v (relative error %.2g)", c, pair.name, i, pair.got[i], pair.want[i], err)
				}
			}
		}
	}
}

// ∂(x^y)/∂y is x^y·log x, taken as 0 at x = 0 (as JAX does), where the
// formula is NaN: one zero in the data must not ruin a fitted exponent.
func TestPowExponentGradientAtZero(t *testing.T) {
	for _, y := range []float64{0.5, 1, 2.5, 3} {
		v, dx, dy := FPowGrad(0, y)
		if v != 0 || dy != 0 || math.IsNaN(dx) {
			t.Errorf("pow(0, %v) = %v, d/dx %v, d/dy %v; want 0, finite, 0", y, v, dx, dy)
		}
	}
	// Away from 0 the rule is the usual one.
	if _, _, dy := FPowGrad(2, 3); math.Abs(dy-8*math.Ln2) > 1e-14 {
		t.Errorf("d/dy 2^y at y = 3 is %v, want %v", dy, 8*math.Ln2)
	}
}

// The new built-ins at points where their values and derivatives are known
// in closed form.
func TestKnownValues(t *testing.T) {
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-15*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	v, d := FGeluGrad(0)
	near("gelu(0)", v, 0)
	near("gelu'(0)", d, 0.5)
	v, d = FGeluGrad(1)
	near("gelu(1)", v, 0.5*math.Erfc(-1/math.Sqrt2))
	near("gelu'(1)", d, 0.5*math.Erfc(-1/math.Sqrt2)+math.Exp(-0.5)/math.Sqrt(2*math.Pi))
	v, d = FSiluGrad(0)
	near("silu(0)", v, 0)
	near("silu'(0)", d, 0.5)
	v, dx, dt := FBceGrad(0, 1)
	near("bce(0, 1)", v, math.Ln2)
	near("d/dx bce(0, 1)", dx, -0.5)
	near("d/dt bce(0, 1)", dt, 0)
	v, d = FSoftsignGrad(-3)
	near("softsign(-3)", v, -0.75)
	near("softsign'(-3)", d, 1.0/16)
	v, d = FRsqrtGrad(4)
	near("rsqrt(4)", v, 0.5)
	near("rsqrt'(4)", d, -1.0/16)
	v, d = FLog2Grad(8)
	near("log2(8)", v, 3)
	near("log2'(8)", d, 1/(8*math.Ln2))
	v, d = FLog10Grad(1000)
	near("log10(1000)", v, 3)
	near("log10'(1000)", d, 1/(1000*math.Ln10))
	v, d = FAsinGrad(0.5)
	near("asin(0.5)", v, math.Pi/6)
	near("asin'(0.5)", d, 1/math.Sqrt(0.75))
	v, d = FAcosGrad(0.5)
	near("acos(0.5)", v, math.Pi/3)
	near("acos'(0.5)", d, -1/math.Sqrt(0.75))
	v, d = FExpm1Grad(1e-10)
	near("expm1(1e-10)", v, 1.00000000005e-10)
	near("expm1'(1e-10)", d, math.Exp(1e-10))
	v, dx, da := FEluGrad(-1, 2)
	near("elu(-1, 2)", v, 2*math.Expm1(-1))
	near("d/dx elu(-1, 2)", dx, 2*math.Exp(-1))
	near("d/dalpha elu(-1, 2)", da, math.Expm1(-1))
}

// Huber is PyTorch's HuberLoss without reduction: quadratic inside the
// threshold, linear outside, with a derivative that is the residual
// clipped to it.
func TestHuber(t *testing.T) {
	for _, c := range []struct{ a, b, delta, v, da, dd float64 }{
		{1.5, 1, 1, 0.125, 0.5, 0}, // |r| = 0.5 inside: r²/2, r, 0
		{4, 1, 1, 2.5, 1, 2},       // r = 3: delta·(|r| − delta/2), delta, |r| − delta
		{-2, 1, 2, 4, -2, 1},       // r = −3, delta 2: 2·(3 − 1), −delta, 3 − 2
		{1, 1, 0.5, 0, 0, 0},       // r = 0
		{2, 1, 1, 0.5, 1, 0},       // |r| = delta: both branches agree
	} {
		v, da, db, dd := FHuberGrad(c.a, c.b, c.delta)
		if v != c.v || da != c.da || db != -c.da || dd != c.dd {
			t.Errorf("huber(%v, %v, %v) = %v, %v, %v, %v; want %v, %v, %v, %v", c.a, c.b, c.delta, v, da, db, dd, c.v, c.da, -c.da, c.dd)
		}
	}
}

// clip passes the gradient to x inside [lo, hi], bounds included, and to
// the bound that is taken outside it.
func TestClipSubgradients(t *testing.T) {
	for _, c := range []struct{ x, v, dx, dlo, dhi float64 }{
		{0.5, 0.5, 1, 0, 0},
		{-1, -1, 1, 0, 0}, // at lo
		{2, 2, 1, 0, 0},   // at hi
		{-3, -1, 0, 1, 0},
		{5, 2, 0, 0, 1},
	} {
		v, dx, dlo, dhi := FClipGrad(c.x, -1, 2)
		if v != c.v || dx != c.dx || dlo != c.dlo || dhi != c.dhi {
			t.Errorf("clip(%v, -1, 2) = %v, %v, %v, %v; want %v, %v, %v, %v", c.x, v, dx, dlo, dhi, c.v, c.dx, c.dlo, c.dhi)
		}
	}
	if _, dx, _ := FEluGrad(0, 0.7); dx != 0.7 {
		t.Errorf("elu'(0) = %v, want alpha 0.7", dx)
	}
}

// silu and bce_with_logits stay finite for logits of ±1000 and tend to
// their limits.
func TestNewBuiltinsStable(t *testing.T) {
	for _, x := range []float64{1000, -1000} {
		v, d := FSiluGrad(x)
		finite(t, "silu", v, d)
		if want := math.Max(x, 0); v != want || d != math.Max(0, math.Copysign(1, x)) {
			t.Errorf("silu(%v) = %v, %v; want %v, %v", x, v, d, want, math.Max(0, math.Copysign(1, x)))
		}
		for _, target := range []float64{0, 1} {
			v, dx, dt := FBceGrad(x, target)
			finite(t, "bce_with_logits", v, dx, dt)
			want := math.Max(x, 0) - x*target
			if v != want {
				t.Errorf("bce_with_logits(%v, %v) = %v, want %v", x, target, v, want)
			}
		}
	}
}
