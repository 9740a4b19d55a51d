package train_test

import (
	"flag"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/generated/classify"
	"github.com/backpropgen/backpropgen/internal/baseline"
	"github.com/backpropgen/backpropgen/train"
)

// BenchmarkBatchGrad: the gradient of a 256-sample mini-batch of the
// 784-128-10 classifier, on one goroutine and on two.
func BenchmarkBatchGrad(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	p := new(classify.ClassifyParams)
	for i := range p.Flat() {
		p.Flat()[i] = 0.05 * r.NormFloat64()
	}
	samples := make([]classify.ClassifyInputs, 256)
	for i := range samples {
		for j := range samples[i].X {
			samples[i].X[j] = r.Float64()
		}
		samples[i].Label = r.Intn(10)
	}
	for _, workers := range []int{1, 2} {
		name := "sequential"
		if workers > 1 {
			name = "parallel-2"
		}
		b.Run(name, func(b *testing.B) {
			bt := train.NewBatch[classify.ClassifyParams, classify.ClassifyBatchWorkspace, classify.ClassifyInputs](workers)
			defer bt.Close()
			g := new(classify.ClassifyParams)
			b.ReportAllocs()
			for b.Loop() {
				bt.Grad(p, samples, g, train.Mean)
			}
		})
	}
}

var pairedRounds = flag.Int("paired", 0, "rounds for TestPairedWorkers (0 skips it)")

// TestPairedWorkers times Batch.Grad of 256 samples of the 784-128-10
// classifier on two goroutines against one, in alternating rounds
// (-paired N): the ratio is the parallel speed-up's inverse.
func TestPairedWorkers(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	p := new(classify.ClassifyParams)
	for i := range p.Flat() {
		p.Flat()[i] = 0.05 * r.NormFloat64()
	}
	samples := make([]classify.ClassifyInputs, 256)
	for i := range samples {
		for j := range samples[i].X {
			samples[i].X[j] = r.Float64()
		}
		samples[i].Label = r.Intn(10)
	}
	run := func(workers int) func(*testing.B) {
		return func(b *testing.B) {
			bt := train.NewBatch[classify.ClassifyParams, classify.ClassifyBatchWorkspace, classify.ClassifyInputs](workers)
			defer bt.Close()
			g := new(classify.ClassifyParams)
			for b.Loop() {
				bt.Grad(p, samples, g, train.Mean)
			}
		}
	}
	baseline.PairedAs(t, "Batch.Grad of 256 samples", *pairedRounds, "2 goroutines", "1 goroutine", run(2), run(1))
}
