package gradcheck

import (
	"math"
	"math/rand"
	"reflect"
	"testing"
)

// Params is the method set of every generated model's parameter type P,
// with workspace W, inputs I and outputs O.
type Params[P, W, I, O any] interface {
	*P
	Forward(ws *W, in *I, out *O) float64
	Backward(ws *W, in *I, g *P)
	BackwardTo(ws *W, in *I, g *P)
	LossGrad(ws *W, in *I, g *P) float64
	LossGradTo(ws *W, in *I, g *P) float64
	Predict(ws *W, in *I, out *O)
	Flat() []float64
	Layout() (names, fields []string, sizes []int)
	Init(seed uint64)
}

// Inputs is the method set of every generated model's input type I.
type Inputs[I any] interface {
	*I
	Flat() []float64
	Ints() []int
	Layout() (names, fields []string, sizes []int)
}

// Options tune CheckModel.
type Options struct {
	// Coords is how many gradient coordinates to check by finite
	// differences (all if 0 or more than there are).
	Coords int
	// Seed chooses the sampled coordinates.
	Seed int64
	// NoFD skips the finite differences (a test makes its own).
	NoFD bool
}

// CheckModel checks a generated model at p and in: its gradient against
// central differences of Forward; Forward then Backward against LossGrad,
// to the bit; that Backward and LossGrad add into g; that BackwardTo and
// LossGradTo overwrite g (starting from NaN) with what Backward and
// LossGrad add to a cleared g; that Predict's outputs are Forward's, to the
// bit; that Layout describes Params and Inputs; and that Forward,
// Backward, BackwardTo, LossGrad, LossGradTo and Predict allocate nothing.
// p and in are left as they were.
func CheckModel[P, W, I, O any, PP Params[P, W, I, O], IP Inputs[I]](t testing.TB, p PP, in IP, opt Options) {
	t.Helper()
	var ws W
	var out, pred O
	loss := p.Forward(&ws, in, &out)
	g := PP(new(P))
	p.Backward(&ws, in, g)

	// LossGrad is Forward then Backward in one pass.
	gl := PP(new(P))
	if l := p.LossGrad(new(W), in, gl); !sameBits(l, loss) {
		t.Errorf("LossGrad's loss %v, Forward's %v", l, loss)
	}
	diffBits(t, "LossGrad vs Forward+Backward", gl.Flat(), g.Flat())

	// The overwrite forms write every entry: NaN left anywhere fails.
	gt := PP(new(P))
	fill(gt.Flat(), math.NaN())
	p.Forward(&ws, in, nil)
	p.BackwardTo(&ws, in, gt)
	diffValues(t, "BackwardTo vs Backward into zero", gt.Flat(), g.Flat())
	fill(gt.Flat(), math.NaN())
	if l := p.LossGradTo(new(W), in, gt); !sameBits(l, loss) {
		t.Errorf("LossGradTo's loss %v, Forward's %v", l, loss)
	}
	diffValues(t, "LossGradTo vs LossGrad into zero", gt.Flat(), gl.Flat())

	checkAdds(t, p, in, g)

	// Predict computes the outputs alone.
	p.Predict(new(W), in, &pred)
	if !reflect.DeepEqual(bitsOf(reflect.ValueOf(pred), nil), bitsOf(reflect.ValueOf(out), nil)) {
		t.Errorf("Predict's outputs %v, Forward's %v", pred, out)
	}

	checkLayout(t, reflect.ValueOf(p).Elem(), p.Flat(), p.Layout)
	checkInputs[I](t, in)
	if !opt.NoFD {
		f := func() float64 { return p.Forward(&ws, in, nil) }
		idx := Sample(rand.New(rand.NewSource(opt.Seed)), len(p.Flat()), opt.Coords)
		for _, bad := range Compare(f, p.Flat(), g.Flat(), idx) {
			t.Errorf("finite differences: %s", bad)
		}
	}
	checkAllocs(t, p, in)
}

// checkAdds checks that Backward and LossGrad add into g: run twice on a
// cleared g they give twice the gradient (to rounding: a loop that sums
// into g adds its steps to what is there).
func checkAdds[P, W, I, O any, PP Params[P, W, I, O]](t testing.TB, p PP, in *I, g PP) {
	t.Helper()
	var ws W
	twice := PP(new(P))
	p.Forward(&ws, in, nil)
	p.Backward(&ws, in, twice)
	p.Backward(&ws, in, twice)
	twiceLG := PP(new(P))
	p.LossGrad(&ws, in, twiceLG)
	p.LossGrad(&ws, in, twiceLG)
	for i, want := range g.Flat() {
		if e := RelErr(twice.Flat()[i], 2*want, 1e-300); e > 1e-12 {
			t.Errorf("Backward twice: coordinate %d is %v, want 2 × %v", i, twice.Flat()[i], want)
			return
		}
		if e := RelErr(twiceLG.Flat()[i], 2*want, 1e-300); e > 1e-12 {
			t.Errorf("LossGrad twice: coordinate %d is %v, want 2 × %v", i, twiceLG.Flat()[i], want)
			return
		}
	}
}

