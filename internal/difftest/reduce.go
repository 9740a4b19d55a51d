package difftest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/backpropgen/backpropgen/internal/randmodel"
)

// Minimize shrinks the generated file f, whose case failed with result
// res, to a small file that fails with the same signature, trying batch
// candidates per build until deadline.
func Minimize(ctx context.Context, f *randmodel.File, res *Result, batch int, deadline time.Time) (*randmodel.File, *Result) {
	sig := res.Signature()
	compileOnly := res.Class() == NoCompile && !strings.Contains(res.Failures[0].Msg, "go build:")
	best := res
	round := 0
	fails := func(cands []*randmodel.File) int {
		round++
		var cases []*Case
		for i, c := range cands {
			cases = append(cases, &Case{Name: fmt.Sprintf("%s_r%d_%d", res.Case.Name, round, i), Src: randmodel.Print(c), Seed: res.Case.Seed})
		}
		results, err := Run(ctx, cases, Options{CompileOnly: compileOnly})
		if err != nil {
			return -1
		}
		for i, r := range results {
			if r.Signature() == sig {
				best = r
				return i
			}
		}
		return -1
	}
	min := randmodel.Reduce(f, batch, deadline, fails)
	return min, best
}
