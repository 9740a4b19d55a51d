package xor

import (
	"flag"
	"fmt"
	"math"
	"testing"

	"github.com/backpropgen/backpropgen/internal/baseline"
)

// handXor is xor.bp written by hand the way an expert would write it in
// plain Go for amd64, without allocation: the eight pre-activations
// computed in one loop, the tanh calls in a loop that holds nothing else
// live, the output's dot product as a tree of independent sums, and the
// backward pass unrolled by two with the inputs kept in registers. Its time
// is mostly the eight tanh and one exp per sample, which both sides call.
type handXor struct {
	W1 [8][2]float64
	B1 [8]float64
	W2 [8]float64
	B2 float64
}

// lossGrad returns the loss of one sample and adds its gradient to g.
func (m *handXor) lossGrad(x *[2]float64, y float64, g *handXor) float64 {
	x0, x1 := x[0], x[1]
	var h [8]float64
	for i := range 8 {
		h[i] = m.W1[i][0]*x0 + m.W1[i][1]*x1 + m.B1[i]
	}
	for i := range 8 {
		h[i] = math.Tanh(h[i])
	}
	w := &m.W2
	z := ((w[0]*h[0] + w[1]*h[1]) + (w[2]*h[2] + w[3]*h[3])) +
		((w[4]*h[4] + w[5]*h[5]) + (w[6]*h[6] + w[7]*h[7])) + m.B2
	p := 1 / (1 + math.Exp(-z))
	d := p - y
	dz2 := 2 * d * p * (1 - p)
	g.B2 += dz2
	for i := 0; i < 8; i += 2 {
		h0, h1 := h[i], h[i+1]
		g.W2[i] += dz2 * h0
		g.W2[i+1] += dz2 * h1
		d0 := dz2 * w[i] * (1 - h0*h0)
		d1 := dz2 * w[i+1] * (1 - h1*h1)
		g.B1[i] += d0
		g.B1[i+1] += d1
		r0, r1 := &g.W1[i], &g.W1[i+1]
		r0[0] += d0 * x0
		r0[1] += d0 * x1
		r1[0] += d1 * x0
		r1[1] += d1 * x1
	}
	return d * d
}

func toHand(p *XorParams) *handXor {
	return &handXor{W1: p.W1, B1: p.B1, W2: p.W2[0], B2: p.B2[0]}
}

func fromHand(h *handXor) *XorParams {
	return &XorParams{W1: h.W1, B1: h.B1, W2: [1][8]float64{h.W2}, B2: [1]float64{h.B2}}
}

// agree runs both over the four samples, adding into the same non-zero
// gradient (both add), and reports where they differ beyond 1e-12 relative.
func agree(p *XorParams, perturb func(*handXor)) error {
	h := toHand(p)
	var ws XorWorkspace
	g := *p // a gradient to add to: not zero
	for i, v := range g.Flat() {
		g.Flat()[i] = 0.5 * v
	}
	hg := toHand(&g)
	for _, in := range samples {
		l1 := p.LossGrad(&ws, &in, &g)
		l2 := h.lossGrad(&in.X, in.Y, hg)
		if math.Abs(l1-l2) > 1e-12*math.Abs(l2) {
			return fmt.Errorf("sample %v: loss %v, hand-written %v", in, l1, l2)
		}
	}
	if perturb != nil {
		perturb(hg)
	}
	return baseline.CloseTo("gradient", g.Flat(), fromHand(hg).Flat())
}

// The baseline must compute the same thing, or the benchmark means nothing.
func TestHandwrittenAgrees(t *testing.T) {
	for seed := int64(1); seed <= 11; seed++ {
		if err := agree(randomParams(seed), nil); err != nil {
			t.Errorf("seed %d: %v", seed, err)
		}
	}
	// The check can fail: one entry off by 1e-10.
	off := func(v *float64) { *v += 1e-10 * math.Max(1, math.Abs(*v)) }
	for name, f := range map[string]func(*handXor){
		"W1[7][1]": func(h *handXor) { off(&h.W1[7][1]) },
		"b2":       func(h *handXor) { off(&h.B2) },
	} {
		if agree(randomParams(11), f) == nil {
			t.Errorf("%s off by 1e-10: the comparison did not notice", name)
		}
	}
}

func benchGenerated(p *XorParams) func(*testing.B) {
	return func(b *testing.B) {
		var ws XorWorkspace
		var g XorParams
		b.ReportAllocs()
		for b.Loop() {
			for i := range samples {
				p.LossGrad(&ws, &samples[i], &g)
			}
		}
	}
}

func benchHand(p *XorParams) func(*testing.B) {
	return func(b *testing.B) {
		h := toHand(p)
		var g handXor
		b.ReportAllocs()
		for b.Loop() {
			for i := range samples {
				h.lossGrad(&samples[i].X, samples[i].Y, &g)
			}
		}
	}
}

// BenchmarkXor: forward and backward over all four samples, accumulating
// one gradient, generated against hand-written.
func BenchmarkXor(b *testing.B) {
	p := randomParams(1)
	b.Run("generated", benchGenerated(p))
	b.Run("handwritten", benchHand(p))
}

func TestPaired(t *testing.T) {
	p := randomParams(1)
	paired(t, "xor", benchGenerated(p), benchHand(p))
}

// -paired N makes TestPaired time the generated code and the hand-written
// baseline in alternating rounds (baseline.Paired).
var pairedRounds = flag.Int("paired", 0, "rounds for TestPaired (0 skips it)")

func paired(t *testing.T, name string, gen, hand func(*testing.B)) {
	baseline.Paired(t, name, *pairedRounds, gen, hand)
}
