package main

import (
	"flag"
	"fmt"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/internal/baseline"
)

var pairedRounds = flag.Int("paired", 0, "rounds for TestPairedBatch (0 skips it)")

// batchSizes are the mini-batches the batch methods are measured on.
var batchSizes = []int{32, 256}

// benchLoop is the per-sample loop a caller writes without the batch
// methods: LossGrad on each sample into one gradient.
func benchLoop(p *ReverseParams, in []ReverseInputs) func(*testing.B) {
	return func(b *testing.B) {
		var ws ReverseWorkspace
		g := new(ReverseParams)
		b.ReportAllocs()
		for b.Loop() {
			for i := range in {
				p.LossGrad(&ws, &in[i], g)
			}
		}
	}
}

// benchBatch is LossGradBatch on the whole batch.
func benchBatch(p *ReverseParams, in []ReverseInputs) func(*testing.B) {
	return func(b *testing.B) {
		ws := new(ReverseBatchWorkspace)
		g := new(ReverseParams)
		b.ReportAllocs()
		for b.Loop() {
			p.LossGradBatch(ws, in, g)
		}
	}
}

// BenchmarkBatchMethods: LossGradBatch against LossGrad sample by sample,
// for batches of 32 and 256, on training samples at Init's parameters.
func BenchmarkBatchMethods(b *testing.B) {
	var p ReverseParams
	p.Init(1)
	for _, n := range batchSizes {
		in := batchOf(n)
		b.Run(fmt.Sprintf("batch=%d/loop", n), benchLoop(&p, in))
		b.Run(fmt.Sprintf("batch=%d/batch", n), benchBatch(&p, in))
	}
}

// TestPairedBatch times LossGradBatch and the per-sample loop in
// alternating rounds (-paired N rounds).
func TestPairedBatch(t *testing.T) {
	var p ReverseParams
	p.Init(1)
	for _, n := range batchSizes {
		in := batchOf(n)
		baseline.PairedAs(t, fmt.Sprintf("reverse batch=%d", n), *pairedRounds, "LossGradBatch", "LossGrad loop", benchBatch(&p, in), benchLoop(&p, in))
	}
}

// batchOf is n training samples of random digits.
func batchOf(n int) []ReverseInputs {
	r := rand.New(rand.NewSource(1))
	out := make([]ReverseInputs, n)
	digits := make([]int, seqLen)
	for i := range out {
		for t := range digits {
			digits[t] = r.Intn(10)
		}
		encode(digits, &out[i])
	}
	return out
}
