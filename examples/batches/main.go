// Command batches trains one model (testdata/xor.bp, on 512 noisy XOR
// samples) three ways, as in the notes' exercise on batch size: stochastic
// gradient descent (batch size 1: noisy gradients, many cheap steps), mini-
// batches of 32, and full-batch gradient descent (exact gradients, one step
// per epoch). It prints their loss curves and time per epoch, and checks
// that the mini-batch gradient computed on several goroutines is the
// sequential one to the bit.
package main

import (
	"fmt"
	"io"
	"math/rand"
	"os"
	"time"

	"github.com/backpropgen/backpropgen/generated/xor"
	"github.com/backpropgen/backpropgen/train"
)

func dataset(r *rand.Rand, n int) []xor.XorInputs {
	out := make([]xor.XorInputs, n)
	for i := range out {
		a, b := r.Intn(2), r.Intn(2)
		out[i] = xor.XorInputs{X: [2]float64{float64(a) + 0.15*r.NormFloat64(), float64(b) + 0.15*r.NormFloat64()}, Y: float64(a ^ b)}
	}
	return out
}

type curve struct {
	batch    int
	loss     []float64 // mean loss over the data set after each epoch
	perEpoch time.Duration
}

const batchWorkers = 2

// fit trains with the given batch size and learning rate for epochs passes
// over data, from the same initial weights for every batch size.
func fit(data []xor.XorInputs, batch int, lr float64, epochs int) curve {
	var p, g xor.XorParams
	init := rand.New(rand.NewSource(7))
	for i := range p.Flat() {
		p.Flat()[i] = init.NormFloat64()
	}
	b := train.NewBatch[xor.XorParams, xor.XorBatchWorkspace, xor.XorInputs](batchWorkers)
	defer b.Close()
	eval := train.NewBatch[xor.XorParams, xor.XorBatchWorkspace, xor.XorInputs](1)
	opt := &train.SGD{LR: lr}
	c := curve{batch: batch}
	var spent time.Duration
	for range epochs {
		start := time.Now()
		for i := 0; i < len(data); i += batch {
			b.Grad(&p, data[i:min(i+batch, len(data))], &g, train.Mean)
			opt.Step(p.Flat(), g.Flat())
		}
		spent += time.Since(start)
		var tmp xor.XorParams
		c.loss = append(c.loss, eval.Grad(&p, data, &tmp, train.Mean))
	}
	c.perEpoch = spent / time.Duration(epochs)
	return c
}

// identical reports whether sequential and parallel gradients of a
// mini-batch agree to the bit.
func identical(data []xor.XorInputs) bool {
	var p xor.XorParams
	r := rand.New(rand.NewSource(3))
	for i := range p.Flat() {
		p.Flat()[i] = r.NormFloat64()
	}
	seq := train.NewBatch[xor.XorParams, xor.XorBatchWorkspace, xor.XorInputs](1)
	par := train.NewBatch[xor.XorParams, xor.XorBatchWorkspace, xor.XorInputs](batchWorkers)
	defer par.Close()
	var a, b xor.XorParams
	return seq.Grad(&p, data[:32], &a, train.Mean) == par.Grad(&p, data[:32], &b, train.Mean) && a == b
}

func run(w io.Writer, epochs int) []curve {
	data := dataset(rand.New(rand.NewSource(1)), 512)
	curves := []curve{
		fit(data, 1, 0.05, epochs),
		fit(data, 32, 0.5, epochs),
		fit(data, len(data), 2, epochs),
	}
	fmt.Fprintf(w, "mean loss after each epoch (512 samples; learning rates 0.05, 0.5, 2):\n%6s", "epoch")
	for _, c := range curves {
		fmt.Fprintf(w, " %12s", fmt.Sprintf("batch %d", c.batch))
	}
	fmt.Fprintln(w)
	for e := range epochs {
		if e < 5 || (e+1)%10 == 0 {
			fmt.Fprintf(w, "%6d", e+1)
			for _, c := range curves {
				fmt.Fprintf(w, " %12.5f", c.loss[e])
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "%6s", "time")
	for _, c := range curves {
		fmt.Fprintf(w, " %12s", c.perEpoch.Round(time.Microsecond))
	}
	fmt.Fprintln(w, "  per epoch")
	fmt.Fprintf(w, "sequential and %d-goroutine mini-batch gradients identical: %v\n", batchWorkers, identical(data))
	return curves
}

func main() {
	run(os.Stdout, 50)
}
