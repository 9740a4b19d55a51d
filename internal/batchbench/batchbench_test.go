package batchbench

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen/generated/attention"
	"github.com/backpropgen/backpropgen/generated/axes"
	"github.com/backpropgen/backpropgen/generated/calib"
	"github.com/backpropgen/backpropgen/generated/casefold"
	"github.com/backpropgen/backpropgen/generated/classify"
	"github.com/backpropgen/backpropgen/generated/deep"
	"github.com/backpropgen/backpropgen/generated/deeprelu"
	"github.com/backpropgen/backpropgen/generated/deepres"
	"github.com/backpropgen/backpropgen/generated/embed"
	"github.com/backpropgen/backpropgen/generated/gru"
	"github.com/backpropgen/backpropgen/generated/layers"
	"github.com/backpropgen/backpropgen/generated/lstm"
	"github.com/backpropgen/backpropgen/generated/mixed"
	"github.com/backpropgen/backpropgen/generated/mnist"
	"github.com/backpropgen/backpropgen/generated/nested"
	"github.com/backpropgen/backpropgen/generated/policy"
	"github.com/backpropgen/backpropgen/generated/residual"
	"github.com/backpropgen/backpropgen/generated/rnn"
	"github.com/backpropgen/backpropgen/generated/swap"
	"github.com/backpropgen/backpropgen/generated/xor"
	"github.com/backpropgen/backpropgen/internal/baseline"
)

var (
	rounds  = flag.Int("paired", 0, "rounds for TestPairedBatch (0 skips it)")
	only    = flag.String("models", "", "comma-separated models to measure (empty: all)")
	batches = flag.String("batches", "8,32,256", "comma-separated batch sizes")
)

// params is the method set of a generated model's parameters that the
// measurement needs.
type params[P, W, BW, I any] interface {
	*P
	Init(seed uint64)
	Flat() []float64
	LossGrad(ws *W, in *I, g *P) float64
	LossGradBatch(ws *BW, in []I, g *P) float64
}

type inputs[I any] interface {
	*I
	Flat() []float64
	Ints() []int
}

// bench is one model's pair of benchmarks for a batch of n samples:
// LossGradBatch on the whole batch, and LossGrad on each sample; and
// diff, the largest difference between their gradients relative to the
// largest entry (or 1), and between their losses.
type bench func(n int) (batch, loop func(*testing.B), diff func() float64)

// of returns the benchmarks of a model: parameters Init(1) moved by
// ±0.1, samples with float inputs in ±1 and integer inputs within what
// Validate accepts, as gradcheck draws them.
func of[P, W, BW, I any, PP params[P, W, BW, I], IP inputs[I]]() bench {
	return func(n int) (batch, loop func(*testing.B), diff func() float64) {
		r := rand.New(rand.NewPCG(1, 2))
		p := PP(new(P))
		p.Init(1)
		for i, x := range p.Flat() {
			p.Flat()[i] = x + 0.1*(2*r.Float64()-1)
		}
		in := make([]I, n)
		for s := range in {
			ip := IP(&in[s])
			for i := range ip.Flat() {
				ip.Flat()[i] = 2*r.Float64() - 1
			}
			for k := range ip.Ints() {
				ip.Ints()[k] = r.IntN(intBound(ip, k))
			}
		}
		batch = func(b *testing.B) {
			ws, g := new(BW), PP(new(P))
			b.ReportAllocs()
			for b.Loop() {
				p.LossGradBatch(ws, in, g)
			}
		}
		loop = func(b *testing.B) {
			ws, g := new(W), PP(new(P))
			b.ReportAllocs()
			for b.Loop() {
				for i := range in {
					p.LossGrad(ws, &in[i], g)
				}
			}
		}
		diff = func() float64 {
			gb, gl := PP(new(P)), PP(new(P))
			lb := p.LossGradBatch(new(BW), in, gb)
			var ll float64
			ws := new(W)
			for i := range in {
				ll += p.LossGrad(ws, &in[i], gl)
			}
			scale := 1.0
			for _, x := range gl.Flat() {
				scale = max(scale, math.Abs(x))
			}
			d := math.Abs(lb-ll) / max(1, math.Abs(ll))
			for i, x := range gb.Flat() {
				d = max(d, math.Abs(x-gl.Flat()[i])/scale)
			}
			return d
		}
		return batch, loop, diff
	}
}

// intBound is the number of values integer input k accepts (Validate: 0
// to the bound less one), at most 1<<20.
func intBound[I any, IP inputs[I]](in IP, k int) int {
	v, ok := any(in).(interface{ Validate() error })
	if !ok {
		return 1
	}
	defer func() { in.Ints()[k] = 0 }()
	n := 1
	for n < 1<<20 {
		in.Ints()[k] = n
		if v.Validate() != nil {
			break
		}
		n++
	}
	return n
}

