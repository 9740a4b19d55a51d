package embed

import (
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// Rows looked up by integer inputs get their gradient; other rows get none.
func TestGradMatchesFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := range 6 {
		var p EmbedParams
		gradcheck.Fill(r, p.Flat(), 1)
		in := EmbedInputs{First: r.Intn(10), Second: r.Intn(10), Y: r.NormFloat64()}
		if trial == 0 {
			in.Second = in.First // the same row twice: both contributions add up
		}
		var ws EmbedWorkspace
		var g EmbedParams
		p.LossGrad(&ws, &in, &g)
		loss := func() float64 { return p.Forward(&ws, &in, nil) }
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), nil) {
			t.Errorf("trial %d (%d, %d): %s", trial, in.First, in.Second, bad)
		}
		for row := range g.E {
			if row != in.First && row != in.Second && g.E[row] != [4]float64{} {
				t.Errorf("row %d, not looked up, has gradient %v", row, g.E[row])
			}
		}
	}
}

func TestNoAllocs(t *testing.T) {
	var p EmbedParams
	var ws EmbedWorkspace
	var g EmbedParams
	in := EmbedInputs{First: 3, Second: 7, Y: 1}
	if a := testing.AllocsPerRun(100, func() { p.LossGrad(&ws, &in, &g) }); a != 0 {
		t.Errorf("LossGrad allocates %v times", a)
	}
}
