// Command attention trains reverse.bp, one causal self-attention block
// (attention, a residual and layer_norm, then a feed-forward part with
// its own), to reverse sequences of six digits, and reports the share of
// held-out sequences it reverses exactly, decoding greedily: each output
// digit is fed back as the next position's token.
package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"time"

	"github.com/backpropgen/backpropgen/train"
)

const (
	seqLen    = 6  // L in reverse.bp
	positions = 12 // N
	separator = 10
)

type config struct {
	seed  uint64
	steps int     // mini-batches
	batch int     // sequences per mini-batch
	lr    float64 // Adam's
	test  int     // held-out sequences
	every int     // steps between progress lines
}

type result struct {
	exact    float64 // share of held-out sequences reversed exactly
	digits   float64 // share of held-out digits right
	loss     float64 // mean loss of the last progress interval
	duration time.Duration
}

// encode writes the training sample of digits: the digits, the separator
// and the reversed digits but the last, as tokens, with the reversed
// digits as the next tokens from position L on.
func encode(digits []int, in *ReverseInputs) {
	*in = ReverseInputs{}
	for t, d := range digits {
		in.Tokens[t] = d
		r := digits[seqLen-1-t] // output t
		in.Next[seqLen+t] = r
		if t < seqLen-1 {
			in.Tokens[seqLen+1+t] = r
		}
	}
	in.Tokens[seqLen] = separator
}

// key packs a sequence of digits into one number.
func key(digits []int) int {
	k := 0
	for _, d := range digits {
		k = 10*k + d
	}
	return k
}

// reverse decodes greedily: the digits and the separator, then at each
// step the most likely digit at the last filled position, written into
// the next one. The positions not yet filled hold token 0: the mask
// keeps them from the positions before them.
func reverse(p *ReverseParams, ws *ReverseWorkspace, digits []int, out []int) {
	var in ReverseInputs
	var o ReverseOutputs
	copy(in.Tokens[:], digits)
	in.Tokens[seqLen] = separator
	for t := range seqLen {
		p.Predict(ws, &in, &o)
		row := o.Z[seqLen+t]
		best := 0
		for d := range row {
			if row[d] > row[best] {
				best = d
			}
		}
		out[t] = best
		if t < seqLen-1 {
			in.Tokens[seqLen+1+t] = best
		}
	}
}

func randomDigits(r *rand.Rand, d []int) {
	for i := range d {
		d[i] = r.IntN(10)
	}
}

// evaluate is the share of the test sequences reversed exactly, and of
// their digits.
func evaluate(p *ReverseParams, test [][]int) (exact, digits float64) {
	var ws ReverseWorkspace
	out := make([]int, seqLen)
	nExact, nDigits := 0, 0
	for _, s := range test {
		reverse(p, &ws, s, out)
		ok := true
		for t := range seqLen {
			if out[t] == s[seqLen-1-t] {
				nDigits++
			} else {
				ok = false
			}
		}
		if ok {
			nExact++
		}
	}
	return float64(nExact) / float64(len(test)), float64(nDigits) / float64(len(test)*seqLen)
}

func run(w io.Writer, cfg config) result {
	r := rand.New(rand.NewPCG(cfg.seed, 2))
	// The held-out sequences, which training never draws.
	held := map[int]bool{}
	test := make([][]int, cfg.test)
	for i := range test {
		test[i] = make([]int, seqLen)
		randomDigits(r, test[i])
		held[key(test[i])] = true
	}
	var p, g ReverseParams
	p.Init(cfg.seed)
	// Init leaves vectors at zero: the scales of layer_norm start at 1.
	for i := range p.Gamma1 {
		p.Gamma1[i], p.Gamma2[i] = 1, 1
	}
	b := train.NewBatch[ReverseParams, ReverseBatchWorkspace, ReverseInputs](runtime.NumCPU())
	defer b.Close()
	opt := train.NewAdam(ReverseNumParams, cfg.lr)
	batch := make([]ReverseInputs, cfg.batch)
	digits := make([]int, seqLen)
	fmt.Fprintf(w, "reversing %d digits: %d steps of %d fresh sequences, %d held out\n", seqLen, cfg.steps, cfg.batch, cfg.test)
	start := time.Now()
	var res result
	var sum float64
	for step := 1; step <= cfg.steps; step++ {
		for i := range batch {
			for {
				randomDigits(r, digits)
				if !held[key(digits)] {
					break
				}
			}
			encode(digits, &batch[i])
		}
		sum += b.Grad(&p, batch, &g, train.Mean)
		train.ClipGlobalNorm(g.Flat(), 1)
		opt.Step(p.Flat(), g.Flat())
		if step%cfg.every == 0 || step == cfg.steps {
			n := step % cfg.every
			if n == 0 {
				n = cfg.every
			}
			res.loss = sum / float64(n)
			sum = 0
			res.exact, res.digits = evaluate(&p, test)
			fmt.Fprintf(w, "step %5d  loss %.4f  held-out: %5.1f%% sequences exact, %5.1f%% digits  %v\n",
				step, res.loss, 100*res.exact, 100*res.digits, time.Since(start).Round(time.Millisecond))
		}
	}
	res.duration = time.Since(start)
	var ws ReverseWorkspace
	out := make([]int, seqLen)
	reverse(&p, &ws, test[0], out)
	fmt.Fprintf(w, "%v reversed: %v\n", test[0], out)
	return res
}

func main() {
	var cfg config
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed of the initial parameters and the sequences")
	flag.IntVar(&cfg.steps, "steps", 300, "mini-batches of training")
	flag.IntVar(&cfg.batch, "batch", 64, "sequences per mini-batch")
	flag.Float64Var(&cfg.lr, "lr", 0.003, "Adam's learning rate")
	flag.IntVar(&cfg.test, "test", 1000, "held-out sequences")
	flag.IntVar(&cfg.every, "every", 50, "steps between progress lines")
	flag.Parse()
	res := run(os.Stdout, cfg)
	if res.exact < 0.95 {
		fmt.Fprintf(os.Stderr, "attention: %.1f%% of the held-out sequences reversed exactly, below 95%%\n", 100*res.exact)
		os.Exit(1)
	}
}
