package policy

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

func random(seed int64) (*PolicyParams, *PolicyInputs) {
	r := rand.New(rand.NewSource(seed))
	p := new(PolicyParams)
	gradcheck.Fill(r, p.Flat(), 0.5)
	in := &PolicyInputs{Action: r.Intn(2), Ret: 2*r.Float64() - 0.5}
	gradcheck.Fill(r, in.S[:], 1)
	return p, in
}

func TestGradMatchesFiniteDifferences(t *testing.T) {
	for seed := int64(1); seed <= 6; seed++ {
		p, in := random(seed)
		var ws PolicyWorkspace
		var g PolicyParams
		p.LossGrad(&ws, in, &g)
		loss := func() float64 { return p.Forward(&ws, in, nil) }
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), nil) {
			t.Errorf("seed %d (action %d): %s", seed, in.Action, bad)
		}
	}
}

// The policy gradient of -ret·log π(a) with respect to the logits is
// ret·(π - onehot(a)), which b2's gradient equals.
func TestLogitGradientIsReturnTimesProbsMinusOneHot(t *testing.T) {
	p, in := random(9)
	var ws PolicyWorkspace
	var out PolicyOutputs
	var g PolicyParams
	p.Forward(&ws, in, &out)
	p.Backward(&ws, in, &g)
	if s := out.Probs[0] + out.Probs[1]; s < 1-1e-15 || s > 1+1e-15 {
		t.Errorf("probabilities sum to %v", s)
	}
	for i := range 2 {
		want := in.Ret * out.Probs[i]
		if i == in.Action {
			want -= in.Ret
		}
		if gradcheck.RelErr(g.B2[i], want, 1e-12) > 1e-12 {
			t.Errorf("db2[%d] = %v, want %v", i, g.B2[i], want)
		}
	}
}

func TestActionOutOfRange(t *testing.T) {
	p, in := random(1)
	in.Action = 2
	if err := in.Validate(); err == nil || err.Error() != "policy: input action = 2 is outside its range 0..1" {
		t.Errorf("Validate: %v", err)
	}
	defer func() {
		r := recover()
		if err, ok := r.(error); !ok || !strings.Contains(err.Error(), "input action = 2 is outside its range 0..1") {
			t.Errorf("Forward with action 2: recovered %v", r)
		}
	}()
	var ws PolicyWorkspace
	p.Forward(&ws, in, nil)
}

func TestNoAllocs(t *testing.T) {
	p, in := random(2)
	var ws PolicyWorkspace
	var g PolicyParams
	var out PolicyOutputs
	if a := testing.AllocsPerRun(100, func() { p.Forward(&ws, in, &out); p.Backward(&ws, in, &g) }); a != 0 {
		t.Errorf("Forward+Backward allocate %v times", a)
	}
	if a := testing.AllocsPerRun(100, func() { p.LossGrad(&ws, in, &g) }); a != 0 {
		t.Errorf("LossGrad allocates %v times", a)
	}
}
