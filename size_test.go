package backpropgen_test

import (
	"runtime"
	"testing"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/internal/testmodels"
)

// BenchmarkGenerateLarge generates Go for a megabyte model of 36,000
// bindings; the goal is under 5 s on a 2-core machine (README, "Generation
// speed").
func BenchmarkGenerateLarge(b *testing.B) {
	src := testmodels.Chain(36000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := backpropgen.Generate("chain.bp", src, "m"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGeneratePowChain generates Go for a 5,000-deep ^ chain.
func BenchmarkGeneratePowChain(b *testing.B) {
	src := testmodels.PowChain(5000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := backpropgen.Generate("pow.bp", src, "m"); err != nil {
			b.Fatal(err)
		}
	}
}

// allocs is the number of heap allocations generate makes for src.
func allocs(t *testing.T, src []byte) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := backpropgen.Generate("m.bp", src, "m"); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs
}

// Generation is linear in the size of the model: four times the bindings
// (or the depth of a ^ chain) cost about four times the allocations, not
// sixteen. (Allocation counts are steady where times on a shared machine
// are not; a quadratic pass, like the naming and fusion bookkeeping that
// made 8,000 bindings take a minute, shows up in both.)
func TestGenerationIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("generates models of thousands of bindings")
	}
	for _, c := range []struct {
		name       string
		small, big []byte
	}{
		{"chain of bindings", testmodels.Chain(500), testmodels.Chain(2000)},
		{"^ chain", testmodels.PowChain(250), testmodels.PowChain(1000)},
	} {
		a, b := allocs(t, c.small), allocs(t, c.big)
		if r := float64(b) / float64(a); r > 5 {
			t.Errorf("%s: 4x the size takes %.1fx the allocations (%d, %d)", c.name, r, a, b)
		} else {
			t.Logf("%s: 4x the size takes %.2fx the allocations", c.name, r)
		}
	}
}
