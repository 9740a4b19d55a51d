package policy

import (
	"flag"
	"fmt"
	"math"
	"testing"

	"github.com/backpropgen/backpropgen/internal/baseline"
)

// handPolicy is policy.bp written by hand the way an expert would write it
// in plain Go for amd64, without allocation. One sample is one step of an
// episode (the model has no loop over steps: a REINFORCE episode is a batch
// of such samples, each with its own return), so lossGrad is one step.
//
// Forward: s is loaded into four registers once; W1 s + b1 four rows per
// pass through hoisted row addresses, each row's four products summed as
// two independent pairs; the 32 tanh calls in a loop of their own, which
// holds nothing live but two pointers and the index (a call clobbers every
// register, so a tanh inside the W1 loop would spill and reload s); the two
// logits in one pass over h, both rows of W2 sharing each load of h, each
// row in two independent partial sums. The softmax takes one exp per action
// and one log, and its probabilities are formed once (one division) and
// kept for the backward pass, where the logits' gradient is
// ret·(π − onehot(action)) straight from them.
//
// Backward: one pass over the 32 hidden units, four per pass: each load of
// h[i] serves the two W2-gradient rows and the tanh derivative, and the
// four hidden deltas stay in registers for the four W1-gradient rows;
// every entry of g is read and written once. There s[k] is read from
// memory, s[k]*c, rather than from the registers of the forward pass: with
// the deltas, h and d0, d1 live, s0..s3 would be spilled anyway, and Go's
// amd64 code (SSE2, two-operand MULSD) must copy a register operand before
// multiplying it, so the load is the cheaper operand (5 instructions per
// entry instead of 6; callgrind: about 4760 against 4810 per step). It is the
// baseline for the generated code's benchmark.
type handPolicy struct {
	W1 [32][4]float64
	B1 [32]float64
	W2 [2][32]float64
	B2 [2]float64
}

// handWork is what the forward pass keeps for the backward pass.
type handWork struct {
	h     [32]float64 // W1 s + b1, then tanh of it in place
	probs [2]float64  // softmax(logits), computed once
}

// lossGrad returns the loss of one step, -ret·log softmax(logits)[action],
// and adds its gradient to g.
func (m *handPolicy) lossGrad(w *handWork, s *[4]float64, action int, ret float64, g *handPolicy) float64 {
	if uint(action) >= 2 {
		panic(fmt.Sprintf("handPolicy: action %d is outside 0..1", action))
	}
	h := &w.h
	s0, s1, s2, s3 := s[0], s[1], s[2], s[3]
	for i := 0; i < 32; i += 4 {
		r0, r1, r2, r3 := &m.W1[i], &m.W1[i+1], &m.W1[i+2], &m.W1[i+3]
		h[i] = m.B1[i] + ((r0[0]*s0 + r0[1]*s1) + (r0[2]*s2 + r0[3]*s3))
		h[i+1] = m.B1[i+1] + ((r1[0]*s0 + r1[1]*s1) + (r1[2]*s2 + r1[3]*s3))
		h[i+2] = m.B1[i+2] + ((r2[0]*s0 + r2[1]*s1) + (r2[2]*s2 + r2[3]*s3))
		h[i+3] = m.B1[i+3] + ((r3[0]*s0 + r3[1]*s1) + (r3[2]*s2 + r3[3]*s3))
	}
	for i := range h {
		h[i] = math.Tanh(h[i])
	}

	// Both logits in one pass: each load of h serves both rows of W2.
	u, v := &m.W2[0], &m.W2[1]
	var a0, a1, b0, b1 float64
	for k := 0; k < 32; k += 4 {
		h0, h1, h2, h3 := h[k], h[k+1], h[k+2], h[k+3]
		a0 += u[k]*h0 + u[k+1]*h1
		a1 += u[k+2]*h2 + u[k+3]*h3
		b0 += v[k]*h0 + v[k+1]*h1
		b1 += v[k+2]*h2 + v[k+3]*h3
	}
	z0, z1 := (a0+a1)+m.B2[0], (b0+b1)+m.B2[1]

	// Softmax: one exp per action, one log, one division.
	mx := max(z0, z1)
	z0, z1 = z0-mx, z1-mx
	e0, e1 := math.Exp(z0), math.Exp(z1)
	sum := e0 + e1
	lse := math.Log(sum)
	inv := 1 / sum
	p0, p1 := e0*inv, e1*inv
	w.probs = [2]float64{p0, p1}
	za := z0
	if action == 1 {
		za = z1
	}
	loss := -ret * (za - lse)

	// d loss / d logits = ret·(π − onehot(action)), from the kept π.
	d0, d1 := ret*p0, ret*p1
	if action == 0 {
		d0 -= ret
	} else {
		d1 -= ret
	}
	g.B2[0] += d0
	g.B2[1] += d1
	gu, gv := &g.W2[0], &g.W2[1]
	for i := 0; i < 32; i += 4 {
		h0, h1, h2, h3 := h[i], h[i+1], h[i+2], h[i+3]
		gu[i] += d0 * h0
		gu[i+1] += d0 * h1
		gu[i+2] += d0 * h2
		gu[i+3] += d0 * h3
		gv[i] += d1 * h0
		gv[i+1] += d1 * h1
		gv[i+2] += d1 * h2
		gv[i+3] += d1 * h3
		c0 := (d0*u[i] + d1*v[i]) * (1 - h0*h0)
		c1 := (d0*u[i+1] + d1*v[i+1]) * (1 - h1*h1)
		c2 := (d0*u[i+2] + d1*v[i+2]) * (1 - h2*h2)
		c3 := (d0*u[i+3] + d1*v[i+3]) * (1 - h3*h3)
		g.B1[i] += c0
		g.B1[i+1] += c1
		g.B1[i+2] += c2
		g.B1[i+3] += c3
		r0, r1, r2, r3 := &g.W1[i], &g.W1[i+1], &g.W1[i+2], &g.W1[i+3]
		r0[0] += s[0] * c0
		r0[1] += s[1] * c0
		r0[2] += s[2] * c0
		r0[3] += s[3] * c0
		r1[0] += s[0] * c1
		r1[1] += s[1] * c1
		r1[2] += s[2] * c1
		r1[3] += s[3] * c1
		r2[0] += s[0] * c2
		r2[1] += s[1] * c2
		r2[2] += s[2] * c2
		r2[3] += s[3] * c2
		r3[0] += s[0] * c3
		r3[1] += s[1] * c3
		r3[2] += s[2] * c3
		r3[3] += s[3] * c3
	}
	return loss
}

