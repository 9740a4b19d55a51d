package classify

import (
	"math"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/generated/mnist"
	"github.com/backpropgen/backpropgen/gradcheck"
)

func random(seed int64) (*ClassifyParams, *ClassifyInputs) {
	r := rand.New(rand.NewSource(seed))
	p := new(ClassifyParams)
	gradcheck.Fill(r, p.Flat(), 0.05)
	in := &ClassifyInputs{Label: r.Intn(10)}
	gradcheck.Fill(r, in.X[:], 1)
	return p, in
}

func TestGradMatchesFiniteDifferences(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		p, in := random(seed)
		var ws ClassifyWorkspace
		var g ClassifyParams
		p.LossGrad(&ws, in, &g)
		loss := func() float64 { return p.Forward(&ws, in, nil) }
		idx := gradcheck.Sample(rand.New(rand.NewSource(seed)), ClassifyNumParams, 400)
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), idx) {
			t.Errorf("seed %d: %s", seed, bad)
		}
	}
}

// cross_entropy(logits, label) is mnist.bp's -dot(onehot, log_softmax(logits)):
// the same loss and gradient, from an integer label.
func TestSameAsMnistWithOneHotTarget(t *testing.T) {
	p, in := random(5)
	q := mnist.MnistParams{W1: p.W1, B1: p.B1, W2: p.W2, B2: p.B2}
	min := mnist.MnistInputs{X: in.X}
	min.Target[in.Label] = 1
	var ws ClassifyWorkspace
	var mws mnist.MnistWorkspace
	var g ClassifyParams
	var mg mnist.MnistParams
	l1 := p.LossGrad(&ws, in, &g)
	l2 := q.LossGrad(&mws, &min, &mg)
	if math.Abs(l1-l2) > 1e-12 {
		t.Errorf("loss %v, mnist %v", l1, l2)
	}
	mf := mg.Flat()
	for i, v := range g.Flat() {
		if math.Abs(v-mf[i]) > 1e-12 {
			t.Fatalf("gradient %d: %v, mnist %v", i, v, mf[i])
		}
	}
}

func TestLabelOutOfRange(t *testing.T) {
	in := &ClassifyInputs{Label: -1}
	if err := in.Validate(); err == nil || err.Error() != "classify: input label = -1 is outside its range 0..9" {
		t.Errorf("Validate: %v", err)
	}
}

func TestNoAllocs(t *testing.T) {
	p, in := random(2)
	var ws ClassifyWorkspace
	var g ClassifyParams
	if a := testing.AllocsPerRun(20, func() { p.LossGrad(&ws, in, &g) }); a != 0 {
		t.Errorf("LossGrad allocates %v times", a)
	}
}
