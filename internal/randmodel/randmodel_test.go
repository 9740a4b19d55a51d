package randmodel_test

import (
	"testing"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/internal/randmodel"
)

// Every generated model must be valid.
func TestGeneratedModelsAreValid(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	bad := 0
	for seed := range int64(n) {
		src := randmodel.Print(randmodel.Generate(seed))
		if _, _, err := backpropgen.Check("r.bp", src); err != nil {
			bad++
			if bad <= 5 {
				t.Errorf("seed %d: %v\n%s", seed, err, src)
			}
		}
	}
	t.Logf("%d of %d rejected", bad, n)
}
