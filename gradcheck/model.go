package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// Model is the method set of every generated model's parameter type *P,
// with workspace W, inputs I and outputs O. For xor.bp, P, W, I and O are
// xor.XorParams, xor.XorWorkspace, xor.XorInputs and xor.XorOutputs.
type Model[P, W, I, O any] interface {
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

// Inputs is the method set of every generated model's input type *I. A
// model with integer inputs also has Validate, which the random checks use
// to draw them within range.
type Inputs[I any] interface {
	*I
	Flat() []float64
	Ints() []int
	Layout() (names, fields []string, sizes []int)
}

// Options tune the checks. The zero value checks every coordinate at three
// random points drawn from seed 0.
type Options struct {
	// Coords is how many gradient coordinates to check by finite
	// differences at each point, chosen at random; 0 (or more than there
	// are) checks all of them. Each costs two Forward calls.
	Coords int
	// Seed chooses the sampled coordinates and the random points.
	Seed uint64
	// Points is how many random points CheckModelRandom and CheckFnRandom
	// check (3 if 0).
	Points int
	// NoFD skips the finite differences (a test makes its own).
	NoFD bool
}

// CheckModel checks a generated model at the point p, in:
//
//   - its gradient against finite differences of Forward's loss (Coords
//     coordinates, or all; kinks as the package documentation says);
//   - Forward then Backward against LossGrad, loss and gradient to the bit;
//   - that Backward and LossGrad add into g;
//   - that BackwardTo and LossGradTo overwrite a g of NaNs with what
//     Backward and LossGrad add into a cleared g (equal up to the sign of
//     zero: 0 + (−0) is +0);
//   - that Predict's outputs are Forward's, to the bit;
//   - that Layout describes the fields of Params and Inputs, in Flat's
//     order, and Ints the integer inputs;
//   - that Forward, Backward, BackwardTo, LossGrad, LossGradTo and Predict
//     allocate nothing (testing.AllocsPerRun).
//
// A failure names the parameter and element by Layout (W1[3][1]) and gives
// both values. p and in are left as they were.
func CheckModel[P, W, I, O any, PP Model[P, W, I, O], IP Inputs[I]](t testing.TB, p PP, in IP, opt Options) {
	t.Helper()
	name := elementNamer(reflect.ValueOf(p).Elem(), p.Layout)
	var ws W
	var out, pred O
	loss := p.Forward(&ws, in, &out)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		t.Errorf("Forward's loss is %v: choose a point where the model is defined", loss)
	}
	g := PP(new(P))
	p.Backward(&ws, in, g)

	// LossGrad is Forward then Backward in one pass.
	gl := PP(new(P))
	if l := p.LossGrad(new(W), in, gl); !sameBits(l, loss) {
		t.Errorf("LossGrad's loss %v, Forward's %v", l, loss)
	}
	diffBits(t, "LossGrad vs Forward+Backward", name, gl.Flat(), g.Flat())

	// The overwrite forms write every entry: NaN left anywhere fails.
	gt := PP(new(P))
	fill(gt.Flat(), math.NaN())
	p.Forward(&ws, in, nil)
	p.BackwardTo(&ws, in, gt)
	diffValues(t, "BackwardTo vs Backward into zero", name, gt.Flat(), g.Flat())
	fill(gt.Flat(), math.NaN())
	if l := p.LossGradTo(new(W), in, gt); !sameBits(l, loss) {
		t.Errorf("LossGradTo's loss %v, Forward's %v", l, loss)
	}
	diffValues(t, "LossGradTo vs LossGrad into zero", name, gt.Flat(), gl.Flat())

	checkAdds(t, p, in, g, name)

	// Predict computes the outputs alone.
	p.Predict(new(W), in, &pred)
	if !reflect.DeepEqual(bitsOf(reflect.ValueOf(pred), nil), bitsOf(reflect.ValueOf(out), nil)) {
		t.Errorf("Predict's outputs %v, Forward's %v", pred, out)
	}

	checkLayout(t, reflect.ValueOf(p).Elem(), p.Flat(), p.Layout)
	checkInputs[I](t, in)
	if !opt.NoFD {
		f := func() float64 { return p.Forward(&ws, in, nil) }
		r := rand.New(rand.NewPCG(opt.Seed, 1))
		idx := Sample(r, len(p.Flat()), opt.Coords)
		compare(f, p.Flat(), g.Flat(), idx, name).report(t, "finite differences")
	}
	checkAllocs(t, p, in)
}