func checkAllocs[P, W, I, O any, PP Params[P, W, I, O]](t testing.TB, p PP, in *I) {
	t.Helper()
	var ws W
	var out O
	g := PP(new(P))
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"Forward", func() { p.Forward(&ws, in, &out) }},
		{"Backward", func() { p.Backward(&ws, in, g) }},
		{"BackwardTo", func() { p.BackwardTo(&ws, in, g) }},
		{"LossGrad", func() { p.LossGrad(&ws, in, g) }},
		{"LossGradTo", func() { p.LossGradTo(&ws, in, g) }},
		{"Predict", func() { p.Predict(&ws, in, &out) }},
	} {
		if a := testing.AllocsPerRun(5, c.f); a != 0 {
			t.Errorf("%s allocates %v times per call", c.name, a)
		}
	}
}

// checkLayout checks that Layout's fields exist, in Flat's order, with its
// sizes, by writing a distinct number through flat and reading it back
// through the field.
func checkLayout(t testing.TB, v reflect.Value, flat []float64, layout func() ([]string, []string, []int)) {
	t.Helper()
	names, fields, sizes := layout()
	if len(names) != len(fields) || len(names) != len(sizes) {
		t.Errorf("%s.Layout: %d names, %d fields, %d sizes", v.Type(), len(names), len(fields), len(sizes))
		return
	}
	saved := append([]float64(nil), flat...)
	defer copy(flat, saved)
	for i := range flat {
		flat[i] = float64(i)
	}
	off := 0
	for k, field := range fields {
		fv := v.FieldByName(field)
		if !fv.IsValid() {
			t.Errorf("%s.Layout: %s has no field %s (for %s)", v.Type(), v.Type(), field, names[k])
			return
		}
		if fv.Kind() == reflect.Int {
			continue // an integer input: not in Flat
		}
		got := floatsOf(fv, nil)
		if len(got) != sizes[k] {
			t.Errorf("%s.Layout: %s has %d numbers, Layout says %d", v.Type(), field, len(got), sizes[k])
			return
		}
		for j, x := range got {
			if x != float64(off+j) {
				t.Errorf("%s.Layout: %s[%d] is Flat()[%v], want Flat()[%d]", v.Type(), field, j, x, off+j)
				return
			}
		}
		off += sizes[k]
	}
	if off != len(flat) {
		t.Errorf("%s.Layout covers %d float64s, Flat %d", v.Type(), off, len(flat))
	}
}

// checkInputs checks the inputs' Flat, Ints and Layout: the float inputs
// are Flat, in Layout's order, and the integer ones follow as Ints.
func checkInputs[I any, IP Inputs[I]](t testing.TB, in IP) {
	t.Helper()
	v := reflect.ValueOf(in).Elem()
	checkLayout(t, v, in.Flat(), in.Layout)
	_, fields, _ := in.Layout()
	ints := in.Ints()
	saved := append([]int(nil), ints...)
	defer copy(ints, saved)
	k := 0
	for _, field := range fields {
		fv := v.FieldByName(field)
		if fv.Kind() != reflect.Int {
			if k > 0 {
				t.Errorf("%s.Layout lists float input %s after an integer input", v.Type(), field)
			}
			continue
		}
		if k >= len(ints) {
			t.Errorf("%s.Ints has %d numbers, Layout more", v.Type(), len(ints))
			return
		}
		ints[k] = 1000 + k
		if fv.Int() != int64(1000+k) {
			t.Errorf("%s.Ints()[%d] is not field %s", v.Type(), k, field)
		}
		k++
	}
	if k != len(ints) {
		t.Errorf("%s.Ints has %d numbers, Layout %d integer inputs", v.Type(), len(ints), k)
	}
}

