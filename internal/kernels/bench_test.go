package kernels

import (
	"flag"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var (
	paired     = flag.Int("paired", 0, "rounds of TestPaired")
	pairedOnly = flag.String("paired.only", "", "TestPaired: only the products (or mnist, rnn) whose names match this regexp")
	pairedImpl = flag.String("paired.impl", "", "TestPaired: only the implementations whose names match this regexp (the first is the reference)")
)

// benchExtra are more implementations for TestPaired only (such as a copy
// of an older version of the kernels, renamed, to compare in one process).
var benchExtra []impl

// product is one kernel call to time.
type product struct {
	name    string
	kernel  int // 0 NT, 1 NN, 2 TN
	m, n, k int
	add     bool
}

// products are the shapes that matter. The generated mini-batch code
// keeps a tile's samples last (each value is [features, B]), so mnist
// (784-128-10) over a tile of 32 calls GemmNN for the forward products,
// GemmTN for the second layer's input gradient and GemmNT, adding into g,
// for the weight gradients; the recurrent models (hidden 16, input 4) call
// the same per time step. The sample-first shapes of before ("old") are
// kept to watch that they do not slow down.
var products = []product{
	{"mnistNN", 1, 128, 32, 784, false}, {"mnistNN2", 1, 10, 32, 128, false}, {"mnistTN", 2, 128, 32, 10, false},
	{"mnistNT", 0, 128, 784, 32, true}, {"mnistNT2", 0, 10, 128, 32, true},
	{"rnnNN", 1, 16, 32, 16, false}, {"rnnNNx", 1, 16, 32, 4, false}, {"rnnTN", 2, 16, 32, 16, false},
	{"rnnNT", 0, 16, 16, 32, true}, {"rnnNTx", 0, 16, 4, 32, true},
	{"rnnNN8", 1, 16, 8, 16, false}, {"rnnNT8", 0, 16, 16, 8, true},
	{"oldNT", 0, 32, 128, 784, false}, {"oldNT2", 0, 32, 10, 128, false}, {"oldNN", 1, 32, 128, 10, false},
	{"oldTN", 2, 128, 784, 32, false}, {"oldTN2", 2, 10, 128, 32, false},
	{"oldNT8", 0, 8, 16, 16, false}, {"oldNT32", 0, 32, 16, 16, false}, {"oldNN32", 1, 32, 16, 16, false},
	{"oldTN32", 2, 16, 16, 32, false},
}

// mnist is a tile's forward and backward pass, sample-last: both layers'
// forward products, the second layer's input gradient and both weight
// gradients (13.1 MFLOP); rnn is one time step of the recurrent models'
// tile of 32.
var (
	mnist = products[0:5]
	rnn   = products[5:10]
)

func (x impl) kernel(i int) func(m, n, k int, a, b, c []float64, add bool) {
	return [...]func(m, n, k int, a, b, c []float64, add bool){x.nt, x.nn, x.tn}[i]
}

// bench times the products ps with x's kernels, reporting GFLOP/s.
func bench(x impl, ps []product) func(*testing.B) {
	return func(b *testing.B) {
		r := rand.New(rand.NewPCG(7, 8))
		type args struct{ a, b, c []float64 }
		as := make([]args, len(ps))
		flops := 0.0
		for i, p := range ps {
			as[i] = args{random(r, p.m*p.k), random(r, p.k*p.n), random(r, p.m*p.n)}
			flops += 2 * float64(p.m*p.n*p.k)
		}
		b.ReportAllocs()
		for b.Loop() {
			for i, p := range ps {
				x.kernel(p.kernel)(p.m, p.n, p.k, as[i].a, as[i].b, as[i].c, p.add)
			}
		}
		b.ReportMetric(flops*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
	}
}

func BenchmarkKernels(b *testing.B) {
	for _, x := range impls {
		b.Run(x.name+"/mnist", bench(x, mnist))
		b.Run(x.name+"/rnn", bench(x, rnn))
		for _, p := range products {
			b.Run(x.name+"/"+p.name, bench(x, []product{p}))
		}
	}
}

// TestPaired times every implementation on each product in interleaved
// rounds of one process (who goes first rotates), and logs the median
// GFLOP/s and the median of the per-round ratios to the portable code.
func TestPaired(t *testing.T) {
	if *paired == 0 {
		t.Skip("run with -paired N")
	}
	sets := [][]product{mnist, rnn}
	names := []string{"mnist", "rnn"}
	for _, p := range products {
		sets = append(sets, []product{p})
		names = append(names, p.name)
	}
	var xs []impl
	for _, x := range append(impls[:len(impls):len(impls)], benchExtra...) {
		if regexp.MustCompile(*pairedImpl).MatchString(x.name) {
			xs = append(xs, x)
		}
	}
	impls := xs
	t.Logf("load average %s", loadavg())
	for s, ps := range sets {
		name := names[s]
		if !regexp.MustCompile(*pairedOnly).MatchString(name) {
			continue
		}
		gf := make([][]float64, len(impls))
		for r := range *paired {
			for i := range impls {
				x := (i + r) % len(impls)
				res := testing.Benchmark(bench(impls[x], ps))
				gf[x] = append(gf[x], res.Extra["GFLOP/s"])
			}
		}
		line := name + ":"
		for x := range impls {
			ratios := make([]float64, *paired)
			for r := range ratios {
				ratios[r] = gf[x][r] / gf[0][r]
			}
			line += " " + impls[x].name + " " + ftoa(median(gf[x])) + " GFLOP/s (×" + ftoa(median(ratios)) + ")"
		}
		t.Log(line)
	}
	t.Logf("load average %s", loadavg())
}

// loadavg returns the first three fields of /proc/loadavg, or "?".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
