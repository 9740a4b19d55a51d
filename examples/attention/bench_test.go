package main

import (
	"math/rand/v2"
	"testing"
)

// trainingBatch is the mini-batch of BenchmarkReverseLossGradBatch: the
// training batch of main (64 sequences), drawn from a fixed seed.
func trainingBatch() []ReverseInputs {
	r := rand.New(rand.NewPCG(1, 2))
	in := make([]ReverseInputs, 64)
	digits := make([]int, seqLen)
	for i := range in {
		randomDigits(r, digits)
		encode(digits, &in[i])
	}
	return in
}

// BenchmarkReverseLossGradBatch times the forward and backward pass of
// reverse.bp over one training mini-batch of 64 sequences on one
// goroutine: the Go side of scripts/attention_bench.py.
func BenchmarkReverseLossGradBatch(b *testing.B) {
	in := trainingBatch()
	var p, g ReverseParams
	p.Init(1)
	ws := new(ReverseBatchWorkspace)
	for b.Loop() {
		p.LossGradBatch(ws, in, &g)
	}
}

// BenchmarkReverseLossGradLoop is the same mini-batch through the
// per-sample LossGrad, one sequence at a time.
func BenchmarkReverseLossGradLoop(b *testing.B) {
	in := trainingBatch()
	var p, g ReverseParams
	p.Init(1)
	ws := new(ReverseWorkspace)
	for b.Loop() {
		for i := range in {
			p.LossGrad(ws, &in[i], &g)
		}
	}
}