// CheckModelRandom runs CheckModel at Options.Points random points (3 by
// default) drawn from Options.Seed: the parameters as Init sets them, each
// then moved by a uniform draw in ±0.1 (so that biases are not all 0), the
// float inputs uniform in ±1 and the integer inputs uniform in the range
// Validate accepts. A point where the loss is not finite is drawn again, up
// to 20 times. Each failure says which point, and its seed.
func CheckModelRandom[P, W, I, O any, PP Model[P, W, I, O], IP Inputs[I]](t testing.TB, opt Options) {
	t.Helper()
	points := opt.Points
	if points == 0 {
		points = 3
	}
	bounds := intBounds(IP(new(I)))
	for k := range points {
		seed := opt.Seed + uint64(k)
		p, in, ok := drawModel[P, W, I, O, PP, IP](seed, bounds)
		pt := &prefixed{TB: t, prefix: fmt.Sprintf("point %d (seed %d): ", k, seed)}
		if !ok {
			pt.Errorf("the loss is not finite at 20 random points: check the model with CheckModel at a point where it is defined")
			continue
		}
		o := opt
		o.Seed = seed
		CheckModel[P, W, I, O, PP, IP](pt, p, in, o)
	}
}

// drawModel draws a point for CheckModelRandom from seed, the integer
// inputs below bounds.
func drawModel[P, W, I, O any, PP Model[P, W, I, O], IP Inputs[I]](seed uint64, bounds []int) (PP, IP, bool) {
	r := rand.New(rand.NewPCG(seed, 2))
	p, in := PP(new(P)), IP(new(I))
	var ws W
	for range 20 {
		p.Init(r.Uint64())
		for i, x := range p.Flat() {
			p.Flat()[i] = x + 0.1*(2*r.Float64()-1)
		}
		Fill(r, in.Flat(), 1)
		for k, b := range bounds {
			in.Ints()[k] = r.IntN(b)
		}
		if l := p.Forward(&ws, in, nil); !math.IsNaN(l) && !math.IsInf(l, 0) {
			return p, in, true
		}
	}
	return p, in, false
}

// intBounds finds, for each integer input, the n such that Validate
// accepts 0 to n−1 (the others 0), by doubling and then bisecting; 1 for
// inputs without Validate, which are then always 0.
func intBounds[I any, IP Inputs[I]](in IP) []int {
	ints := in.Ints()
	bounds := make([]int, len(ints))
	v, ok := any(in).(interface{ Validate() error })
	for k := range ints {
		bounds[k] = 1
		if !ok {
			continue
		}
		valid := func(x int) bool {
			ints[k] = x
			defer func() { ints[k] = 0 }()
			return v.Validate() == nil
		}
		lo, hi := 1, 2 // valid(lo) is true (or lo is 1), valid(hi) unknown
		for hi <= 1<<24 && valid(hi-1) {
			lo, hi = hi, 2*hi
		}
		for lo+1 < hi { // the bound is in (lo, hi]: valid(lo−1), not valid(hi−1)
			mid := lo + (hi-lo)/2
			if valid(mid - 1) {
				lo = mid
			} else {
				hi = mid
			}
		}
		bounds[k] = lo
	}
	return bounds
}

// prefixed is t with every message prefixed, for the point it is about.
type prefixed struct {
	testing.TB
	prefix string
}

func (p *prefixed) Errorf(format string, args ...any) {
	p.TB.Helper()
	p.TB.Errorf("%s%s", p.prefix, fmt.Sprintf(format, args...))
}

func (p *prefixed) Logf(format string, args ...any) {
	p.TB.Helper()
	p.TB.Logf("%s%s", p.prefix, fmt.Sprintf(format, args...))
}

func (p *prefixed) Fatalf(format string, args ...any) {
	p.TB.Helper()
	p.TB.Fatalf("%s%s", p.prefix, fmt.Sprintf(format, args...))
}

// checkAdds checks that Backward and LossGrad add into g: run twice on a
// cleared g they give twice the gradient (to rounding: a loop that sums
// into g adds its steps to what is there).
func checkAdds[P, W, I, O any, PP Model[P, W, I, O]](t testing.TB, p PP, in *I, g PP, name func(int) string) {
	t.Helper()
	var ws W
	twice := PP(new(P))
	p.Forward(&ws, in, nil)
	p.Backward(&ws, in, twice)
	p.Backward(&ws, in, twice)
	twiceLG := PP(new(P))
	p.LossGrad(&ws, in, twiceLG)
	p.LossGrad(&ws, in, twiceLG)
	// The second call adds to what the first left, in the order its
	// terms come (a loop adds each step's), so an entry whose terms cancel
	// differs by rounding: compare within each parameter's largest entry.
	_, _, sizes := p.Layout()
	double := make([]float64, len(g.Flat()))
	for i, v := range g.Flat() {
		double[i] = 2 * v
	}
	off := 0
	for _, size := range sizes {
		for _, c := range []struct {
			what string
			got  []float64
		}{{"Backward", twice.Flat()}, {"LossGrad", twiceLG.Flat()}} {
			if d, i := tensorDiff(c.got[off:off+size], double[off:off+size], 0); d > 1e-12 {
				t.Errorf("%s twice: %s is %v, want 2 × %v", c.what, name(off+i), c.got[off+i], g.Flat()[off+i])
				return
			}
		}
		off += size
	}
}

