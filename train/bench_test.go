package train_test

import (
	"flag"
	"math"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/generated/classify"
	"github.com/backpropgen/backpropgen/generated/mnist"
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

// mnistBatch is 256 samples of the 784-128-10 mnist model (relu, softmax
// cross-entropy against a one-hot target) and parameters to take their
// gradient at.
func mnistBatch() (*mnist.MnistParams, []mnist.MnistInputs) {
	r := rand.New(rand.NewSource(1))
	p := new(mnist.MnistParams)
	for i := range p.Flat() {
		p.Flat()[i] = 0.05 * r.NormFloat64()
	}
	samples := make([]mnist.MnistInputs, 256)
	for i := range samples {
		for j := range samples[i].X {
			samples[i].X[j] = r.Float64()
		}
		samples[i].Target[r.Intn(10)] = 1
	}
	return p, samples
}

// mnistGrad is Batch.Grad of the 256 samples on the given number of
// goroutines, or for workers 0, the loop a caller writes without it:
// LossGradTo on the first sample and LossGrad on the others.
func mnistGrad(workers int) func(*testing.B) {
	p, samples := mnistBatch()
	return func(b *testing.B) {
		g := new(mnist.MnistParams)
		b.ReportAllocs()
		if workers == 0 {
			var ws mnist.MnistWorkspace
			for b.Loop() {
				p.LossGradTo(&ws, &samples[0], g)
				for i := 1; i < len(samples); i++ {
					p.LossGrad(&ws, &samples[i], g)
				}
			}
			return
		}
		bt := train.NewBatch[mnist.MnistParams, mnist.MnistBatchWorkspace, mnist.MnistInputs](workers)
		defer bt.Close()
		for b.Loop() {
			bt.Grad(p, samples, g, train.Sum)
		}
	}
}

// BenchmarkBatchGradMnist: the gradient of 256 mnist samples by Batch.Grad
// on one goroutine and on two, and by the per-sample loop.
func BenchmarkBatchGradMnist(b *testing.B) {
	b.Run("loop", mnistGrad(0))
	b.Run("workers=1", mnistGrad(1))
	b.Run("workers=2", mnistGrad(2))
}

// TestPairedWorkersMnist times Batch.Grad of 256 mnist samples on one
// goroutine and on two against the per-sample loop, in alternating rounds
// (-paired N).
func TestPairedWorkersMnist(t *testing.T) {
	baseline.PairedAs(t, "mnist, 256 samples", *pairedRounds, "Batch.Grad, 1 goroutine", "LossGrad loop", mnistGrad(1), mnistGrad(0))
	baseline.PairedAs(t, "mnist, 256 samples", *pairedRounds, "Batch.Grad, 2 goroutines", "LossGrad loop", mnistGrad(2), mnistGrad(0))
}

// TestMnistGradAgrees checks that the benchmarks' two sides compute the
// same gradient, within 1e-12 of its largest entry.
func TestMnistGradAgrees(t *testing.T) {
	p, samples := mnistBatch()
	var ws mnist.MnistWorkspace
	want := new(mnist.MnistParams)
	for i := range samples {
		p.LossGrad(&ws, &samples[i], want)
	}
	for _, workers := range []int{1, 2} {
		bt := train.NewBatch[mnist.MnistParams, mnist.MnistBatchWorkspace, mnist.MnistInputs](workers)
		got := new(mnist.MnistParams)
		bt.Grad(p, samples, got, train.Sum)
		bt.Close()
		scale := 0.0
		for _, x := range want.Flat() {
			scale = max(scale, math.Abs(x))
		}
		for i, x := range got.Flat() {
			if d := math.Abs(x - want.Flat()[i]); d > 1e-12*scale {
				t.Fatalf("%d goroutines: entry %d is %v, the loop's %v", workers, i, x, want.Flat()[i])
			}
		}
	}
}
