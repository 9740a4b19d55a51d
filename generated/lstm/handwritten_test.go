package lstm

import (
	"math"
	"testing"
)

// handLSTM is lstm.bp written by hand, carefully and without allocation:
// the gates of every step are kept, then backpropagation through time
// accumulates straight into g. It is the baseline for the benchmark.
type handLSTM struct {
	W  [4][16][4]float64  // input weights of the gates i, f, g, o
	U  [4][16][16]float64 // recurrent weights
	B  [4][16]float64
	Wy [16]float64
	By float64
}

type handStep struct {
	gate     [4][16]float64 // i, f, g, o after their activations
	c, tc, h [16]float64
}

type handWork struct {
	s [25]handStep
	e [25]float64
}

func (m *handLSTM) lossGrad(w *handWork, xs *[25][4]float64, ys *[25]float64, g *handLSTM) float64 {
	var h, c [16]float64
	var loss float64
	for t := range 25 {
		st := &w.s[t]
		x := &xs[t]
		for k := range 4 {
			for i := range 16 {
				z := m.B[k][i]
				for j := range 4 {
					z += m.W[k][i][j] * x[j]
				}
				for j := range 16 {
					z += m.U[k][i][j] * h[j]
				}
				if k == 2 {
					st.gate[k][i] = math.Tanh(z)
				} else {
					st.gate[k][i] = 1 / (1 + math.Exp(-z))
				}
			}
		}
		for i := range 16 {
			c[i] = st.gate[1][i]*c[i] + st.gate[0][i]*st.gate[2][i]
			st.c[i] = c[i]
			st.tc[i] = math.Tanh(c[i])
			h[i] = st.gate[3][i] * st.tc[i]
			st.h[i] = h[i]
		}
		y := m.By
		for j := range 16 {
			y += m.Wy[j] * h[j]
		}
		w.e[t] = y - ys[t]
		loss += w.e[t] * w.e[t]
	}
	var dh, dc [16]float64
	for t := 24; t >= 0; t-- {
		st := &w.s[t]
		var hPrev, cPrev [16]float64
		if t > 0 {
			hPrev, cPrev = w.s[t-1].h, w.s[t-1].c
		}
		dy := 2 * w.e[t]
		g.By += dy
		var dz [4][16]float64
		for i := range 16 {
			g.Wy[i] += dy * st.h[i]
			dhi := dh[i] + dy*m.Wy[i]
			ig, fg, gg, og := st.gate[0][i], st.gate[1][i], st.gate[2][i], st.gate[3][i]
			dct := dc[i] + dhi*og*(1-st.tc[i]*st.tc[i])
			dz[0][i] = dct * gg * ig * (1 - ig)
			dz[1][i] = dct * cPrev[i] * fg * (1 - fg)
			dz[2][i] = dct * ig * (1 - gg*gg)
			dz[3][i] = dhi * st.tc[i] * og * (1 - og)
			dc[i] = dct * fg
		}
		var dprev [16]float64
		x := &xs[t]
		for k := range 4 {
			for i, d := range dz[k] {
				g.B[k][i] += d
				for j := range 4 {
					g.W[k][i][j] += d * x[j]
				}
				for j := range 16 {
					g.U[k][i][j] += d * hPrev[j]
					dprev[j] += d * m.U[k][i][j]
				}
			}
		}
		dh = dprev
	}
	return loss
}

func toHand(p *LstmParams) *handLSTM {
	return &handLSTM{
		W:  [4][16][4]float64{p.Wi, p.Wf, p.Wg, p.Wo},
		U:  [4][16][16]float64{p.Ui, p.Uf, p.Ug, p.Uo},
		B:  [4][16]float64{p.Bi, p.Bf, p.Bg, p.Bo},
		Wy: p.Wy[0], By: p.By[0],
	}
}

func TestHandwrittenAgrees(t *testing.T) {
	p, in := random(5)
	var ws LstmWorkspace
	var g LstmParams
	l1 := p.LossGrad(&ws, in, &g)
	var hw handWork
	var hg handLSTM
	l2 := toHand(p).lossGrad(&hw, &in.Xs, &in.Ys, &hg)
	if math.Abs(l1-l2) > 1e-12*l2 {
		t.Errorf("loss %v, hand-written %v", l1, l2)
	}
	got := toHand(&g)
	check := func(name string, a, b []float64) {
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-11*math.Max(1, math.Abs(b[i])) {
				t.Fatalf("%s[%d]: generated %v, hand-written %v", name, i, a[i], b[i])
			}
		}
	}
	for k := range 4 {
		for i := range 16 {
			check("W", got.W[k][i][:], hg.W[k][i][:])
			check("U", got.U[k][i][:], hg.U[k][i][:])
		}
		check("B", got.B[k][:], hg.B[k][:])
	}
	check("Wy", got.Wy[:], hg.Wy[:])
	check("By", []float64{got.By}, []float64{hg.By})
}

// BenchmarkLstm: forward and backpropagation through time over 25 steps,
// generated against hand-written.
func BenchmarkLstm(b *testing.B) {
	p, in := random(1)
	b.Run("generated", func(b *testing.B) {
		var ws LstmWorkspace
		var g LstmParams
		b.ReportAllocs()
		for b.Loop() {
			p.LossGrad(&ws, in, &g)
		}
	})
	b.Run("handwritten", func(b *testing.B) {
		h := toHand(p)
		var w handWork
		var g handLSTM
		b.ReportAllocs()
		for b.Loop() {
			h.lossGrad(&w, &in.Xs, &in.Ys, &g)
		}
	})
}
