package backpropgen_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/backpropgen/backpropgen/internal/difftest"
	"github.com/backpropgen/backpropgen/internal/randmodel"
	"github.com/backpropgen/backpropgen/parser"
)

var (
	difftestN      = flag.Int("difftest.n", 80, "random models for TestDifferential (CI runs 2000)")
	difftestSeed   = flag.Int64("difftest.seed", 1, "seed of the first random model (model i has seed+i); 0 picks one from the clock")
	difftestReduce = flag.Int("difftest.reduce", 3, "failing models to minimize (one per class first, then per signature) and save in testdata/difftest")
	difftestTime   = flag.Duration("difftest.reducetime", 45*time.Second, "time allowed for minimizing each failing model")
)

// TestDifferential generates random models and fns (internal/randmodel),
// compiles them all into one program and checks every number the
// generated code computes against references that share no code with
// codegen (internal/difftest). Each failing model (up to -difftest.reduce
// of them, one per way of failing) is minimized and saved in
// testdata/difftest, whose models this test always runs too.
//
// By default it checks the 80 models of seeds 1 to 80, which use every
// construct of the language (internal/randmodel's TestCoverage checks
// that they do), in a few seconds; CI checks 2,000 from a fresh seed.
func TestDifferential(t *testing.T) {
	t.Parallel() // mostly waiting for go build: other tests use the time
	n, seed := *difftestN, *difftestSeed
	if seed == 0 {
		seed = time.Now().UnixNano() % 1e12
	}
	fmt.Printf("TestDifferential: %d models from seed %d (rerun with -difftest.seed=%d -difftest.n=%d)\n", n, seed, seed, n)
	t.Logf("seed %d", seed)
	start := time.Now()

	var cases []*difftest.Case
	files := map[*difftest.Case]*randmodel.File{}
	for i := range int64(n) {
		f := randmodel.Generate(seed + i)
		c := &difftest.Case{Name: fmt.Sprintf("r%d", seed+i), Src: randmodel.Print(f), Seed: seed + i}
		cases = append(cases, c)
		files[c] = f
	}
	regressions, _ := filepath.Glob("testdata/difftest/*.bp")
	for _, path := range regressions {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(path), ".bp")
		cases = append(cases, &difftest.Case{Name: name, Src: src, Seed: valuesSeed(src)})
	}

	ctx := context.Background()
	results, err := difftest.Run(ctx, cases, difftest.Options{Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	stats := difftest.Summarize(results)
	t.Logf("%v in %v", stats, time.Since(start).Round(time.Millisecond))
	fmt.Printf("TestDifferential: %v", stats)
	fmt.Printf("TestDifferential: checked in %v\n", time.Since(start).Round(time.Millisecond))

	var failed []*difftest.Result
	for _, r := range results {
		if len(r.Failures) == 0 {
			continue
		}
		if files[r.Case] == nil {
			t.Errorf("regression case %s fails: %s: %s", r.Case.Name, r.Class(), clipMsg(r.Failures[0].Msg))
			continue
		}
		t.Errorf("model seed %d fails: %s: %s", r.Case.Seed, r.Class(), clipMsg(r.Failures[0].Msg))
		failed = append(failed, r)
	}
	// Minimize the first failure of each class, then of each further
	// signature, up to -difftest.reduce models.
	var order []*difftest.Result
	classes, sigs := map[difftest.Class]bool{}, map[string]bool{}
	for _, r := range failed {
		if !classes[r.Class()] {
			classes[r.Class()], sigs[r.Signature()] = true, true
			order = append(order, r)
		}
	}
	for _, r := range failed {
		if !sigs[r.Signature()] {
			sigs[r.Signature()] = true
			order = append(order, r)
		}
	}
	for _, r := range order[:min(len(order), *difftestReduce)] {
		minimize(t, ctx, files[r.Case], r)
	}
}

// minimize shrinks a failing generated model and saves it as a regression
// case.
func minimize(t *testing.T, ctx context.Context, f *randmodel.File, r *difftest.Result) {
	rstart := time.Now()
	min, mr := difftest.Minimize(ctx, f, r, 16, time.Now().Add(*difftestTime))
	text := randmodel.Print(min)
	header := fmt.Sprintf("// difftest: %s\n// %s\n// found by go test -run TestDifferential -difftest.seed=%d -difftest.n=1\n// values seed %d\n",
		mr.Class(), strings.ReplaceAll(clipMsg(mr.Failures[0].Msg), "\n", " "), r.Case.Seed, r.Case.Seed)
	path := filepath.Join("testdata", "difftest", fmt.Sprintf("%s_%d.bp", slug(mr.Class()), r.Case.Seed))
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	saved := append([]byte(header), text...)
	if formatted, err := parser.Format(path, saved); err == nil { // as backpropgen fmt would, for CI's check
		saved = formatted
	}
	if err := os.WriteFile(path, saved, 0o666); err != nil {
		t.Fatal(err)
	}
	t.Errorf("minimized in %v to %s:\n%s\nfrom:\n%s", time.Since(rstart).Round(time.Second), path, text, r.Case.Src)
}

var reValuesSeed = regexp.MustCompile(`(?m)^// values seed (-?\d+)$`)

// valuesSeed reads a saved case's "// values seed N" line (1 if none).
func valuesSeed(src []byte) int64 {
	if m := reValuesSeed.FindSubmatch(src); m != nil {
		if s, err := strconv.ParseInt(string(m[1]), 10, 64); err == nil {
			return s
		}
	}
	return 1
}

func slug(c difftest.Class) string {
	return map[difftest.Class]string{
		difftest.Rejected: "rejected", difftest.NoCompile: "nocompile", difftest.Panic: "panic",
		difftest.Reference: "reference", difftest.WrongLoss: "loss", difftest.WrongOutput: "output",
		difftest.LossGrad: "lossgrad", difftest.GradIR: "gradir", difftest.GradFD: "gradfd", difftest.Batch: "batch",
	}[c]
}

func clipMsg(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
