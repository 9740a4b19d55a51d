package gru

import "testing"

// BenchmarkGru: forward and backpropagation through time over 25 steps. gru
// has no hand-written baseline; the benchmark tracks the generated code's
// cost (README, Performance).
func BenchmarkGru(b *testing.B) {
	p, in := random(1)
	var ws GruWorkspace
	var g GruParams
	b.ReportAllocs()
	for b.Loop() {
		p.LossGrad(&ws, in, &g)
	}
}
