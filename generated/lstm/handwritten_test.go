package lstm

import (
	"flag"
	"fmt"
	"math"
	"testing"

	"github.com/backpropgen/backpropgen/internal/baseline"
)

// handLSTM is lstm.bp written by hand the way an expert would write it in
// plain Go for amd64, without allocation: the input projections of all
// steps computed before the recurrence; the recurrence four rows of U per
// pass (each load of h serves four rows) over the four gates' 64 rows,
// skipped at the first step where h = 0; the activations in one loop that
// holds nothing else; and backpropagation through time that keeps every
// step's gate deltas, forms dh = Uᵀ dz by streaming U's rows with four
// deltas in registers, and builds each weight gradient once after the
// sweep, in blocks of two rows by four columns, each entry of g read and
// written once. It is the baseline for the benchmark.
type handLSTM struct {
	W  [4][16][4]float64  // input weights of the gates i, f, g, o
	U  [4][16][16]float64 // recurrent weights
	B  [4][16]float64
	Wy [16]float64
	By float64
}

type handWork struct {
	z    [25][4][16]float64 // W xs[t] + b, then + U h: the pre-activations
	gate [25][4][16]float64 // i, f, g, o after their activations
	dz   [25][4][16]float64 // d loss / d pre-activations
	c, h [26][16]float64    // c[t+1], h[t+1] after step t; c[0] = h[0] = 0
	tc   [25][16]float64    // tanh(c[t+1])
	e    [25]float64        // prediction errors
}

// lossGrad returns the loss of one sequence and adds its gradient to g.
func (m *handLSTM) lossGrad(w *handWork, xs *[25][4]float64, ys *[25]float64, g *handLSTM) float64 {
	for t := range 25 {
		x, z := &xs[t], &w.z[t]
		x0, x1, x2, x3 := x[0], x[1], x[2], x[3]
		for k := range 4 {
			zk, Wk, bk := &z[k], &m.W[k], &m.B[k]
			for i := range 16 {
				r := &Wk[i]
				zk[i] = bk[i] + (r[0]*x0 + r[1]*x1) + (r[2]*x2 + r[3]*x3)
			}
		}
	}
	w.c[0], w.h[0] = [16]float64{}, [16]float64{}
	var loss float64
	for t := range 25 {
		z, gt := &w.z[t], &w.gate[t]
		if t > 0 {
			hp := &w.h[t]
			for k := range 4 {
				matvec16(&z[k], &z[k], &m.U[k], hp)
			}
		}
		cp, cc, tc, h := &w.c[t], &w.c[t+1], &w.tc[t], &w.h[t+1]
		for n := range 16 {
			ig := 1 / (1 + math.Exp(-z[0][n]))
			fg := 1 / (1 + math.Exp(-z[1][n]))
			gg := math.Tanh(z[2][n])
			og := 1 / (1 + math.Exp(-z[3][n]))
			gt[0][n], gt[1][n], gt[2][n], gt[3][n] = ig, fg, gg, og
			c := fg*cp[n] + ig*gg
			cc[n] = c
			tcn := math.Tanh(c)
			tc[n] = tcn
			h[n] = og * tcn
		}
		e := m.By + dot16(&m.Wy, h) - ys[t]
		w.e[t] = e
		loss += e * e
	}

	// Backward sweep: only the deltas, which the recurrence needs.
	var dh, dc, sy [16]float64 // dL/dh and dL/dc from later steps; Σ dy h
	var sb [4][16]float64      // Σ dz
	var sby float64
	for t := 24; t >= 0; t-- {
		gt, dz := &w.gate[t], &w.dz[t]
		h, tc, cp := &w.h[t+1], &w.tc[t], &w.c[t]
		dy := 2 * w.e[t]
		sby += dy
		for n := range 16 {
			sy[n] += dy * h[n]
			dhn := dh[n] + dy*m.Wy[n]
			ig, fg, gg, og, tcn := gt[0][n], gt[1][n], gt[2][n], gt[3][n], tc[n]
			dct := dc[n] + dhn*og*(1-tcn*tcn)
			di := dct * gg * ig * (1 - ig)
			df := dct * cp[n] * fg * (1 - fg)
			dg := dct * ig * (1 - gg*gg)
			do := dhn * tcn * og * (1 - og)
			dz[0][n], dz[1][n], dz[2][n], dz[3][n] = di, df, dg, do
			sb[0][n] += di
			sb[1][n] += df
			sb[2][n] += dg
			sb[3][n] += do
			dc[n] = dct * fg
		}
		if t > 0 {
			mulT64(&dh, &m.U, dz)
		}
	}

	// Weight gradients, each entry once: gU = Σ_t dz[t] h[t]ᵀ (h[0] = 0, so
	// from t = 1), gW = Σ_t dz[t] xs[t]ᵀ.
	for k := range 4 {
		gU, gW := &g.U[k], &g.W[k]
		for i := 0; i < 16; i += 2 {
			for j := 0; j < 16; j += 4 {
				var s00, s01, s02, s03, s10, s11, s12, s13 float64
				for t := 1; t < 25; t++ {
					d, v := &w.dz[t][k], &w.h[t]
					d0, d1 := d[i], d[i+1]
					v0, v1, v2, v3 := v[j], v[j+1], v[j+2], v[j+3]
					s00 += d0 * v0
					s01 += d0 * v1
					s02 += d0 * v2
					s03 += d0 * v3
					s10 += d1 * v0
					s11 += d1 * v1
					s12 += d1 * v2
					s13 += d1 * v3
				}
				r0, r1 := &gU[i], &gU[i+1]
				r0[j] += s00
				r0[j+1] += s01
				r0[j+2] += s02
				r0[j+3] += s03
				r1[j] += s10
				r1[j+1] += s11
				r1[j+2] += s12
				r1[j+3] += s13
			}
			var s00, s01, s02, s03, s10, s11, s12, s13 float64
			for t := range 25 {
				d, v := &w.dz[t][k], &xs[t]
				d0, d1 := d[i], d[i+1]
				v0, v1, v2, v3 := v[0], v[1], v[2], v[3]
				s00 += d0 * v0
				s01 += d0 * v1
				s02 += d0 * v2
				s03 += d0 * v3
				s10 += d1 * v0
				s11 += d1 * v1
				s12 += d1 * v2
				s13 += d1 * v3
			}
			r0, r1 := &gW[i], &gW[i+1]
			r0[0] += s00
			r0[1] += s01
			r0[2] += s02
			r0[3] += s03
			r1[0] += s10
			r1[1] += s11
			r1[2] += s12
			r1[3] += s13
		}
		for n := range 16 {
			g.B[k][n] += sb[k][n]
		}
	}
	for n := range 16 {
		g.Wy[n] += sy[n]
	}
	g.By += sby
	return loss
}

