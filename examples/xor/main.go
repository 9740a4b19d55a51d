// Command xor trains the 2-8-1 network of testdata/xor.bp on XOR with
// full-batch gradient descent, using the generated gradient and the train
// package, and prints its progress.
package main

import (
	"fmt"
	"io"
	"math/rand"
	"os"

	"github.com/backpropgen/backpropgen/generated/xor"
	"github.com/backpropgen/backpropgen/train"
)

var samples = []xor.XorInputs{
	{X: [2]float64{0, 0}, Y: 0},
	{X: [2]float64{0, 1}, Y: 1},
	{X: [2]float64{1, 0}, Y: 1},
	{X: [2]float64{1, 1}, Y: 0},
}

type result struct {
	epochs int
	loss   float64 // mean squared error over the four inputs
	outs   [4]float64
}

// run trains from weights drawn with seed until the mean loss is below
// target or maxEpochs have passed.
func run(w io.Writer, seed int64, target float64, maxEpochs int) result {
	r := rand.New(rand.NewSource(seed))
	var p, g xor.XorParams
	for i := range p.Flat() {
		p.Flat()[i] = r.NormFloat64()
	}
	b := train.NewBatch[xor.XorParams, xor.XorBatchWorkspace, xor.XorInputs](1)
	defer b.Close()
	opt := &train.SGD{LR: 0.5}
	var res result
	for res.epochs = 1; res.epochs <= maxEpochs; res.epochs++ {
		res.loss = b.Grad(&p, samples, &g, train.Mean)
		if res.epochs%500 == 0 || res.loss < target {
			fmt.Fprintf(w, "epoch %5d  loss %.6f\n", res.epochs, res.loss)
		}
		if res.loss < target {
			break
		}
		opt.Step(p.Flat(), g.Flat())
	}
	var ws xor.XorWorkspace
	var out xor.XorOutputs
	for i := range samples {
		p.Predict(&ws, &samples[i], &out) // inference: the outputs alone, no loss
		res.outs[i] = out.P[0]
		fmt.Fprintf(w, "xor(%v, %v) = %.3f\n", samples[i].X[0], samples[i].X[1], out.P[0])
	}
	return res
}

func main() {
	res := run(os.Stdout, 1, 0.01, 20000)
	if res.loss >= 0.01 {
		os.Exit(1)
	}
}
