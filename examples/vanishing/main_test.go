package main

import "testing"

// The sigmoid net's first layer gets a vanishing share of the gradient;
// with relu or residual connections it does not.
func TestVanishingOnlyWithSigmoid(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		sig, relu, res := norms(seed)
		if r := sig[0] / sig[layers-1]; !(r < 1e-6) {
			t.Errorf("seed %d: sigmoid first/last layer gradient ratio %.2g, expected it to vanish", seed, r)
		}
		for name, n := range map[string][layers]float64{"relu": relu, "residual": res} {
			if r := n[0] / n[layers-1]; !(r > 0.05) {
				t.Errorf("seed %d: %s first/last ratio %.2g, expected no vanishing", seed, name, r)
			}
		}
	}
}
