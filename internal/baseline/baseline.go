// Package baseline compares generated code with the hand-written expert
// baselines it is benchmarked against (generated/*/handwritten_test.go):
// the same numbers to 1e-12, and the time of both in alternating rounds.
package baseline

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// Paired times gen and hand, the generated code and its hand-written
// baseline, in alternating rounds of one process (who goes first
// alternates too), so that a noisy machine's slow spells fall on both
// sides. It logs each round and the median of the per-round ratios
// generated/hand-written. With 0 rounds it skips the test.
func Paired(t *testing.T, name string, rounds int, gen, hand func(*testing.B)) {
	PairedAs(t, name, rounds, "generated", "hand-written", gen, hand)
}

// PairedAs is Paired for two implementations named aName and bName: the
// ratios are a's time over b's.
func PairedAs(t *testing.T, name string, rounds int, aName, bName string, gen, hand func(*testing.B)) {
	if rounds == 0 {
		t.Skip("run with -paired N")
	}
	gs, hs, rs := make([]float64, rounds), make([]float64, rounds), make([]float64, rounds)
	for r := range rounds {
		var g, h testing.BenchmarkResult
		if r%2 == 0 {
			g, h = testing.Benchmark(gen), testing.Benchmark(hand)
		} else {
			h, g = testing.Benchmark(hand), testing.Benchmark(gen)
		}
		gs[r] = float64(g.T.Nanoseconds()) / float64(g.N)
		hs[r] = float64(h.T.Nanoseconds()) / float64(h.N)
		rs[r] = gs[r] / hs[r]
		t.Logf("%s round %d: %s %.0f ns/op, %s %.0f ns/op, ratio %.3f", name, r, aName, gs[r], bName, hs[r], rs[r])
	}
	t.Logf("%s: median %s %.0f ns/op, %s %.0f ns/op; median ratio %.3f (range %.3f–%.3f, %d rounds)",
		name, aName, median(gs), bName, median(hs), median(rs), slices.Min(rs), slices.Max(rs), rounds)
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// CloseTo reports the first entry where got (the generated code's) and
// want (the hand-written baseline's) differ by more than 1e-12 relative
// (absolute below 1), for a gradient named name.
func CloseTo(name string, got, want []float64) error {
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12*math.Max(1, math.Abs(want[i])) {
			return fmt.Errorf("%s[%d]: generated %v, hand-written %v", name, i, got[i], want[i])
		}
	}
	return nil
}