// matvec16 sets z = a + W h (z may be a), four rows of W per pass so that
// each load of h serves four rows; each row sums four columns as two
// independent pairs.
func matvec16(z, a *[16]float64, W *[16][16]float64, h *[16]float64) {
	for i := 0; i < 16; i += 4 {
		r0, r1, r2, r3 := &W[i], &W[i+1], &W[i+2], &W[i+3]
		s0, s1, s2, s3 := a[i], a[i+1], a[i+2], a[i+3]
		for j := 0; j < 16; j += 4 {
			h0, h1, h2, h3 := h[j], h[j+1], h[j+2], h[j+3]
			s0 += (r0[j]*h0 + r0[j+1]*h1) + (r0[j+2]*h2 + r0[j+3]*h3)
			s1 += (r1[j]*h0 + r1[j+1]*h1) + (r1[j+2]*h2 + r1[j+3]*h3)
			s2 += (r2[j]*h0 + r2[j+1]*h1) + (r2[j+2]*h2 + r2[j+3]*h3)
			s3 += (r3[j]*h0 + r3[j+1]*h1) + (r3[j+2]*h2 + r3[j+3]*h3)
		}
		z[i], z[i+1], z[i+2], z[i+3] = s0, s1, s2, s3
	}
}

// mulT64 sets out = Uᵀ d over the four gates' 64 rows by streaming U's
// rows, four deltas in registers per pass, rather than reading U column by
// column.
func mulT64(out *[16]float64, U *[4][16][16]float64, d *[4][16]float64) {
	*out = [16]float64{}
	for k := range 4 {
		Uk, dk := &U[k], &d[k]
		for i := 0; i < 16; i += 4 {
			d0, d1, d2, d3 := dk[i], dk[i+1], dk[i+2], dk[i+3]
			r0, r1, r2, r3 := &Uk[i], &Uk[i+1], &Uk[i+2], &Uk[i+3]
			for j := range 16 {
				out[j] += (d0*r0[j] + d1*r1[j]) + (d2*r2[j] + d3*r3[j])
			}
		}
	}
}