// CheckInit checks a model's Init: the same seed gives the same numbers
// and another seed others; each parameter Layout lists with two or more
// dimensions lies within ±√(6/(fanIn+fanOut)), fanIn and fanOut its last
// two dimensions, and, if it has 200 numbers or more, has mean about 0 and
// a variance within a factor of 1.5 of 2/(fanIn+fanOut); the others are 0.
func CheckInit[P any, PP interface {
	*P
	Flat() []float64
	Layout() (names, fields []string, sizes []int)
	Init(seed uint64)
}](t testing.TB) {
	t.Helper()
	a, b, c := PP(new(P)), PP(new(P)), PP(new(P))
	fill(b.Flat(), math.NaN())
	a.Init(1)
	b.Init(1)
	c.Init(2)
	diffBits(t, "Init(1) twice", b.Flat(), a.Flat())
	v := reflect.ValueOf(a).Elem()
	names, fields, _ := a.Layout()
	sameAsOther := true
	for k, field := range fields {
		fv := v.FieldByName(field)
		x := floatsOf(fv, nil)
		y := floatsOf(reflect.ValueOf(c).Elem().FieldByName(field), nil)
		dims := dimsOf(fv.Type())
		if len(dims) < 2 {
			for _, e := range x {
				if e != 0 {
					t.Errorf("Init: %s (a vector or scalar) is not 0", names[k])
					break
				}
			}
			continue
		}
		if !reflect.DeepEqual(x, y) {
			sameAsOther = false
		}
		want := 2 / float64(dims[len(dims)-1]+dims[len(dims)-2])
		limit := math.Sqrt(3 * want) // of the uniform distribution with variance want
		for _, e := range x {
			if math.Abs(e) > limit {
				t.Errorf("Init: %s has %v, outside ±%.3g", names[k], e, limit)
				break
			}
		}
		mean, variance := moments(x)
		if len(x) < 200 { // too few for a steady estimate
			continue
		}
		if variance < want/1.5 || variance > want*1.5 {
			t.Errorf("Init: %s has variance %.3g, want about %.3g", names[k], variance, want)
		}
		if math.Abs(mean) > 4*math.Sqrt(want/float64(len(x))) {
			t.Errorf("Init: %s has mean %.3g, want about 0", names[k], mean)
		}
	}
	if sameAsOther && len(a.Flat()) > 0 && !reflect.DeepEqual(a.Flat(), make([]float64, len(a.Flat()))) {
		t.Errorf("Init(1) and Init(2) give the same parameters")
	}
}

func moments(x []float64) (mean, variance float64) {
	for _, e := range x {
		mean += e
	}
	mean /= float64(len(x))
	for _, e := range x {
		variance += (e - mean) * (e - mean)
	}
	return mean, variance / float64(len(x))
}

func dimsOf(t reflect.Type) []int {
	var dims []int
	for t.Kind() == reflect.Array {
		dims = append(dims, t.Len())
		t = t.Elem()
	}
	return dims
}

func floatsOf(v reflect.Value, out []float64) []float64 {
	switch v.Kind() {
	case reflect.Float64:
		return append(out, v.Float())
	case reflect.Array:
		for i := range v.Len() {
			out = floatsOf(v.Index(i), out)
		}
	}
	return out
}

func bitsOf(v reflect.Value, out []uint64) []uint64 {
	switch v.Kind() {
	case reflect.Float64:
		return append(out, math.Float64bits(v.Float()))
	case reflect.Array:
		for i := range v.Len() {
			out = bitsOf(v.Index(i), out)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			out = bitsOf(v.Field(i), out)
		}
	}
	return out
}

func fill(x []float64, v float64) {
	for i := range x {
		x[i] = v
	}
}

func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// diffBits reports the first coordinate where got and want differ in bits.
func diffBits(t testing.TB, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Errorf("%s: coordinate %d is %v, want %v (to the bit)", what, i, got[i], want[i])
			return
		}
	}
}

// diffValues is diffBits up to the sign of zero: 0 + (−0) is +0, so
// adding into a cleared g and assigning may differ there.
func diffValues(t testing.TB, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Errorf("%s: coordinate %d is %v, want %v", what, i, got[i], want[i])
			return
		}
	}
}

// CheckFn checks a generated fn of n scalar arguments at x: grad's value is
// value's, to the bit; its partials (written into d) match central
// differences; neither allocates.
func CheckFn(t testing.TB, name string, value func(x []float64) float64, grad func(x, d []float64) float64, x []float64) {
	t.Helper()
	d := make([]float64, len(x))
	v := value(x)
	if gv := grad(x, d); !sameBits(gv, v) {
		t.Errorf("%s%v: the gradient function's value %v, the value function's %v", name, x, gv, v)
	}
	for _, bad := range Compare(func() float64 { return value(x) }, x, d, nil) {
		t.Errorf("%s%v: %s", name, x, bad)
	}
	if a := testing.AllocsPerRun(5, func() { value(x) }); a != 0 {
		t.Errorf("%s allocates %v times per call", name, a)
	}
	if a := testing.AllocsPerRun(5, func() { grad(x, d) }); a != 0 {
		t.Errorf("%s's gradient allocates %v times per call", name, a)
	}
}
