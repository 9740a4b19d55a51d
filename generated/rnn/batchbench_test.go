package rnn

import (
	"fmt"
	"testing"

	"github.com/backpropgen/backpropgen/internal/baseline"
)

// batchSizes are the mini-batches the batch methods are measured on.
var batchSizes = []int{1, 8, 32, 256}

// benchLoop is the per-sample loop a caller writes without the batch
// methods: LossGrad on each sample into one gradient.
func benchLoop(p *RnnParams, in []RnnInputs) func(*testing.B) {
	return func(b *testing.B) {
		var ws RnnWorkspace
		g := new(RnnParams)
		b.ReportAllocs()
		for b.Loop() {
			for i := range in {
				p.LossGrad(&ws, &in[i], g)
			}
		}
		reportFlops(b, len(in))
	}
}

// benchBatch is LossGradBatch on the whole batch.
func benchBatch(p *RnnParams, in []RnnInputs) func(*testing.B) {
	return func(b *testing.B) {
		ws := new(RnnBatchWorkspace)
		g := new(RnnParams)
		b.ReportAllocs()
		for b.Loop() {
			p.LossGradBatch(ws, in, g)
		}
		reportFlops(b, len(in))
	}
}

// BenchmarkBatchMethods: LossGradBatch against LossGrad sample by sample,
// for batches of 1, 8, 32 and 256.
func BenchmarkBatchMethods(b *testing.B) {
	p, _ := sample(1)
	for _, n := range batchSizes {
		in := batchOf(n)
		b.Run(fmt.Sprintf("batch=%d/loop", n), benchLoop(p, in))
		b.Run(fmt.Sprintf("batch=%d/batch", n), benchBatch(p, in))
	}
}

// TestPairedBatch times LossGradBatch and the per-sample loop in
// alternating rounds (-paired N rounds).
func TestPairedBatch(t *testing.T) {
	p, _ := sample(1)
	for _, n := range batchSizes {
		in := batchOf(n)
		baseline.PairedAs(t, fmt.Sprintf("rnn batch=%d", n), *pairedRounds, "LossGradBatch", "LossGrad loop", benchBatch(p, in), benchLoop(p, in))
	}
}

// batchOf is n samples, drawn as the checks draw them.
func batchOf(n int) []RnnInputs {
	out := make([]RnnInputs, n)
	for i := range out {
		_, in := sample(int64(100 + i))
		out[i] = *in
	}
	return out
}

// reportFlops reports the time per sample.
func reportFlops(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/sample")
}