func checkAllocs[P, W, I, O any, PP Model[P, W, I, O]](t testing.TB, p PP, in *I) {
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

// elementNamer returns a function naming element i of Flat by Layout: the
// .bp name and the index of the element in its array (W1[3][1]). If
// Layout does not match the fields (checkLayout reports that), it names
// Flat()[i].
func elementNamer(v reflect.Value, layout func() ([]string, []string, []int)) func(int) string {
	names, fields, sizes := layout()
	type entry struct {
		name string
		off  int
		dims []int
	}
	var entries []entry
	off := 0
	for k, field := range fields {
		if k >= len(names) || k >= len(sizes) {
			break
		}
		fv := v.FieldByName(field)
		if !fv.IsValid() || fv.Kind() == reflect.Int {
			continue
		}
		entries = append(entries, entry{names[k], off, dimsOf(fv.Type())})
		off += sizes[k]
	}
	return func(i int) string {
		for _, e := range entries {
			n := 1
			for _, d := range e.dims {
				n *= d
			}
			if i < e.off || i >= e.off+n {
				continue
			}
			s, rest := e.name, i-e.off
			for j := range e.dims {
				stride := n
				for _, d := range e.dims[:j+1] {
					stride /= d
				}
				s += fmt.Sprintf("[%d]", rest/stride)
				rest %= stride
			}
			return fmt.Sprintf("%s (Flat()[%d])", s, i)
		}
		return fmt.Sprintf("Flat()[%d]", i)
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
		if isInts(fv) {
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
		if !isInts(fv) {
			if k > 0 {
				t.Errorf("%s.Layout lists float input %s after an integer input", v.Type(), field)
			}
			continue
		}
		for j, e := range intsOf(fv, nil) {
			if k >= len(ints) {
				t.Errorf("%s.Ints has %d numbers, Layout more", v.Type(), len(ints))
				return
			}
			ints[k] = 1000 + k
			if e.Int() != int64(1000+k) {
				t.Errorf("%s.Ints()[%d] is not element %d of field %s", v.Type(), k, j, field)
			}
			k++
		}
	}
	if k != len(ints) {
		t.Errorf("%s.Ints has %d numbers, Layout %d integer inputs", v.Type(), len(ints), k)
	}
}

// isInts reports whether v is an int or an array of them (of any rank):
// an integer input.
func isInts(v reflect.Value) bool {
	t := v.Type()
	for t.Kind() == reflect.Array {
		t = t.Elem()
	}
	return t.Kind() == reflect.Int
}

// intsOf appends the ints of v, an int or an array of them, in row-major
// order.
func intsOf(v reflect.Value, out []reflect.Value) []reflect.Value {
	if v.Kind() != reflect.Array {
		return append(out, v)
	}
	for i := range v.Len() {
		out = intsOf(v.Index(i), out)
	}
	return out
}

// CheckInit checks a model's Init: the same seed gives the same numbers
// and another seed others; each parameter Layout lists with two or more
// dimensions lies within ±√(6/(fanIn+fanOut)), fanIn and fanOut its last
// two dimensions (of a rank-4 convolution kernel [F, C, KH, KW], C·KH·KW
// and F·KH·KW), and, if it has 200 numbers or more, has mean about 0 and
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
	diffBits(t, "Init(1) twice", elementNamer(reflect.ValueOf(a).Elem(), a.Layout), b.Flat(), a.Flat())
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
		fanIn, fanOut := dims[len(dims)-1], dims[len(dims)-2]
		if len(dims) == 4 {
			fanIn, fanOut = len(x)/dims[0], len(x)/dims[1]
		}
		want := 2 / float64(fanIn+fanOut)
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

// floatsOf appends every float64 in v (a float64, or an array, slice or
// struct of them) to out.
func floatsOf(v reflect.Value, out []float64) []float64 {
	switch v.Kind() {
	case reflect.Float64:
		return append(out, v.Float())
	case reflect.Array, reflect.Slice:
		for i := range v.Len() {
			out = floatsOf(v.Index(i), out)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			out = floatsOf(v.Field(i), out)
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

// diffBits reports the first element where got and want differ in bits.
func diffBits(t testing.TB, what string, name func(int) string, got, want []float64) {
	t.Helper()
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Errorf("%s: %s is %v, want %v (to the bit)", what, name(i), got[i], want[i])
			return
		}
	}
}

// diffValues is diffBits up to the sign of zero: 0 + (−0) is +0, so
// adding into a cleared g and assigning may differ there.
func diffValues(t testing.TB, what string, name func(int) string, got, want []float64) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Errorf("%s: %s is %v, want %v", what, name(i), got[i], want[i])
			return
		}
	}
}
