package xor

import (
	"math"
	"testing"
)

// handXor is xor.bp written by hand the way a careful Go programmer would:
// fixed-size arrays, one fused loop per layer, no allocation. It is the
// baseline the generated code is benchmarked against.
type handXor struct {
	W1 [8][2]float64
	B1 [8]float64
	W2 [8]float64
	B2 float64
}

func handSigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// lossGrad returns the loss of one sample and adds its gradient to g.
func (m *handXor) lossGrad(x *[2]float64, y float64, g *handXor) float64 {
	var h [8]float64
	z2 := m.B2
	for i := range h {
		h[i] = math.Tanh(m.W1[i][0]*x[0] + m.W1[i][1]*x[1] + m.B1[i])
		z2 += m.W2[i] * h[i]
	}
	p := handSigmoid(z2)
	d := p - y
	dz2 := 2 * d * p * (1 - p)
	g.B2 += dz2
	for i := range h {
		g.W2[i] += dz2 * h[i]
		dz := dz2 * m.W2[i] * (1 - h[i]*h[i])
		g.B1[i] += dz
		g.W1[i][0] += dz * x[0]
		g.W1[i][1] += dz * x[1]
	}
	return d * d
}

func flat2(w [8][2]float64) []float64 {
	var out []float64
	for _, row := range w {
		out = append(out, row[:]...)
	}
	return out
}

func toHand(p *XorParams) *handXor {
	return &handXor{W1: p.W1, B1: p.B1, W2: p.W2[0], B2: p.B2[0]}
}

// The baseline must compute the same thing, or the benchmark means nothing.
func TestHandwrittenAgrees(t *testing.T) {
	p := randomParams(11)
	h := toHand(p)
	var ws XorWorkspace
	var g XorParams
	var hg handXor
	for _, in := range samples {
		l1 := p.LossGrad(&ws, &in, &g)
		l2 := h.lossGrad(&in.X, in.Y, &hg)
		if math.Abs(l1-l2) > 1e-15 {
			t.Errorf("loss %v, hand-written %v", l1, l2)
		}
	}
	// The two multiply in different orders, so they agree to rounding.
	gen := toHand(&g)
	a := append(append(append([]float64(nil), flat2(gen.W1)...), gen.B1[:]...), gen.W2[:]...)
	b := append(append(append([]float64(nil), flat2(hg.W1)...), hg.B1[:]...), hg.W2[:]...)
	a, b = append(a, gen.B2), append(b, hg.B2)
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-14*math.Max(1, math.Abs(b[i])) {
			t.Errorf("gradient %d: generated %v, hand-written %v", i, a[i], b[i])
		}
	}
}

// BenchmarkXor: forward and backward over all four samples, accumulating
// one gradient, generated against hand-written.
func BenchmarkXor(b *testing.B) {
	p := randomParams(1)
	b.Run("generated", func(b *testing.B) {
		var ws XorWorkspace
		var g XorParams
		b.ReportAllocs()
		for b.Loop() {
			for i := range samples {
				p.LossGrad(&ws, &samples[i], &g)
			}
		}
	})
	b.Run("handwritten", func(b *testing.B) {
		h := toHand(p)
		var g handXor
		b.ReportAllocs()
		for b.Loop() {
			for i := range samples {
				h.lossGrad(&samples[i].X, samples[i].Y, &g)
			}
		}
	})
}
