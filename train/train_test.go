package train_test

import (
	"math"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/generated/xor"
	"github.com/backpropgen/backpropgen/train"
)

func data(n int, seed int64) []xor.XorInputs {
	r := rand.New(rand.NewSource(seed))
	out := make([]xor.XorInputs, n)
	for i := range out {
		a, b := r.Intn(2), r.Intn(2)
		out[i] = xor.XorInputs{X: [2]float64{float64(a) + 0.1*r.NormFloat64(), float64(b) + 0.1*r.NormFloat64()}, Y: float64(a ^ b)}
	}
	return out
}

func params(seed int64) *xor.XorParams {
	r := rand.New(rand.NewSource(seed))
	p := new(xor.XorParams)
	for i := range p.Flat() {
		p.Flat()[i] = r.NormFloat64()
	}
	return p
}

type batch = train.Batch[xor.XorParams, xor.XorBatchWorkspace, xor.XorInputs, *xor.XorParams, *xor.XorBatchWorkspace]

func newBatch(workers int) *batch {
	return train.NewBatch[xor.XorParams, xor.XorBatchWorkspace, xor.XorInputs](workers)
}

// Sequential and parallel batch gradients are the same to the bit, for any
// number of workers, run after run.
func TestParallelIsIdenticalToSequential(t *testing.T) {
	p, samples := params(1), data(203, 2)
	var want xor.XorParams
	seq := newBatch(1)
	wantLoss := seq.Grad(p, samples, &want, train.Sum)
	for _, workers := range []int{1, 2, 3, 5, 16} {
		b := newBatch(workers)
		for run := range 3 {
			var g xor.XorParams
			loss := b.Grad(p, samples, &g, train.Sum)
			if g != want || loss != wantLoss {
				t.Errorf("%d workers, run %d: gradient or loss differs from sequential", workers, run)
			}
		}
		b.Close()
	}
}

// The batch gradient is the sum (or mean) of per-sample gradients.
func TestBatchIsSumOfSamples(t *testing.T) {
	p, samples := params(3), data(50, 4)
	var ws xor.XorWorkspace
	var direct xor.XorParams
	var directLoss float64
	for i := range samples {
		directLoss += p.LossGrad(&ws, &samples[i], &direct)
	}
	b := newBatch(2)
	defer b.Close()
	var sum, mean xor.XorParams
	sumLoss := b.Grad(p, samples, &sum, train.Sum)
	meanLoss := b.Grad(p, samples, &mean, train.Mean)
	if math.Abs(sumLoss-directLoss) > 1e-12*directLoss || math.Abs(meanLoss-directLoss/50) > 1e-12*directLoss {
		t.Errorf("losses %v, %v; direct sum %v", sumLoss, meanLoss, directLoss)
	}
	d, s, m := direct.Flat(), sum.Flat(), mean.Flat()
	for i := range d {
		if math.Abs(s[i]-d[i]) > 1e-12*math.Max(1, math.Abs(d[i])) || math.Abs(m[i]-d[i]/50) > 1e-12*math.Max(1, math.Abs(d[i])) {
			t.Fatalf("coordinate %d: sum %v mean %v, direct %v", i, s[i], m[i], d[i])
		}
	}
	// Grad sets g rather than adding to it.
	before := sum
	b.Grad(p, samples, &sum, train.Sum)
	if sum != before {
		t.Errorf("a second Grad into the same g changed the result")
	}
}

func TestGradDoesNotAllocate(t *testing.T) {
	p, samples := params(1), data(64, 5)
	for _, workers := range []int{1, 2} {
		b := newBatch(workers)
		var g xor.XorParams
		if a := testing.AllocsPerRun(20, func() { b.Grad(p, samples, &g, train.Mean) }); a != 0 {
			t.Errorf("%d workers: Grad allocates %v times", workers, a)
		}
		b.Close()
	}
}

