package main

import "testing"

// BenchmarkReverseLossGradBatch times the forward and backward pass of
// reverse.bp over one training mini-batch of 64 sequences (main's batch
// size) on one goroutine: the Go side of scripts/attention_bench.py.
func BenchmarkReverseLossGradBatch(b *testing.B) {
	var p ReverseParams
	p.Init(1)
	benchBatch(&p, batchOf(64))(b)
}

// BenchmarkReverseLossGradLoop is the same mini-batch through the
// per-sample LossGrad, one sequence at a time.
func BenchmarkReverseLossGradLoop(b *testing.B) {
	var p ReverseParams
	p.Init(1)
	benchLoop(&p, batchOf(64))(b)
}
