package mnist

import (
	"flag"
	"fmt"
	"math"
	"testing"

	"github.com/backpropgen/backpropgen/internal/baseline"
)

// handMnist is mnist.bp written by hand the way an expert would write it in
// plain Go for amd64, without allocation: W1 x four rows per pass (each
// load of x serves four rows, each row summing four columns as two
// independent pairs), W2 h five rows per pass, the exponentials kept from
// the forward pass, W2ᵀ δ by streaming W2's rows with five deltas in
// registers, and dW1 += δ xᵀ only for the units a relu left active, four
// rows per pass sharing each load of x. It is the baseline for the
// generated code's benchmark.
type handMnist struct {
	W1 [128][784]float64
	B1 [128]float64
	W2 [10][128]float64
	B2 [10]float64
}

type handWork struct {
	h, dh  [128]float64
	active [128]int // the units the relu passed, in order
}

// lossGrad returns the cross-entropy loss of one sample and adds its
// gradient to g.
func (m *handMnist) lossGrad(w *handWork, x *[784]float64, _ any, t *[10]float64, g *handMnist) float64 {
	h := &w.h
	for i := 0; i < 128; i += 4 {
		r0, r1, r2, r3 := &m.W1[i], &m.W1[i+1], &m.W1[i+2], &m.W1[i+3]
		var s0, s1, s2, s3 float64
		for k := 0; k < 784; k += 4 {
			x0, x1, x2, x3 := x[k], x[k+1], x[k+2], x[k+3]
			s0 += (r0[k]*x0 + r0[k+1]*x1) + (r0[k+2]*x2 + r0[k+3]*x3)
			s1 += (r1[k]*x0 + r1[k+1]*x1) + (r1[k+2]*x2 + r1[k+3]*x3)
			s2 += (r2[k]*x0 + r2[k+1]*x1) + (r2[k+2]*x2 + r2[k+3]*x3)
			s3 += (r3[k]*x0 + r3[k+1]*x1) + (r3[k+2]*x2 + r3[k+3]*x3)
		}
		h[i] = max(s0+m.B1[i], 0)
		h[i+1] = max(s1+m.B1[i+1], 0)
		h[i+2] = max(s2+m.B1[i+2], 0)
		h[i+3] = max(s3+m.B1[i+3], 0)
	}
	var z [10]float64
	for i := 0; i < 10; i += 5 {
		r0, r1, r2, r3, r4 := &m.W2[i], &m.W2[i+1], &m.W2[i+2], &m.W2[i+3], &m.W2[i+4]
		var s0, s1, s2, s3, s4 float64
		for k := 0; k < 128; k += 2 {
			h0, h1 := h[k], h[k+1]
			s0 += r0[k]*h0 + r0[k+1]*h1
			s1 += r1[k]*h0 + r1[k+1]*h1
			s2 += r2[k]*h0 + r2[k+1]*h1
			s3 += r3[k]*h0 + r3[k+1]*h1
			s4 += r4[k]*h0 + r4[k+1]*h1
		}
		z[i], z[i+1], z[i+2], z[i+3], z[i+4] = s0+m.B2[i], s1+m.B2[i+1], s2+m.B2[i+2], s3+m.B2[i+3], s4+m.B2[i+4]
	}
	mx := max(z[0], z[1], z[2], z[3], z[4], z[5], z[6], z[7], z[8], z[9])
	var e [10]float64
	for i := range 10 {
		e[i] = math.Exp(z[i] - mx)
	}
	sum := ((e[0] + e[1]) + (e[2] + e[3])) + ((e[4] + e[5]) + (e[6] + e[7])) + (e[8] + e[9])
	tsum := ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7])) + (t[8] + t[9])
	lse := mx + math.Log(sum)
	var loss float64
	var d [10]float64 // d loss / d logits = tsum·softmax - t
	s := tsum / sum
	for i := range 10 {
		loss -= t[i] * (z[i] - lse)
		d[i] = s*e[i] - t[i]
		g.B2[i] += d[i]
	}

	// dh = W2ᵀ d, five rows of W2 per pass; dW2 += d hᵀ two rows per pass.
	dh := &w.dh
	for i := 0; i < 10; i += 5 {
		d0, d1, d2, d3, d4 := d[i], d[i+1], d[i+2], d[i+3], d[i+4]
		r0, r1, r2, r3, r4 := &m.W2[i], &m.W2[i+1], &m.W2[i+2], &m.W2[i+3], &m.W2[i+4]
		if i == 0 {
			for j := range 128 {
				dh[j] = ((d0*r0[j] + d1*r1[j]) + (d2*r2[j] + d3*r3[j])) + d4*r4[j]
			}
		} else {
			for j := range 128 {
				dh[j] += ((d0*r0[j] + d1*r1[j]) + (d2*r2[j] + d3*r3[j])) + d4*r4[j]
			}
		}
	}
	for i := 0; i < 10; i += 2 {
		d0, d1 := d[i], d[i+1]
		g0, g1 := &g.W2[i], &g.W2[i+1]
		for j := range 128 {
			hj := h[j]
			g0[j] += d0 * hj
			g1[j] += d1 * hj
		}
	}

	// dW1 += δ xᵀ for the active units only (δ is 0 behind the relu), four
	// rows per pass.
	act := w.active[:0]
	for i := range 128 {
		if h[i] > 0 {
			act = append(act, i)
			g.B1[i] += dh[i]
		}
	}
	n := 0
	for ; n+4 <= len(act); n += 4 {
		i0, i1, i2, i3 := act[n], act[n+1], act[n+2], act[n+3]
		d0, d1, d2, d3 := dh[i0], dh[i1], dh[i2], dh[i3]
		g0, g1, g2, g3 := &g.W1[i0], &g.W1[i1], &g.W1[i2], &g.W1[i3]
		for j := range 784 {
			xj := x[j]
			g0[j] += d0 * xj
			g1[j] += d1 * xj
			g2[j] += d2 * xj
			g3[j] += d3 * xj
		}
	}
	for ; n < len(act); n++ {
		d0, g0 := dh[act[n]], &g.W1[act[n]]
		for j := range 784 {
			g0[j] += d0 * x[j]
		}
	}
	return loss
}