// dot16 is a·b in four independent partial sums.
func dot16(a, b *[16]float64) float64 {
	var s0, s1, s2, s3 float64
	for j := 0; j < 16; j += 4 {
		s0 += a[j] * b[j]
		s1 += a[j+1] * b[j+1]
		s2 += a[j+2] * b[j+2]
		s3 += a[j+3] * b[j+3]
	}
	return (s0 + s1) + (s2 + s3)
}

func toHand(p *LstmParams) *handLSTM {
	return &handLSTM{
		W:  [4][16][4]float64{p.Wi, p.Wf, p.Wg, p.Wo},
		U:  [4][16][16]float64{p.Ui, p.Uf, p.Ug, p.Uo},
		B:  [4][16]float64{p.Bi, p.Bf, p.Bg, p.Bo},
		Wy: p.Wy[0], By: p.By[0],
	}
}

func fromHand(h *handLSTM) *LstmParams {
	return &LstmParams{
		Wi: h.W[0], Wf: h.W[1], Wg: h.W[2], Wo: h.W[3],
		Ui: h.U[0], Uf: h.U[1], Ug: h.U[2], Uo: h.U[3],
		Bi: h.B[0], Bf: h.B[1], Bg: h.B[2], Bo: h.B[3],
		Wy: [1][16]float64{h.Wy}, By: [1]float64{h.By},
	}
}

// agree runs both on the same sequence, adding to the same non-zero
// gradient (both add), and reports where they differ beyond 1e-12 relative.
func agree(p *LstmParams, in *LstmInputs, perturb func(*handLSTM)) error {
	var ws LstmWorkspace
	g := *p // a gradient to add to: not zero
	for i, v := range g.Flat() {
		g.Flat()[i] = 0.5 * v
	}
	hg := toHand(&g)
	l1 := p.LossGrad(&ws, in, &g)
	var hw handWork
	l2 := toHand(p).lossGrad(&hw, &in.Xs, &in.Ys, hg)
	if perturb != nil {
		perturb(hg)
	}
	if math.Abs(l1-l2) > 1e-12*l2 {
		return fmt.Errorf("loss %v, hand-written %v", l1, l2)
	}
	return baseline.CloseTo("gradient", g.Flat(), fromHand(hg).Flat())
}

func TestHandwrittenAgrees(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		p, in := random(seed)
		if err := agree(p, in, nil); err != nil {
			t.Errorf("seed %d: %v", seed, err)
		}
	}
	// The check can fail: one entry off by 1e-10.
	p, in := random(5)
	off := func(v *float64) { *v += 1e-10 * math.Max(1, math.Abs(*v)) }
	for name, f := range map[string]func(*handLSTM){
		"Uo[15][15]": func(h *handLSTM) { off(&h.U[3][15][15]) },
		"Wi[0][0]":   func(h *handLSTM) { off(&h.W[0][0][0]) },
		"bg[7]":      func(h *handLSTM) { off(&h.B[2][7]) },
	} {
		if agree(p, in, f) == nil {
			t.Errorf("%s off by 1e-10: the comparison did not notice", name)
		}
	}
}

func benchGenerated(p *LstmParams, in *LstmInputs) func(*testing.B) {
	return func(b *testing.B) {
		var ws LstmWorkspace
		var g LstmParams
		b.ReportAllocs()
		for b.Loop() {
			p.LossGrad(&ws, in, &g)
		}
	}
}

func benchHand(p *LstmParams, in *LstmInputs) func(*testing.B) {
	return func(b *testing.B) {
		h := toHand(p)
		var w handWork
		var g handLSTM
		b.ReportAllocs()
		for b.Loop() {
			h.lossGrad(&w, &in.Xs, &in.Ys, &g)
		}
	}
}

// BenchmarkLstm: forward and backpropagation through time over 25 steps,
// generated against hand-written.
func BenchmarkLstm(b *testing.B) {
	p, in := random(1)
	b.Run("generated", benchGenerated(p, in))
	b.Run("handwritten", benchHand(p, in))
}

func TestPaired(t *testing.T) {
	p, in := random(1)
	paired(t, "lstm", benchGenerated(p, in), benchHand(p, in))
}

// -paired N makes TestPaired time the generated code and the hand-written
// baseline in alternating rounds (baseline.Paired).
var pairedRounds = flag.Int("paired", 0, "rounds for TestPaired (0 skips it)")

func paired(t *testing.T, name string, gen, hand func(*testing.B)) {
	baseline.Paired(t, name, *pairedRounds, gen, hand)
}
