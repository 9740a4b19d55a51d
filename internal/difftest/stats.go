package difftest

import (
	"fmt"
	"strings"
)

// Stats counts what a run did and found.
type Stats struct {
	Models, Rejected, Compiled, Compared int
	CoordsIR, CoordsFD, Kinks, NoFD      int
	NonFinite                            int
	ByClass                              map[Class]int // cases failing each class
	Failed                               int           // cases with any failure
	// The largest relative errors among comparisons that passed.
	MaxValueErr, MaxIRErr, MaxFDErr float64
}

// Summarize counts results.
func Summarize(results []*Result) Stats {
	s := Stats{ByClass: map[Class]int{}}
	for _, r := range results {
		s.Models++
		seen := map[Class]bool{}
		for _, f := range r.Failures {
			if !seen[f.Class] {
				seen[f.Class] = true
				s.ByClass[f.Class]++
			}
		}
		if seen[Rejected] {
			s.Rejected++
		}
		if r.Compiled {
			s.Compiled++
		}
		if r.Compared {
			s.Compared++
			if r.NoFD {
				s.NoFD++
			}
		}
		s.CoordsIR += r.CoordsIR
		s.CoordsFD += r.CoordsFD
		s.Kinks += r.Kinks
		s.NonFinite += r.NonFinite
		s.MaxValueErr = max(s.MaxValueErr, r.MaxValueErr)
		s.MaxIRErr = max(s.MaxIRErr, r.MaxIRErr)
		s.MaxFDErr = max(s.MaxFDErr, r.MaxFDErr)
		if len(r.Failures) > 0 && !seen[Rejected] {
			s.Failed++
		}
	}
	return s
}

func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d models: %d rejected by Check, %d compiled, %d compared (%d without central differences: stop_gradient)\n",
		s.Models, s.Rejected, s.Compiled, s.Compared, s.NoFD)
	fmt.Fprintf(&b, "gradient coordinates: %d checked against the IR, %d against central differences, %d skipped at kinks, %d where the loss is not finite\n",
		s.CoordsIR, s.CoordsFD, s.Kinks, s.NonFinite)
	fmt.Fprintf(&b, "largest passing relative errors: %.3g vs refeval (tolerance %g), %.3g vs IR (%g), %.3g vs central differences (%g)\n",
		s.MaxValueErr, ValueTol, s.MaxIRErr, IRTol, s.MaxFDErr, FDTol)
	fmt.Fprintf(&b, "%d models failed; models failing each class:\n", s.Failed)
	for _, c := range Classes {
		fmt.Fprintf(&b, "  %-30s %d\n", c, s.ByClass[c])
	}
	return b.String()
}
