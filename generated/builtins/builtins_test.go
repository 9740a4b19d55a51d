package builtins

import (
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/backpropgen/backpropgen/internal/gradcheck"
)

// Every fn of builtins.bp with its gradient, and whether it is defined only
// for positive arguments.
var fns = []struct {
	name     string
	f, grad  any
	positive bool
}{
	{"exp", F_exp, F_expGrad, false},
	{"log", F_log, F_logGrad, true},
	{"log1p", F_log1p, F_log1pGrad, true},
	{"sqrt", F_sqrt, F_sqrtGrad, true},
	{"sin", F_sin, F_sinGrad, false},
	{"cos", F_cos, F_cosGrad, false},
	{"tan", F_tan, F_tanGrad, false},
	{"tanh", F_tanh, F_tanhGrad, false},
	{"atan", F_atan, F_atanGrad, false},
	{"erf", F_erf, F_erfGrad, false},
	{"norm_cdf", F_norm_cdf, F_norm_cdfGrad, false},
	{"abs", F_abs, F_absGrad, false},
	{"sigmoid", F_sigmoid, F_sigmoidGrad, false},
	{"relu", F_relu, F_reluGrad, false},
	{"softplus", F_softplus, F_softplusGrad, false},
	{"leaky_relu", F_leaky_relu, F_leaky_reluGrad, false},
	{"min", F_min, F_minGrad, false},
	{"max", F_max, F_maxGrad, false},
	{"pow", F_pow, F_powGrad, true},
	{"ops", F_ops, F_opsGrad, true},
	{"assoc", F_assoc, F_assocGrad, true},
	{"sum", F_sum, F_sumGrad, false},
	{"mean", F_mean, F_meanGrad, false},
	{"dot", F_dot, F_dotGrad, false},
	{"mse", F_mse, F_mseGrad, false},
	{"matvec", F_matvec, F_matvecGrad, false},
	{"vecmat", F_vecmat, F_vecmatGrad, false},
	{"matmat", F_matmat, F_matmatGrad, false},
	{"transpose", F_transpose, F_transposeGrad, false},
	{"softmax", F_softmax, F_softmaxGrad, false},
	{"log_softmax", F_log_softmax, F_log_softmaxGrad, false},
	{"logsumexp", F_logsumexp, F_logsumexpGrad, false},
	{"zeros", F_zeros, F_zerosGrad, false},
	{"row", F_row, F_rowGrad, false},
	{"call", F_call, F_callGrad, false},
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
				x[i] = 0.2 + 1.8*r.Float64()
				if !fn.positive && trial%2 == 1 {
					x[i] = 4*r.Float64() - 2
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
	v, dx, dy := F_stop_gradientGrad(x, y)
	if v != x*x*y || dx != x*y || dy != 0 {
		t.Errorf("got %v, %v, %v; want %v, %v, 0", v, dx, dy, x*x*y, x*y)
	}
}

// Non-smooth points take the subgradients docs/LANGUAGE.md documents.
func TestSubgradients(t *testing.T) {
	if _, d := F_reluGrad(0); d != 0 {
		t.Errorf("relu'(0) = %v, want 0", d)
	}
	if _, d := F_absGrad(0); d != 0 {
		t.Errorf("abs'(0) = %v, want 0", d)
	}
	if v, dx, dy := F_maxGrad(1, 1); v != 1 || dx != 1 || dy != 0 {
		t.Errorf("max tie: %v, %v, %v; want 1, 1, 0 (gradient to the first argument)", v, dx, dy)
	}
	if v, dx, dy := F_minGrad(1, 1); v != 1 || dx != 1 || dy != 0 {
		t.Errorf("min tie: %v, %v, %v; want 1, 1, 0", v, dx, dy)
	}
	if _, dx, _ := F_leaky_reluGrad(0, 0.1); dx != 0.1 {
		t.Errorf("leaky_relu'(0) = %v, want the slope 0.1", dx)
	}
	if v, dx, _ := F_leaky_reluGrad(-2, 0.1); v != -0.2 || dx != 0.1 {
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
		v, d := F_sigmoidGrad(x)
		finite(t, "sigmoid", v, d)
		if want := math.Max(0, math.Copysign(1, x)); math.Abs(v-want) > 1e-300 || d != 0 {
			t.Errorf("sigmoid(%v) = %v, %v; want %v, 0", x, v, d, want)
		}
		v, d = F_softplusGrad(x)
		finite(t, "softplus", v, d)
		if want := math.Max(0, x); v != want {
			t.Errorf("softplus(%v) = %v, want %v", x, v, want)
		}
	}
	x := [4]float64{1000, -1000, 0, 1000}
	v, d := F_logsumexpGrad(x)
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
	v, dx, dw := F_softmaxGrad(x, w)
	finite(t, "softmax", append(append([]float64{v}, dx[:]...), dw[:]...)...)
	if math.Abs(v-2.5) > 1e-12 || !near(dw, [4]float64{0.5, 0, 0, 0.5}) {
		t.Errorf("softmax: w·softmax(x) = %v (want 2.5), d/dw = %v", v, dw)
	}
	v, dx, dw = F_log_softmaxGrad(x, w)
	finite(t, "log_softmax", append(append([]float64{v}, dx[:]...), dw[:]...)...)
	if want := 1*-math.Ln2 + 2*(-2000-math.Ln2) + 3*(-1000-math.Ln2) + 4*-math.Ln2; math.Abs(v-want) > 1e-9 {
		t.Errorf("w·log_softmax(x) = %v, want %v", v, want)
	}
}

// a - b - c is (a - b) - c, a / b / c is (a / b) / c and a ^ b ^ c is a ^ (b ^ c).
func TestAssociativity(t *testing.T) {
	a, b, c := 2.0, 3.0, 0.5
	want := (a - b) - c + (a/b)/c + math.Pow(a, math.Pow(b, c))
	if got := F_assoc(a, b, c); got != want {
		t.Errorf("assoc = %v, want %v", got, want)
	}
	x, y := 1.5, 2.5
	if got, want := F_ops(x, y), -x/y-math.Pow(y, 3)+x*y-2; math.Abs(got-want) > 1e-15 {
		t.Errorf("ops = %v, want %v (unary minus binds looser than ^)", got, want)
	}
}

func TestNoAllocs(t *testing.T) {
	var A [2][3]float64
	var x [3]float64
	var w [4]float64
	for name, f := range map[string]func(){
		"matvec":  func() { sink, _, _ = F_matvecGrad(A, x) },
		"softmax": func() { sink, _, _ = F_softmaxGrad(w, w) },
		"call":    func() { sink, _, _ = F_callGrad(x, 2) },
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
	_, sdx0, sdw0 := F_softmaxGrad(base, w)
	_, ldx0, ldw0 := F_log_softmaxGrad(base, w)
	_, edx0 := F_logsumexpGrad(base)
	for _, c := range []float64{1e3, 1e6, 1e9, 1e12} {
		var x [4]float64
		for i := range x {
			x[i] = base[i] + c // exact: every element is a multiple of 0.5 far below c's spacing
		}
		_, sdx, sdw := F_softmaxGrad(x, w)
		_, ldx, ldw := F_log_softmaxGrad(x, w)
		_, edx := F_logsumexpGrad(x)
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
		v, dx, dy := F_powGrad(0, y)
		if v != 0 || dy != 0 || math.IsNaN(dx) {
			t.Errorf("pow(0, %v) = %v, d/dx %v, d/dy %v; want 0, finite, 0", y, v, dx, dy)
		}
	}
	// Away from 0 the rule is the usual one.
	if _, _, dy := F_powGrad(2, 3); math.Abs(dy-8*math.Ln2) > 1e-14 {
		t.Errorf("d/dy 2^y at y = 3 is %v, want %v", dy, 8*math.Ln2)
	}
}
