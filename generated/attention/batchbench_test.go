package attention

import (
	"flag"
	"fmt"
	"testing"

	"github.com/backpropgen/backpropgen/internal/baseline"
)

var pairedRounds = flag.Int("paired", 0, "rounds for TestPairedBatch (0 skips it)")

// batchSizes are the mini-batches the batch methods are measured on.
var batchSizes = []int{32, 256}

// benchLoop is the per-sample loop a caller writes without the batch
// methods: LossGrad on each sample into one gradient.
func benchLoop(p *AttentionParams, in []AttentionInputs) func(*testing.B) {
	return func(b *testing.B) {
		var ws AttentionWorkspace
		g := new(AttentionParams)
		b.ReportAllocs()
		for b.Loop() {
			for i := range in {
				p.LossGrad(&ws, &in[i], g)
			}
		}
	}
}

// benchBatch is LossGradBatch on the whole batch.
func benchBatch(p *AttentionParams, in []AttentionInputs) func(*testing.B) {
	return func(b *testing.B) {
		ws := new(AttentionBatchWorkspace)
		g := new(AttentionParams)
		b.ReportAllocs()
		for b.Loop() {
			p.LossGradBatch(ws, in, g)
		}
	}
}

// BenchmarkBatchMethods: LossGradBatch against LossGrad sample by sample,
// for batches of 32 and 256.
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
		baseline.PairedAs(t, fmt.Sprintf("attention batch=%d", n), *pairedRounds, "LossGradBatch", "LossGrad loop", benchBatch(p, in), benchLoop(p, in))
	}
}

// batchOf is n samples, drawn as the checks draw them.
func batchOf(n int) []AttentionInputs {
	out := make([]AttentionInputs, n)
	for i := range out {
		_, in := sample(int64(100 + i))
		out[i] = *in
	}
	return out
}