// models lists every shipped model with batch methods.
var models = []struct {
	name  string
	bench bench
}{
	{"attention", of[attention.AttentionParams, attention.AttentionWorkspace, attention.AttentionBatchWorkspace, attention.AttentionInputs]()},
	{"axes", of[axes.AxesParams, axes.AxesWorkspace, axes.AxesBatchWorkspace, axes.AxesInputs]()},
	{"calib", of[calib.CalibParams, calib.CalibWorkspace, calib.CalibBatchWorkspace, calib.CalibInputs]()},
	{"casefold", of[casefold.CasefoldParams, casefold.CasefoldWorkspace, casefold.CasefoldBatchWorkspace, casefold.CasefoldInputs]()},
	{"classify", of[classify.ClassifyParams, classify.ClassifyWorkspace, classify.ClassifyBatchWorkspace, classify.ClassifyInputs]()},
	{"deep", of[deep.DeepParams, deep.DeepWorkspace, deep.DeepBatchWorkspace, deep.DeepInputs]()},
	{"deeprelu", of[deeprelu.DeepreluParams, deeprelu.DeepreluWorkspace, deeprelu.DeepreluBatchWorkspace, deeprelu.DeepreluInputs]()},
	{"deepres", of[deepres.DeepresParams, deepres.DeepresWorkspace, deepres.DeepresBatchWorkspace, deepres.DeepresInputs]()},
	{"embed", of[embed.EmbedParams, embed.EmbedWorkspace, embed.EmbedBatchWorkspace, embed.EmbedInputs]()},
	{"gru", of[gru.GruParams, gru.GruWorkspace, gru.GruBatchWorkspace, gru.GruInputs]()},
	{"layers", of[layers.LayersParams, layers.LayersWorkspace, layers.LayersBatchWorkspace, layers.LayersInputs]()},
	{"lstm", of[lstm.LstmParams, lstm.LstmWorkspace, lstm.LstmBatchWorkspace, lstm.LstmInputs]()},
	{"mixed", of[mixed.MixedParams, mixed.MixedWorkspace, mixed.MixedBatchWorkspace, mixed.MixedInputs]()},
	{"mnist", of[mnist.MnistParams, mnist.MnistWorkspace, mnist.MnistBatchWorkspace, mnist.MnistInputs]()},
	{"nested", of[nested.NestedParams, nested.NestedWorkspace, nested.NestedBatchWorkspace, nested.NestedInputs]()},
	{"policy", of[policy.PolicyParams, policy.PolicyWorkspace, policy.PolicyBatchWorkspace, policy.PolicyInputs]()},
	{"residual", of[residual.ResidualParams, residual.ResidualWorkspace, residual.ResidualBatchWorkspace, residual.ResidualInputs]()},
	{"rnn", of[rnn.RnnParams, rnn.RnnWorkspace, rnn.RnnBatchWorkspace, rnn.RnnInputs]()},
	{"swap", of[swap.SwapParams, swap.SwapWorkspace, swap.SwapBatchWorkspace, swap.SwapInputs]()},
	{"xor", of[xor.XorParams, xor.XorWorkspace, xor.XorBatchWorkspace, xor.XorInputs]()},
}

// selected calls f for each model -models names (all if empty) and each
// batch size of -batches.
func selected(t testing.TB, f func(name string, n int, b bench)) {
	want := map[string]bool{}
	for _, m := range strings.Split(*only, ",") {
		if m != "" {
			want[m] = true
		}
	}
	var sizes []int
	for _, s := range strings.Split(*batches, ",") {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n < 1 {
			t.Fatalf("-batches: bad size %q", s)
		}
		sizes = append(sizes, n)
	}
	found := 0
	for _, m := range models {
		if len(want) > 0 && !want[m.name] {
			continue
		}
		found++
		for _, n := range sizes {
			f(m.name, n, m.bench)
		}
	}
	if found < len(want) {
		t.Fatalf("-models %q: some are not shipped models with batch methods", *only)
	}
}

// TestPairedBatch times LossGradBatch against the LossGrad loop in
// alternating rounds (-paired N), per model and batch size; the ratios
// are batch / loop.
func TestPairedBatch(t *testing.T) {
	if *rounds == 0 {
		t.Skip("run with -paired N")
	}
	selected(t, func(name string, n int, b bench) {
		batch, loop, _ := b(n)
		baseline.PairedAs(t, fmt.Sprintf("%s batch=%d", name, n), *rounds, "LossGradBatch", "LossGrad loop", batch, loop)
	})
}

// BenchmarkBatchMethods is LossGradBatch and the LossGrad loop per model
// and batch size, for callgrind (-models, -batches).
func BenchmarkBatchMethods(b *testing.B) {
	selected(b, func(name string, n int, bb bench) {
		batch, loop, _ := bb(n)
		b.Run(fmt.Sprintf("%s/batch=%d/batch", name, n), batch)
		b.Run(fmt.Sprintf("%s/batch=%d/loop", name, n), loop)
	})
}

// TestBenchmarksAgree checks that the two sides of each benchmark do the
// same work: on a tile and one more sample, LossGradBatch's loss and
// gradient are the loop's within 1e-12 (relative to the largest entry).
func TestBenchmarksAgree(t *testing.T) {
	for _, m := range models {
		_, _, diff := m.bench(33)
		if d := diff(); !(d <= 1e-12) {
			t.Errorf("%s: LossGradBatch differs from the LossGrad loop by %.3g", m.name, d)
		}
	}
}
