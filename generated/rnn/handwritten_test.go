package rnn

import (
	"math"
	"testing"
)

// handRNN is rnn.bp written by hand, carefully and without allocation:
// forward over the sequence keeping every hidden state, then
// backpropagation through time accumulating straight into g. It is the
// baseline for the generated code's benchmark.
type handRNN struct {
	Wx [16][4]float64
	Wh [16][16]float64
	Bh [16]float64
	Wy [16]float64
	By float64
}

type handWork struct {
	h [26][16]float64 // h[t+1] is the state after step t; h[0] = 0
	e [25]float64     // prediction errors
}

func (m *handRNN) lossGrad(w *handWork, xs *[25][4]float64, ys *[25]float64, g *handRNN) float64 {
	w.h[0] = [16]float64{}
	var loss float64
	for t := range 25 {
		prev, cur := &w.h[t], &w.h[t+1]
		for i := range 16 {
			z := m.Bh[i]
			for j := range 4 {
				z += m.Wx[i][j] * xs[t][j]
			}
			for j := range 16 {
				z += m.Wh[i][j] * prev[j]
			}
			cur[i] = math.Tanh(z)
		}
		y := m.By
		for j := range 16 {
			y += m.Wy[j] * cur[j]
		}
		w.e[t] = y - ys[t]
		loss += w.e[t] * w.e[t]
	}
	var dh [16]float64
	for t := 24; t >= 0; t-- {
		prev, cur := &w.h[t], &w.h[t+1]
		dy := 2 * w.e[t]
		g.By += dy
		var dz [16]float64
		for i := range 16 {
			g.Wy[i] += dy * cur[i]
			dz[i] = (dh[i] + dy*m.Wy[i]) * (1 - cur[i]*cur[i])
		}
		var dprev [16]float64
		for i, d := range dz {
			g.Bh[i] += d
			for j := range 4 {
				g.Wx[i][j] += d * xs[t][j]
			}
			for j := range 16 {
				g.Wh[i][j] += d * prev[j]
				dprev[j] += d * m.Wh[i][j]
			}
		}
		dh = dprev
	}
	return loss
}

func toHand(p *RnnParams) *handRNN {
	return &handRNN{Wx: p.Wx, Wh: p.Wh, Bh: p.Bh, Wy: p.Wy[0], By: p.By[0]}
}

func TestHandwrittenAgrees(t *testing.T) {
	p, in := random(5)
	var ws RnnWorkspace
	var g RnnParams
	l1 := p.LossGrad(&ws, in, &g)
	var hw handWork
	var hg handRNN
	l2 := toHand(p).lossGrad(&hw, &in.Xs, &in.Ys, &hg)
	if math.Abs(l1-l2) > 1e-12*l2 {
		t.Errorf("loss %v, hand-written %v", l1, l2)
	}
	got := toHand(&g)
	a := (&RnnParams{Wx: got.Wx, Wh: got.Wh, Bh: got.Bh, Wy: [1][16]float64{got.Wy}, By: [1]float64{got.By}}).Flat()
	b := (&RnnParams{Wx: hg.Wx, Wh: hg.Wh, Bh: hg.Bh, Wy: [1][16]float64{hg.Wy}, By: [1]float64{hg.By}}).Flat()
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-11*math.Max(1, math.Abs(b[i])) {
			t.Fatalf("gradient %d: generated %v, hand-written %v", i, a[i], b[i])
		}
	}
}

// BenchmarkRnn: forward and backpropagation through time over 25 steps,
// generated against hand-written.
func BenchmarkRnn(b *testing.B) {
	p, in := random(1)
	b.Run("generated", func(b *testing.B) {
		var ws RnnWorkspace
		var g RnnParams
		b.ReportAllocs()
		for b.Loop() {
			p.LossGrad(&ws, in, &g)
		}
	})
	b.Run("handwritten", func(b *testing.B) {
		h := toHand(p)
		var w handWork
		var g handRNN
		b.ReportAllocs()
		for b.Loop() {
			h.lossGrad(&w, &in.Xs, &in.Ys, &g)
		}
	})
}