func TestOptimizerSteps(t *testing.T) {
	w := []float64{1, -2}
	g := []float64{0.5, -1}
	(&train.SGD{LR: 0.1}).Step(w, g)
	if w[0] != 0.95 || w[1] != -1.9 {
		t.Errorf("SGD: %v", w)
	}
	m := train.NewMomentum(2, 0.1, 0.9)
	w = []float64{0, 0}
	m.Step(w, g)
	m.Step(w, g) // v = g, then 0.9g + g
	if want := -0.1*0.5 - 0.1*(0.9*0.5+0.5); math.Abs(w[0]-want) > 1e-15 {
		t.Errorf("momentum: %v, want %v", w[0], want)
	}
	// Adam's first step is lr·g/(|g|+ε) after bias correction: about lr·sign(g).
	a := train.NewAdam(2, 0.01)
	w = []float64{0, 0}
	a.Step(w, g)
	if math.Abs(w[0]+0.01) > 1e-9 || math.Abs(w[1]-0.01) > 1e-9 {
		t.Errorf("Adam's first step: %v", w)
	}
}

// Each optimizer drives a badly scaled quadratic to its minimum.
func TestOptimizersMinimize(t *testing.T) {
	grad := func(w, g []float64) { g[0], g[1] = 2*(w[0]-3), 20*(w[1]+1) }
	for name, opt := range map[string]train.Optimizer{
		"sgd":      &train.SGD{LR: 0.04},
		"momentum": train.NewMomentum(2, 0.02, 0.9),
		"adam":     train.NewAdam(2, 0.05),
	} {
		w, g := []float64{0, 0}, []float64{0, 0}
		for range 3000 {
			grad(w, g)
			opt.Step(w, g)
		}
		if math.Abs(w[0]-3) > 1e-3 || math.Abs(w[1]+1) > 1e-3 {
			t.Errorf("%s ended at %v, want [3 -1]", name, w)
		}
	}
}

func TestNormsAndClipping(t *testing.T) {
	var g xor.XorParams
	g.W1[0][0], g.B2[0] = 3, 4
	names, fields, sizes := g.Layout()
	if len(names) != 4 || names[3] != "b2" || fields[3] != "B2" || sizes[0] != 16 {
		t.Fatalf("layout %v %v %v", names, fields, sizes)
	}
	norms := make([]float64, len(sizes))
	train.Norms(g.Flat(), sizes, norms)
	if norms[0] != 3 || norms[1] != 0 || norms[3] != 4 {
		t.Errorf("norms %v", norms)
	}
	if n := train.ClipGlobalNorm(g.Flat(), 1); n != 5 || math.Abs(train.Norm(g.Flat())-1) > 1e-15 {
		t.Errorf("clip: norm before %v, after %v", n, train.Norm(g.Flat()))
	}
	if n := train.ClipGlobalNorm(g.Flat(), 10); math.Abs(n-1) > 1e-15 || math.Abs(train.Norm(g.Flat())-1) > 1e-15 {
		t.Errorf("clipping below the bound changed g")
	}
}

// More workers than train.Lanes run as Lanes: the result stays the same to the
// bit; and a Batch of more chunks than Lanes keeps Lanes gradients.
func TestManyChunks(t *testing.T) {
	p, samples := params(5), data(32*train.Lanes*2+7, 6) // 2 chunks a lane, and a partial one
	var want xor.XorParams
	seq := newBatch(1)
	wantLoss := seq.Grad(p, samples, &want, train.Sum)
	for _, workers := range []int{2, 40} {
		b := newBatch(workers)
		var g xor.XorParams
		if loss := b.Grad(p, samples, &g, train.Sum); g != want || loss != wantLoss {
			t.Errorf("%d workers: gradient or loss differs from one worker", workers)
		}
		b.Close()
	}
	// The sum of the samples, one by one.
	var ws xor.XorWorkspace
	var direct xor.XorParams
	for i := range samples {
		p.LossGrad(&ws, &samples[i], &direct)
	}
	for i, d := range direct.Flat() {
		if math.Abs(want.Flat()[i]-d) > 1e-12*math.Max(1, math.Abs(d)) {
			t.Fatalf("coordinate %d: %v, sum of samples %v", i, want.Flat()[i], d)
		}
	}
}

// Grad after Close is a bug in the caller: it panics rather than hang.
func TestGradAfterClose(t *testing.T) {
	b := newBatch(2)
	b.Close()
	defer func() {
		if recover() == nil {
			t.Errorf("Grad after Close did not panic")
		}
	}()
	var g xor.XorParams
	b.Grad(params(1), data(100, 1), &g, train.Sum)
}
