package rnn

import (
	"flag"
	"fmt"
	"math"
	"testing"

	"github.com/backpropgen/backpropgen/internal/baseline"
)

// handRNN is rnn.bp written by hand the way an expert would write it in
// plain Go for amd64, without allocation: the input projections of all
// steps computed before the recurrence, the recurrence four rows of Wh per
// pass (each load of h serves four rows, each row summed in pairs), tanh in
// a loop of its own, and backpropagation through time that keeps every
// step's deltas and forms each weight gradient once after the sweep, as
// blocks of two rows by four columns, each entry of g read and written once.
// It is the baseline for the generated code's benchmark.
type handRNN struct {
	Wx [16][4]float64
	Wh [16][16]float64
	Bh [16]float64
	Wy [16]float64
	By float64
}

type handWork struct {
	a  [25][16]float64 // Wx xs[t] + bh for every step
	h  [26][16]float64 // h[t+1] is the state after step t; h[0] = 0
	dz [25][16]float64 // d loss / d (pre-activation of step t)
	e  [25]float64     // prediction errors
}

// lossGrad returns the loss of one sequence and adds its gradient to g.
func (m *handRNN) lossGrad(w *handWork, xs *[25][4]float64, ys *[25]float64, g *handRNN) float64 {
	// Input projections do not depend on the recurrence: all steps at once.
	for t := range 25 {
		x, a := &xs[t], &w.a[t]
		x0, x1, x2, x3 := x[0], x[1], x[2], x[3]
		for i := range 16 {
			r := &m.Wx[i]
			a[i] = m.Bh[i] + (r[0]*x0 + r[1]*x1) + (r[2]*x2 + r[3]*x3)
		}
	}
	w.h[0] = [16]float64{}
	var loss float64
	for t := range 25 {
		cur := &w.h[t+1]
		if t == 0 { // h[0] = 0: Wh h vanishes
			*cur = w.a[0]
		} else {
			matvec16(cur, &w.a[t], &m.Wh, &w.h[t])
		}
		for i := range 16 {
			cur[i] = math.Tanh(cur[i])
		}
		e := m.By + dot16(&m.Wy, cur) - ys[t]
		w.e[t] = e
		loss += e * e
	}

	// Backward sweep: only the deltas, which the recurrence needs.
	var dh, sb, sy [16]float64 // dL/dh from later steps; Σ dz; Σ dy h
	var sby float64
	for t := 24; t >= 0; t-- {
		cur, dz := &w.h[t+1], &w.dz[t]
		dy := 2 * w.e[t]
		sby += dy
		for i := range 16 {
			hi := cur[i]
			d := (dh[i] + dy*m.Wy[i]) * (1 - hi*hi)
			dz[i] = d
			sb[i] += d
			sy[i] += dy * hi
		}
		if t > 0 {
			mulT16(&dh, &m.Wh, dz)
		}
	}

	// Weight gradients, each entry once: gWh = Σ_t dz[t] h[t]ᵀ (h[0] = 0,
	// so from t = 1), gWx = Σ_t dz[t] xs[t]ᵀ.
	for i := 0; i < 16; i += 2 {
		for j := 0; j < 16; j += 4 {
			var s00, s01, s02, s03, s10, s11, s12, s13 float64
			for t := 1; t < 25; t++ {
				d, v := &w.dz[t], &w.h[t]
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
			r0, r1 := &g.Wh[i], &g.Wh[i+1]
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
			d, v := &w.dz[t], &xs[t]
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
		r0, r1 := &g.Wx[i], &g.Wx[i+1]
		r0[0] += s00
		r0[1] += s01
		r0[2] += s02
		r0[3] += s03
		r1[0] += s10
		r1[1] += s11
		r1[2] += s12
		r1[3] += s13
	}
	for i := range 16 {
		g.Bh[i] += sb[i]
		g.Wy[i] += sy[i]
	}
	g.By += sby
	return loss
}

// matvec16 sets z = a + W h, four rows of W per pass so that each load of
// h serves four rows; each row sums four columns as two independent pairs.
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

// mulT16 sets out = Wᵀ d by streaming W's rows, four deltas in registers
// per pass, rather than reading W column by column.
func mulT16(out *[16]float64, W *[16][16]float64, d *[16]float64) {
	{
		d0, d1, d2, d3 := d[0], d[1], d[2], d[3]
		r0, r1, r2, r3 := &W[0], &W[1], &W[2], &W[3]
		for j := range 16 {
			out[j] = (d0*r0[j] + d1*r1[j]) + (d2*r2[j] + d3*r3[j])
		}
	}
	for i := 4; i < 16; i += 4 {
		d0, d1, d2, d3 := d[i], d[i+1], d[i+2], d[i+3]
		r0, r1, r2, r3 := &W[i], &W[i+1], &W[i+2], &W[i+3]
		for j := range 16 {
			out[j] += (d0*r0[j] + d1*r1[j]) + (d2*r2[j] + d3*r3[j])
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

func toHand(p *RnnParams) *handRNN {
	return &handRNN{Wx: p.Wx, Wh: p.Wh, Bh: p.Bh, Wy: p.Wy[0], By: p.By[0]}
}

func fromHand(h *handRNN) *RnnParams {
	return &RnnParams{Wx: h.Wx, Wh: h.Wh, Bh: h.Bh, Wy: [1][16]float64{h.Wy}, By: [1]float64{h.By}}
}

// agree runs both on the same sequence, adding to the same non-zero
// gradient (both add), and reports where they differ beyond 1e-12 relative.
func agree(p *RnnParams, in *RnnInputs, perturb func(*handRNN)) error {
	var ws RnnWorkspace
	g := random2(p)
	hg := toHand(g)
	l1 := p.LossGrad(&ws, in, g)
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

// random2 is a gradient to add to: p's values scaled, so not zero.
func random2(p *RnnParams) *RnnParams {
	g := *p
	for i, v := range g.Flat() {
		g.Flat()[i] = 0.5 * v
	}
	return &g
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
	for name, f := range map[string]func(*handRNN){
		"Wh[3][7] off by 1e-10":  func(h *handRNN) { h.Wh[3][7] += 1e-10 * math.Max(1, math.Abs(h.Wh[3][7])) },
		"Wx[15][3] off by 1e-10": func(h *handRNN) { h.Wx[15][3] += 1e-10 * math.Max(1, math.Abs(h.Wx[15][3])) },
	} {
		if agree(p, in, f) == nil {
			t.Errorf("%s: the comparison did not notice", name)
		}
	}
}

func benchGenerated(p *RnnParams, in *RnnInputs) func(*testing.B) {
	return func(b *testing.B) {
		var ws RnnWorkspace
		var g RnnParams
		b.ReportAllocs()
		for b.Loop() {
			p.LossGrad(&ws, in, &g)
		}
	}
}

func benchHand(p *RnnParams, in *RnnInputs) func(*testing.B) {
	return func(b *testing.B) {
		h := toHand(p)
		var w handWork
		var g handRNN
		b.ReportAllocs()
		for b.Loop() {
			h.lossGrad(&w, &in.Xs, &in.Ys, &g)
		}
	}
}

// BenchmarkRnn: forward and backpropagation through time over 25 steps,
// generated against hand-written.
func BenchmarkRnn(b *testing.B) {
	p, in := random(1)
	b.Run("generated", benchGenerated(p, in))
	b.Run("handwritten", benchHand(p, in))
}

func TestPaired(t *testing.T) {
	p, in := random(1)
	paired(t, "rnn", benchGenerated(p, in), benchHand(p, in))
}

// -paired N makes TestPaired time the generated code and the hand-written
// baseline in alternating rounds (baseline.Paired).
var pairedRounds = flag.Int("paired", 0, "rounds for TestPaired (0 skips it)")

func paired(t *testing.T, name string, gen, hand func(*testing.B)) {
	baseline.Paired(t, name, *pairedRounds, gen, hand)
}
