// Command rnn trains the recurrent network of testdata/rnn.bp, with
// backpropagation through time, to predict a sine wave one step ahead, and
// compares its test error with that of the best constant predictor.
package main

import (
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"

	"github.com/backpropgen/backpropgen/generated/rnn"
	"github.com/backpropgen/backpropgen/train"
)

const step = 0.3 // radians between samples

// sequence is a window of 25 samples of a sine wave at a random phase:
// the input is the wave at t, the target at t+1.
func sequence(r *rand.Rand) rnn.RnnInputs {
	var in rnn.RnnInputs
	phase := 2 * math.Pi * r.Float64()
	for t := range in.Xs {
		in.Xs[t][0] = math.Sin(phase + step*float64(t))
		in.Xs[t][1] = 1 // a constant feature
		in.Ys[t] = math.Sin(phase + step*float64(t+1))
	}
	return in
}

type result struct {
	testMSE, constMSE float64
}

func run(w io.Writer, seed int64, iters int) result {
	r := rand.New(rand.NewSource(seed))
	var p, g rnn.RnnParams
	for i := range p.Flat() {
		p.Flat()[i] = 0.2 * r.NormFloat64()
	}
	batch := make([]rnn.RnnInputs, 16)
	b := train.NewBatch[rnn.RnnParams, rnn.RnnBatchWorkspace, rnn.RnnInputs](2)
	defer b.Close()
	opt := train.NewAdam(rnn.RnnNumParams, 0.01)
	names, _, sizes := p.Layout()
	norms := make([]float64, len(sizes))
	for it := 1; it <= iters; it++ {
		for i := range batch {
			batch[i] = sequence(r)
		}
		loss := b.Grad(&p, batch, &g, train.Mean)
		train.Norms(g.Flat(), sizes, norms)
		total := train.ClipGlobalNorm(g.Flat(), 5)
		opt.Step(p.Flat(), g.Flat())
		if it%100 == 0 {
			fmt.Fprintf(w, "iteration %4d  training MSE per step %.5f  gradient norm %.3f:", it, loss/25, total)
			for k, name := range names {
				fmt.Fprintf(w, " %s %.3f", name, norms[k])
			}
			fmt.Fprintln(w)
		}
	}
	// Test on fresh sequences; the best constant predictor of a sine wave
	// over whole periods is 0, but use the test targets' own mean to be fair.
	var ws rnn.RnnWorkspace
	var res result
	var ys []float64
	for range 200 {
		in := sequence(r)
		res.testMSE += p.Forward(&ws, &in, nil) / 25
		ys = append(ys, in.Ys[:]...)
	}
	res.testMSE /= 200
	var mean float64
	for _, y := range ys {
		mean += y / float64(len(ys))
	}
	for _, y := range ys {
		res.constMSE += (y - mean) * (y - mean) / float64(len(ys))
	}
	fmt.Fprintf(w, "test MSE %.5f; best constant predictor %.5f (%.0f× worse)\n", res.testMSE, res.constMSE, res.constMSE/res.testMSE)
	return res
}

func main() {
	res := run(os.Stdout, 1, 1000)
	if res.testMSE > res.constMSE/10 {
		os.Exit(1)
	}
}
