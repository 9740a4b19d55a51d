package mnist

import (
	"math"
	"testing"
)

// handMnist is mnist.bp written by hand, carefully and without allocation:
// the baseline for the generated code's benchmark.
type handMnist struct {
	W1 [128][784]float64
	B1 [128]float64
	W2 [10][128]float64
	B2 [10]float64
}

type handWork struct {
	h, dh  [128]float64
	logits [10]float64
}

// lossGrad returns the cross-entropy loss of one sample and adds its
// gradient to g.
func (m *handMnist) lossGrad(w *handWork, x *[784]float64, _ any, t *[10]float64, g *handMnist) float64 {
	for i := range w.h {
		s, row := m.B1[i], &m.W1[i] // a pointer: ranging over m.W1[i] would copy the row
		for j := range row {
			s += row[j] * x[j]
		}
		w.h[i] = max(s, 0)
	}
	mx := math.Inf(-1)
	for i := range w.logits {
		s, row := m.B2[i], &m.W2[i]
		for j := range row {
			s += row[j] * w.h[j]
		}
		w.logits[i] = s
		mx = max(mx, s)
	}
	var sum, tsum float64
	for i, z := range w.logits {
		sum += math.Exp(z - mx)
		tsum += t[i]
	}
	lse := mx + math.Log(sum)
	var loss float64
	for i, z := range w.logits {
		loss -= t[i] * (z - lse)
	}
	w.dh = [128]float64{}
	for i, z := range w.logits {
		d := tsum*math.Exp(z-lse) - t[i]
		g.B2[i] += d
		grow, row := &g.W2[i], &m.W2[i]
		for j, hj := range w.h {
			grow[j] += d * hj
			w.dh[j] += d * row[j]
		}
	}
	for i, hi := range w.h {
		if hi <= 0 {
			continue
		}
		d := w.dh[i]
		g.B1[i] += d
		row := &g.W1[i]
		for j, v := range x {
			row[j] += d * v
		}
	}
	return loss
}

func toHand(p *MnistParams) *handMnist {
	return &handMnist{W1: p.W1, B1: p.B1, W2: p.W2, B2: p.B2}
}

func TestHandwrittenAgrees(t *testing.T) {
	p, in := randomModel(4)
	h := toHand(p)
	var ws MnistWorkspace
	var hw handWork
	g, hg := new(MnistParams), new(handMnist)
	l1 := p.LossGrad(&ws, in, g)
	l2 := h.lossGrad(&hw, &in.X, nil, &in.Target, hg)
	if math.Abs(l1-l2) > 1e-12 {
		t.Errorf("loss %v, hand-written %v", l1, l2)
	}
	hf := (&MnistParams{W1: hg.W1, B1: hg.B1, W2: hg.W2, B2: hg.B2}).Flat()
	for i, v := range g.Flat() {
		if math.Abs(v-hf[i]) > 1e-12*math.Max(1, math.Abs(v)) {
			t.Fatalf("gradient %d: generated %v, hand-written %v", i, v, hf[i])
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

// BenchmarkMnist: forward and backward for one sample and for a 32-sample
// mini-batch accumulated into one gradient, generated against hand-written.
func BenchmarkMnist(b *testing.B) {
	p, _ := randomModel(1)
	h := toHand(p)
	for _, n := range []int{1, 32} {
		samples := batch(n)
		b.Run(batchName(n)+"/generated", func(b *testing.B) {
			var ws MnistWorkspace
			g := new(MnistParams)
			b.ReportAllocs()
			for b.Loop() {
				for i := range samples {
					p.LossGrad(&ws, &samples[i], g)
				}
			}
		})
		b.Run(batchName(n)+"/handwritten", func(b *testing.B) {
			var w handWork
			g := new(handMnist)
			b.ReportAllocs()
			for b.Loop() {
				for i := range samples {
					h.lossGrad(&w, &samples[i].X, nil, &samples[i].Target, g)
				}
			}
		})
	}
}

func batchName(n int) string {
	if n == 1 {
		return "batch=1"
	}
	return "batch=32"
}
