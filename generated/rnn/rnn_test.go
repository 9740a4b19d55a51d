package rnn

import (
	"math"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

func random(seed int64) (*RnnParams, *RnnInputs) {
	r := rand.New(rand.NewSource(seed))
	p := new(RnnParams)
	gradcheck.Fill(r, p.Flat(), 0.4)
	in := new(RnnInputs)
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
		var ws RnnWorkspace
		var g RnnParams
		p.LossGrad(&ws, in, &g)
		loss := func() float64 { return p.Forward(&ws, in, nil) }
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), nil) {
			t.Errorf("seed %d: %s", seed, bad)
		}
		var g2 RnnParams
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
	var h [16]float64
	var want float64
	for s := range 25 {
		var next [16]float64
		for i := range 16 {
			z := p.Bh[i]
			for j := range 4 {
				z += p.Wx[i][j] * in.Xs[s][j]
			}
			for j := range 16 {
				z += p.Wh[i][j] * h[j]
			}
			next[i] = math.Tanh(z)
		}
		h = next
		y := p.By[0]
		for j := range 16 {
			y += p.Wy[0][j] * h[j]
		}
		want += (y - in.Ys[s]) * (y - in.Ys[s])
	}
	var ws RnnWorkspace
	if got := p.Forward(&ws, in, nil); math.Abs(got-want) > 1e-12*want {
		t.Errorf("loss %v, recurrence %v", got, want)
	}
}

func TestNoAllocs(t *testing.T) {
	p, in := random(2)
	var ws RnnWorkspace
	var g RnnParams
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