func toHand(p *MnistParams) *handMnist {
	return &handMnist{W1: p.W1, B1: p.B1, W2: p.W2, B2: p.B2}
}

// agree runs both on the same sample, adding to the same non-zero gradient
// (both add), and reports where they differ beyond 1e-12 relative.
func agree(p *MnistParams, in *MnistInputs, perturb func(*handMnist)) error {
	var ws MnistWorkspace
	var hw handWork
	g := new(MnistParams)
	for i, v := range p.Flat() {
		g.Flat()[i] = 0.5 * v
	}
	hg := toHand(g)
	l1 := p.LossGrad(&ws, in, g)
	l2 := toHand(p).lossGrad(&hw, &in.X, nil, &in.Target, hg)
	if perturb != nil {
		perturb(hg)
	}
	if math.Abs(l1-l2) > 1e-12*math.Abs(l2) {
		return fmt.Errorf("loss %v, hand-written %v", l1, l2)
	}
	hf := (&MnistParams{W1: hg.W1, B1: hg.B1, W2: hg.W2, B2: hg.B2}).Flat()
	return baseline.CloseTo("gradient", g.Flat(), hf)
}

func TestHandwrittenAgrees(t *testing.T) {
	for seed := int64(1); seed <= 4; seed++ {
		p, in := randomModel(seed)
		if err := agree(p, in, nil); err != nil {
			t.Errorf("seed %d: %v", seed, err)
		}
	}
	// The check can fail: one entry off by 1e-10.
	p, in := randomModel(4)
	off := func(v *float64) { *v += 1e-10 * math.Max(1, math.Abs(*v)) }
	for name, f := range map[string]func(*handMnist){
		"W1[127][783]": func(h *handMnist) { off(&h.W1[127][783]) },
		"W2[0][0]":     func(h *handMnist) { off(&h.W2[0][0]) },
		"b2[9]":        func(h *handMnist) { off(&h.B2[9]) },
	} {
		if agree(p, in, f) == nil {
			t.Errorf("%s off by 1e-10: the comparison did not notice", name)
		}
	}
}

func batch(n int) []MnistInputs {
	out := make([]MnistInputs, n)
	for i := range out {
		_, in := randomModel(int64(100 + i))
		out[i] = *in
	}
	return out
}

func benchGenerated(p *MnistParams, samples []MnistInputs) func(*testing.B) {
	return func(b *testing.B) {
		var ws MnistWorkspace
		g := new(MnistParams)
		b.ReportAllocs()
		for b.Loop() {
			for i := range samples {
				p.LossGrad(&ws, &samples[i], g)
			}
		}
	}
}

func benchHand(h *handMnist, samples []MnistInputs) func(*testing.B) {
	return func(b *testing.B) {
		var w handWork
		g := new(handMnist)
		b.ReportAllocs()
		for b.Loop() {
			for i := range samples {
				h.lossGrad(&w, &samples[i].X, nil, &samples[i].Target, g)
			}
		}
	}
}

// BenchmarkMnist: forward and backward for one sample and for a 32-sample
// mini-batch accumulated into one gradient, generated against hand-written.
func BenchmarkMnist(b *testing.B) {
	p, _ := randomModel(1)
	h := toHand(p)
	for _, n := range []int{1, 32} {
		samples := batch(n)
		b.Run(batchName(n)+"/generated", benchGenerated(p, samples))
		b.Run(batchName(n)+"/handwritten", benchHand(h, samples))
	}
}

func batchName(n int) string {
	if n == 1 {
		return "batch=1"
	}
	return "batch=32"
}

func TestPaired(t *testing.T) {
	p, _ := randomModel(1)
	h := toHand(p)
	for _, n := range []int{1, 32} {
		samples := batch(n)
		paired(t, "mnist "+batchName(n), benchGenerated(p, samples), benchHand(h, samples))
	}
}

// -paired N makes TestPaired time the generated code and the hand-written
// baseline in alternating rounds (baseline.Paired).
var pairedRounds = flag.Int("paired", 0, "rounds for TestPaired (0 skips it)")

func paired(t *testing.T, name string, gen, hand func(*testing.B)) {
	baseline.Paired(t, name, *pairedRounds, gen, hand)
}
