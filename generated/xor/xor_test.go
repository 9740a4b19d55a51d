package xor

import (
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

var samples = []XorInputs{
	{X: [2]float64{0, 0}, Y: 0},
	{X: [2]float64{0, 1}, Y: 1},
	{X: [2]float64{1, 0}, Y: 1},
	{X: [2]float64{1, 1}, Y: 0},
}

func randomParams(seed int64) *XorParams {
	var p XorParams
	gradcheck.Fill(rand.New(rand.NewSource(seed)), p.Flat(), 1)
	return &p
}

func TestGradMatchesFiniteDifferences(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		p := randomParams(seed)
		for _, in := range samples {
			var ws XorWorkspace
			var g XorParams
			p.LossGrad(&ws, &in, &g)
			loss := func() float64 { return p.Forward(&ws, &in, nil) }
			for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), nil) {
				t.Errorf("seed %d, sample %v: %s", seed, in, bad)
			}
		}
	}
}

// The loss is (p - y)² with p = σ(z): Forward must agree with it written out.
func TestForwardAndOutputs(t *testing.T) {
	p := randomParams(7)
	var ws XorWorkspace
	var out XorOutputs
	for _, in := range samples {
		loss := p.Forward(&ws, &in, &out)
		d := out.P[0] - in.Y
		if loss != d*d {
			t.Errorf("loss %v, want (p-y)² = %v", loss, d*d)
		}
		if out.P[0] <= 0 || out.P[0] >= 1 {
			t.Errorf("output %v is not a probability", out.P[0])
		}
	}
}

// Backward adds: two calls give twice the gradient, so batches sum.
func TestBackwardAccumulates(t *testing.T) {
	p := randomParams(3)
	var ws XorWorkspace
	var once, twice XorParams
	p.Forward(&ws, &samples[1], nil)
	p.Backward(&ws, &samples[1], &once)
	p.Backward(&ws, &samples[1], &twice)
	p.Backward(&ws, &samples[1], &twice)
	for i, v := range once.Flat() {
		if twice.Flat()[i] != 2*v {
			t.Fatalf("coordinate %d: two Backwards gave %v, want 2·%v", i, twice.Flat()[i], v)
		}
	}
}

func TestFlatAndStep(t *testing.T) {
	var p, g XorParams
	flat := p.Flat()
	if len(flat) != XorNumParams || XorNumParams != 8*2+8+8+1 {
		t.Fatalf("Flat has %d numbers, XorNumParams %d", len(flat), XorNumParams)
	}
	flat[XorNumParams-1] = 5 // the last number is b2[0]
	if p.B2[0] != 5 {
		t.Errorf("Flat does not alias the last field")
	}
	g.W1[0][1] = 2
	p.Step(&g, 0.5)
	if p.W1[0][1] != -1 || p.B2[0] != 5 {
		t.Errorf("Step: W1[0][1] = %v (want -1), b2 = %v (want 5)", p.W1[0][1], p.B2[0])
	}
}

func TestNoAllocs(t *testing.T) {
	p := randomParams(1)
	var ws XorWorkspace
	var g XorParams
	var out XorOutputs
	in := &samples[2]
	for name, f := range map[string]func(){
		"Forward":  func() { p.Forward(&ws, in, &out) },
		"Backward": func() { p.Backward(&ws, in, &g) },
		"LossGrad": func() { p.LossGrad(&ws, in, &g) },
		"Step":     func() { p.Step(&g, 0.1) },
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s allocates %v times per call", name, a)
		}
	}
}
