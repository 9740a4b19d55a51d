package mnist

import (
	"math"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

func randomModel(seed int64) (*MnistParams, *MnistInputs) {
	r := rand.New(rand.NewSource(seed))
	p := new(MnistParams)
	gradcheck.Fill(r, p.Flat(), 0.05)
	in := new(MnistInputs)
	gradcheck.Fill(r, in.X[:], 1)
	in.Target[r.Intn(10)] = 1
	return p, in
}

// Checking all 101,770 coordinates numerically would take a minute; a
// random sample of each parameter, and every bias, is checked instead.
func TestGradMatchesFiniteDifferences(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		p, in := randomModel(seed)
		var ws MnistWorkspace
		var g MnistParams
		p.LossGrad(&ws, in, &g)
		loss := func() float64 { return p.Forward(&ws, in, nil) }
		r := rand.New(rand.NewSource(seed))
		idx := gradcheck.Sample(r, MnistNumParams, 400)
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), idx) {
			t.Errorf("seed %d: %s", seed, bad)
		}
	}
}

// For a one-hot target, d loss/d logits = softmax(logits) - target: the
// closed form of the cross-entropy gradient, which b2's gradient equals.
func TestLogitGradientIsSoftmaxMinusTarget(t *testing.T) {
	p, in := randomModel(9)
	var ws MnistWorkspace
	var g MnistParams
	var out MnistOutputs
	loss := p.Forward(&ws, in, &out)
	p.Backward(&ws, in, &g)
	m := math.Inf(-1)
	for _, z := range out.Logits {
		m = math.Max(m, z)
	}
	var sum float64
	for _, z := range out.Logits {
		sum += math.Exp(z - m)
	}
	for i, z := range out.Logits {
		soft := math.Exp(z-m) / sum
		if e := gradcheck.RelErr(g.B2[i], soft-in.Target[i], 1e-12); e > 1e-12 {
			t.Errorf("db2[%d] = %v, want softmax - target = %v", i, g.B2[i], soft-in.Target[i])
		}
		if in.Target[i] == 1 {
			if want := -math.Log(soft); math.Abs(loss-want) > 1e-12 {
				t.Errorf("loss %v, want -log softmax = %v", loss, want)
			}
		}
	}
}

// Logits of ±1000 must not overflow log_softmax or its gradient.
func TestStableAtLargeLogits(t *testing.T) {
	p, in := randomModel(5)
	for i := range p.B2 {
		p.B2[i] = 1000 * float64(1-2*(i%2))
	}
	var ws MnistWorkspace
	var g MnistParams
	loss := p.LossGrad(&ws, in, &g)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		t.Fatalf("loss %v at logits ±1000", loss)
	}
	for i, v := range g.Flat() {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("gradient coordinate %d is %v at logits ±1000", i, v)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	p, in := randomModel(1)
	var ws MnistWorkspace
	var g MnistParams
	var out MnistOutputs
	if a := testing.AllocsPerRun(20, func() { p.Forward(&ws, in, &out) }); a != 0 {
		t.Errorf("Forward allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(20, func() { p.Backward(&ws, in, &g) }); a != 0 {
		t.Errorf("Backward allocates %v times per call", a)
	}
}
