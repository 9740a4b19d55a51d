package residual

import (
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

func TestGradMatchesFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := range 4 {
		var p ResidualParams
		gradcheck.Fill(r, p.Flat(), 0.5)
		var in ResidualInputs
		gradcheck.Fill(r, in.X[:], 1)
		in.Y = r.NormFloat64()
		var ws ResidualWorkspace
		var g ResidualParams
		p.LossGrad(&ws, &in, &g)
		loss := func() float64 { return p.Forward(&ws, &in, nil) }
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), nil) {
			t.Errorf("trial %d: %s", trial, bad)
		}
	}
}

// Through the identity paths of the residual blocks, the gradient reaching
// h0 is at least the direct one, v·(loss'): it cannot vanish when the
// relu branches are dead.
func TestResidualPathCarriesGradient(t *testing.T) {
	var p ResidualParams
	for i := range p.W0 {
		for j := range p.W0[i] {
			p.W0[i][j] = 0.1 * float64(i-j)
		}
		p.V[i] = 1
		p.A_[i], p.B_[i] = -100, -100 // both relu branches off
	}
	in := ResidualInputs{X: [4]float64{1, 2, 3, 4}, Y: 0}
	var ws ResidualWorkspace
	var g ResidualParams
	p.LossGrad(&ws, &in, &g)
	nonzero := 0
	for _, row := range g.W0 {
		for _, v := range row {
			if v != 0 {
				nonzero++
			}
		}
	}
	if nonzero == 0 {
		t.Errorf("gradient of W0 vanished although the skip connections carry it")
	}
}

func TestNoAllocs(t *testing.T) {
	var p ResidualParams
	gradcheck.Fill(rand.New(rand.NewSource(1)), p.Flat(), 0.5)
	var ws ResidualWorkspace
	var g ResidualParams
	in := ResidualInputs{X: [4]float64{1, 2, 3, 4}, Y: 1}
	if a := testing.AllocsPerRun(100, func() { p.LossGrad(&ws, &in, &g) }); a != 0 {
		t.Errorf("LossGrad allocates %v times per call", a)
	}
}
