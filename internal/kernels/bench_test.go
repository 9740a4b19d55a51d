package kernels

import (
	"flag"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

var paired = flag.Int("paired", 0, "rounds of TestPaired")

// product is one kernel call to time.
type product struct {
	name    string
	kernel  int // 0 NT, 1 NN, 2 TN
	m, n, k int
}

// products are the shapes that matter: mnist (784-128-10) over a tile of
// 32, and the recurrent models' tiles.
var products = []product{
	{"mnistNT", 0, 32, 128, 784}, {"mnistNT2", 0, 32, 10, 128}, {"mnistNN", 1, 32, 128, 10},
	{"mnistTN", 2, 128, 784, 32}, {"mnistTN2", 2, 10, 128, 32},
	{"rnnNT8", 0, 8, 16, 16}, {"rnnNT32", 0, 32, 16, 16}, {"rnnNT32k4", 0, 32, 16, 4},
	{"rnnNN32", 1, 32, 16, 16}, {"rnnTN32", 2, 16, 16, 32}, {"rnnTN8", 2, 16, 16, 8},
}

// mnist is the tile's forward and backward pass: both layers' forward
// products, the second layer's input gradient and both weight gradients.
var mnist = []product{products[0], products[1], products[2], products[3], products[4]}

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
				x.kernel(p.kernel)(p.m, p.n, p.k, as[i].a, as[i].b, as[i].c, false)
			}
		}
		b.ReportMetric(flops*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
	}
}

func BenchmarkKernels(b *testing.B) {
	for _, x := range impls {
		b.Run(x.name+"/mnist", bench(x, mnist))
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
	sets := [][]product{mnist}
	for _, p := range products {
		sets = append(sets, []product{p})
	}
	for _, ps := range sets {
		name := "mnist"
		if len(ps) == 1 {
			name = ps[0].name
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
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
