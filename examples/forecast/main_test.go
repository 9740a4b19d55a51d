package main

import (
	"io"
	"math"
	"testing"
)

// TestBeatsBaselines trains for a few epochs and checks that the LSTM's
// forecasts of the held-out years beat persistence and seasonal naive.
func TestBeatsBaselines(t *testing.T) {
	res, err := run(io.Discard, config{seed: 1, epochs: 8, batch: 32, lr: 0.005})
	if err != nil {
		t.Fatal(err)
	}
	// The baselines depend on the data and the split alone.
	if math.Abs(res.persistence-30.35) > 0.01 || math.Abs(res.seasonal-34.26) > 0.01 {
		t.Errorf("baselines: persistence %.4f, seasonal naive %.4f; want 30.35 and 34.26", res.persistence, res.seasonal)
	}
	if !(res.model < 0.7*res.persistence && res.model < 0.7*res.seasonal) {
		t.Errorf("test RMSE %.2f: not 30%% below persistence (%.2f) and seasonal naive (%.2f)", res.model, res.persistence, res.seasonal)
	}
}

// TestDeterministic checks that a seed gives the same run.
func TestDeterministic(t *testing.T) {
	cfg := config{seed: 7, epochs: 1, batch: 32, lr: 0.005}
	a, err := run(io.Discard, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := run(io.Discard, cfg)
	if a.model != b.model {
		t.Errorf("two runs with seed 7: test RMSE %v, then %v", a.model, b.model)
	}
}

func TestSeries(t *testing.T) {
	s, err := series()
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 309 || s[0] != 5 || s[len(s)-1] != 2.9 {
		t.Errorf("series: %d years, first %v, last %v; want 309, 5, 2.9", len(s), s[0], s[len(s)-1])
	}
}
