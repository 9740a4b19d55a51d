// Command forecast trains the LSTM of forecast.bp on the yearly sunspot
// numbers 1700–1928, keeping the parameters of the epoch that forecasts
// 1929–1958 best (early stopping), and forecasts each year of 1959–2008 one
// year ahead, from the 24 years before it. It compares the test RMSE with two
// baselines: persistence (next year = this year) and seasonal naive (next
// year = the year one solar cycle, 11 years, before it).
//
// The model reads and predicts the standardized series z = (s − μ)/σ, μ and
// σ being the mean and standard deviation of the training years; its output
// at each step is a change added to the last value it read (forecast.bp),
// so that an output of 0 is the persistence forecast.
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/backpropgen/backpropgen/train"
)

//go:embed sunspots.csv
var sunspotsCSV string

const (
	firstYear = 1700
	testYears = 50 // held out: 1959–2008
	valYears  = 30 // before them, for early stopping: 1929–1958
	season    = 11 // years in a solar cycle, for the seasonal-naive baseline
	window    = 24 // forecast.bp's T
)

// series parses sunspots.csv: a header, then YEAR,SUNACTIVITY per line.
func series() ([]float64, error) {
	lines := strings.Split(strings.TrimSpace(sunspotsCSV), "\n")
	out := make([]float64, 0, len(lines))
	for i, line := range lines[1:] {
		year, value, ok := strings.Cut(strings.TrimSpace(line), ",")
		if !ok {
			return nil, fmt.Errorf("sunspots.csv:%d: no comma", i+2)
		}
		y, err := strconv.Atoi(year)
		if err != nil || y != firstYear+i {
			return nil, fmt.Errorf("sunspots.csv:%d: year %q, want %d", i+2, year, firstYear+i)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("sunspots.csv:%d: %v", i+2, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// sample is the window of z that ends just before step j: the inputs are
// z[j-T..j-1], the targets z[j-T+1..j], so the last forecast is of z[j].
func sample(z []float64, j int) ForecastInputs {
	var in ForecastInputs
	for t := range window {
		in.Xs[t][0] = z[j-window+t]
		in.Ys[t] = z[j-window+t+1]
	}
	return in
}

type config struct {
	seed   uint64
	epochs int
	batch  int
	lr     float64
}

type result struct {
	model, persistence, seasonal float64 // test RMSE, in sunspot numbers
	perEpoch                     time.Duration
}

func meanStd(x []float64) (mean, std float64) {
	for _, v := range x {
		mean += v / float64(len(x))
	}
	for _, v := range x {
		std += (v - mean) * (v - mean) / float64(len(x))
	}
	return mean, math.Sqrt(std)
}

// rmse is the root mean squared difference of pred and the series s over
// the years from..to-1 (indices into s).
func rmse(s []float64, from, to int, pred func(j int) float64) float64 {
	var sum float64
	for j := from; j < to; j++ {
		d := pred(j) - s[j]
		sum += d * d
	}
	return math.Sqrt(sum / float64(to-from))
}

func run(w io.Writer, cfg config) (result, error) {
	s, err := series()
	if err != nil {
		return result{}, err
	}
	nTest := len(s) - testYears // the first test year's index
	nVal := nTest - valYears    // the first validation year's
	mu, sigma := meanStd(s[:nVal])
	z := make([]float64, len(s))
	for i, v := range s {
		z[i] = (v - mu) / sigma
	}
	// A training window ends at the last training year at the latest; the
	// window of a validation or test year ends at the year it forecasts.
	var trainSet []ForecastInputs
	for j := window; j < nVal; j++ {
		trainSet = append(trainSet, sample(z, j))
	}
	year := func(j int) int { return firstYear + j }
	fmt.Fprintf(w, "sunspots: %d training windows of %d years (%d–%d), validation %d–%d, test %d–%d\n",
		len(trainSet), window, year(0), year(nVal-1), year(nVal), year(nTest-1), year(nTest), year(len(s)-1))

	var p, g, best ForecastParams
	p.Init(cfg.seed)
	r := rand.New(rand.NewPCG(cfg.seed, 1))
	b := train.NewBatch[ForecastParams, ForecastBatchWorkspace, ForecastInputs](runtime.NumCPU())
	defer b.Close()
	opt := train.NewAdam(ForecastNumParams, cfg.lr)

	var ws ForecastWorkspace
	var out ForecastOutputs
	forecast := func(p *ForecastParams) func(j int) float64 {
		return func(j int) float64 {
			in := sample(z, j)
			p.Predict(&ws, &in, &out)
			return out.Yhat*sigma + mu
		}
	}
	var res result
	var spent time.Duration
	bestVal, bestEpoch := math.Inf(1), 0
	for epoch := 1; epoch <= cfg.epochs; epoch++ {
		start := time.Now()
		r.Shuffle(len(trainSet), func(i, j int) { trainSet[i], trainSet[j] = trainSet[j], trainSet[i] })
		var loss float64
		for i := 0; i < len(trainSet); i += cfg.batch {
			batch := trainSet[i:min(i+cfg.batch, len(trainSet))]
			loss += b.Grad(&p, batch, &g, train.Mean) * float64(len(batch))
			train.ClipGlobalNorm(g.Flat(), 1)
			opt.Step(p.Flat(), g.Flat())
		}
		took := time.Since(start)
		spent += took
		val := rmse(s, nVal, nTest, forecast(&p))
		mark := ""
		if val < bestVal {
			bestVal, bestEpoch, best = val, epoch, p
			mark = " *"
		}
		fmt.Fprintf(w, "epoch %3d  train RMSE %5.2f  validation RMSE %5.2f  %v%s\n",
			epoch, math.Sqrt(loss/float64(len(trainSet)))*sigma, val, took.Round(10*time.Microsecond), mark)
	}
	res.perEpoch = spent / time.Duration(cfg.epochs)
	res.model = rmse(s, nTest, len(s), forecast(&best))
	res.persistence = rmse(s, nTest, len(s), func(j int) float64 { return s[j-1] })
	res.seasonal = rmse(s, nTest, len(s), func(j int) float64 { return s[j-season] })
	fmt.Fprintf(w, "test RMSE, %d–%d, one year ahead (the LSTM of epoch %d, best on validation):\n", year(nTest), year(len(s)-1), bestEpoch)
	fmt.Fprintf(w, "  LSTM                               %6.2f\n", res.model)
	fmt.Fprintf(w, "  persistence (next = last)          %6.2f  LSTM/persistence %.2f\n", res.persistence, res.model/res.persistence)
	fmt.Fprintf(w, "  seasonal naive (next = 11 yr ago)  %6.2f  LSTM/seasonal    %.2f\n", res.seasonal, res.model/res.seasonal)
	fmt.Fprintf(w, "%v per epoch of training (%d windows)\n", res.perEpoch.Round(10*time.Microsecond), len(trainSet))
	return res, nil
}

func main() {
	var cfg config
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed of the initial parameters and the shuffles")
	flag.IntVar(&cfg.epochs, "epochs", 100, "passes over the training windows")
	flag.IntVar(&cfg.batch, "batch", 32, "windows per mini-batch")
	flag.Float64Var(&cfg.lr, "lr", 0.005, "Adam's learning rate")
	flag.Parse()
	res, err := run(os.Stdout, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "forecast:", err)
		os.Exit(1)
	}
	if res.model >= min(res.persistence, res.seasonal) {
		fmt.Fprintln(os.Stderr, "forecast: the LSTM does not beat both baselines")
		os.Exit(1)
	}
}
