package lstm

import (
	"math"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

func random(seed int64) (*LstmParams, *LstmInputs) {
	r := rand.New(rand.NewSource(seed))
	p := new(LstmParams)
	gradcheck.Fill(r, p.Flat(), 0.4)
	in := new(LstmInputs)
	for t := range in.Xs {
		gradcheck.Fill(r, in.Xs[t][:], 1)
		in.Ys[t] = math.Sin(float64(t) / 3)
	}
	return p, in
}

// Backpropagation through time against central differences, for every
// parameter.
func TestGradMatchesFiniteDifferences(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		p, in := random(seed)
		var ws LstmWorkspace
		var g LstmParams
		p.LossGrad(&ws, in, &g)
		loss := func() float64 { return p.Forward(&ws, in, nil) }
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), nil) {
			t.Errorf("seed %d: %s", seed, bad)
		}
		var g2 LstmParams
		p.Forward(&ws, in, nil)
		p.Backward(&ws, in, &g2)
		if g2 != g {
			t.Errorf("seed %d: Forward+Backward differs from LossGrad", seed)
		}
	}
}

// The forward pass written out by hand, step by step.
func TestForwardIsTheRecurrence(t *testing.T) {
	p, in := random(4)
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	gate := func(W *[16][4]float64, U *[16][16]float64, b *[16]float64, x *[4]float64, h *[16]float64, i int) float64 {
		z := b[i]
		for j := range 4 {
			z += W[i][j] * x[j]
		}
		for j := range 16 {
			z += U[i][j] * h[j]
		}
		return z
	}
	var h, c [16]float64
	var want float64
	for s := range 25 {
		var hn [16]float64
		for i := range 16 {
			ig := sig(gate(&p.Wi, &p.Ui, &p.Bi, &in.Xs[s], &h, i))
			fg := sig(gate(&p.Wf, &p.Uf, &p.Bf, &in.Xs[s], &h, i))
			gg := math.Tanh(gate(&p.Wg, &p.Ug, &p.Bg, &in.Xs[s], &h, i))
			og := sig(gate(&p.Wo, &p.Uo, &p.Bo, &in.Xs[s], &h, i))
			c[i] = fg*c[i] + ig*gg
			hn[i] = og * math.Tanh(c[i])
		}
		h = hn
		y := p.By[0]
		for j := range 16 {
			y += p.Wy[0][j] * h[j]
		}
		want += (y - in.Ys[s]) * (y - in.Ys[s])
	}
	var ws LstmWorkspace
	if got := p.Forward(&ws, in, nil); math.Abs(got-want) > 1e-12*want {
		t.Errorf("loss %v, recurrence %v", got, want)
	}
}

func TestNoAllocs(t *testing.T) {
	p, in := random(2)
	var ws LstmWorkspace
	var g LstmParams
	for name, f := range map[string]func(){
		"Forward":  func() { p.Forward(&ws, in, nil) },
		"Backward": func() { p.Backward(&ws, in, &g) },
		"LossGrad": func() { p.LossGrad(&ws, in, &g) },
	} {
		if a := testing.AllocsPerRun(50, f); a != 0 {
			t.Errorf("%s allocates %v times", name, a)
		}
	}
}