// PolicyParams and handPolicy have the same fields in the same order, so a
// pointer to one converts to the other.
func toHand(p *PolicyParams) *handPolicy { return (*handPolicy)(p) }

func fromHand(h *handPolicy) *PolicyParams { return (*PolicyParams)(h) }

// agree runs both on the same sample, adding to the same non-zero gradient
// (both add), and reports where the loss, the probabilities (against
// Forward's output) or the gradient differ beyond 1e-12 relative.
func agree(p *PolicyParams, in *PolicyInputs, perturb func(*handPolicy)) error {
	var ws PolicyWorkspace
	var hw handWork
	g := new(PolicyParams)
	for i, v := range p.Flat() {
		g.Flat()[i] = 0.5 * v
	}
	hg := *toHand(g)
	l1 := p.LossGrad(&ws, in, g)
	l2 := toHand(p).lossGrad(&hw, &in.S, in.Action, in.Ret, &hg)
	if perturb != nil {
		perturb(&hg)
	}
	if err := baseline.CloseTo("loss", []float64{l1}, []float64{l2}); err != nil {
		return err
	}
	var out PolicyOutputs
	p.Forward(&ws, in, &out)
	if err := baseline.CloseTo("probs", out.Probs[:], hw.probs[:]); err != nil {
		return err
	}
	return baseline.CloseTo("gradient", g.Flat(), fromHand(&hg).Flat())
}

func TestHandwrittenAgrees(t *testing.T) {
	for seed := int64(1); seed <= 8; seed++ {
		p, in := sample(seed)
		for a := range 2 { // both actions on every parameter set
			in.Action = a
			if err := agree(p, in, nil); err != nil {
				t.Errorf("seed %d, action %d: %v", seed, a, err)
			}
		}
	}
	// The check can fail: one entry off by 1e-10.
	p, in := sample(4)
	off := func(v *float64) { *v += 1e-10 * math.Max(1, math.Abs(*v)) }
	for name, f := range map[string]func(*handPolicy){
		"W1[31][3]": func(h *handPolicy) { off(&h.W1[31][3]) },
		"b1[0]":     func(h *handPolicy) { off(&h.B1[0]) },
		"W2[1][17]": func(h *handPolicy) { off(&h.W2[1][17]) },
		"b2[1]":     func(h *handPolicy) { off(&h.B2[1]) },
	} {
		if agree(p, in, f) == nil {
			t.Errorf("%s off by 1e-10: the comparison did not notice", name)
		}
	}
}

func benchGenerated(p *PolicyParams, in *PolicyInputs) func(*testing.B) {
	return func(b *testing.B) {
		var ws PolicyWorkspace
		g := new(PolicyParams)
		b.ReportAllocs()
		for b.Loop() {
			p.LossGrad(&ws, in, g)
		}
	}
}

func benchHand(h *handPolicy, in *PolicyInputs) func(*testing.B) {
	return func(b *testing.B) {
		var w handWork
		g := new(handPolicy)
		b.ReportAllocs()
		for b.Loop() {
			h.lossGrad(&w, &in.S, in.Action, in.Ret, g)
		}
	}
}

// BenchmarkPolicy: forward and backward for one sample (one step),
// generated against hand-written.
func BenchmarkPolicy(b *testing.B) {
	p, in := sample(1)
	b.Run("generated", benchGenerated(p, in))
	b.Run("handwritten", benchHand(toHand(p), in))
}

func TestPaired(t *testing.T) {
	p, in := sample(1)
	paired(t, "policy", benchGenerated(p, in), benchHand(toHand(p), in))
}

// -paired N makes TestPaired time the generated code and the hand-written
// baseline in alternating rounds (baseline.Paired).
var pairedRounds = flag.Int("paired", 0, "rounds for TestPaired (0 skips it)")

func paired(t *testing.T, name string, gen, hand func(*testing.B)) {
	baseline.Paired(t, name, *pairedRounds, gen, hand)
}
