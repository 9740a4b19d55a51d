package train_test

import (
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/generated/classify"
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
