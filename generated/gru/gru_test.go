package gru

import (
	"math"
	"math/rand"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// random draws the parameters and a sequence: inputs uniform in ±1 and the
// targets a sine, as generated/lstm does.
func random(seed int64) (*GruParams, *GruInputs) {
	r := rand.New(rand.NewSource(seed))
	p := new(GruParams)
	gradcheck.Fill(r, p.Flat(), 0.4)
	in := new(GruInputs)
	for t := range in.Xs {
		gradcheck.Fill(r, in.Xs[t][:], 1)
		in.Ys[t] = math.Sin(float64(t) / 3)
	}
	return p, in
}
