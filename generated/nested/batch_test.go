package nested

import (
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// TestBatch checks LossGradBatch and ForwardBatch against LossGrad and
// Forward sample by sample, over whole and partial tiles
// (gradcheck.CheckBatch), with the tile code and with the per-sample code
// (nestedTiled both ways, whichever the batch methods use here).
func TestBatch(t *testing.T) {
	p, _ := sample(1)
	defer func(tiled bool) { nestedTiled = tiled }(nestedTiled)
	nestedTiled = true
	t.Run("tiles", func(t *testing.T) {
		gradcheck.CheckBatch[NestedParams, NestedWorkspace, NestedBatchWorkspace, NestedInputs, NestedOutputs](t, p, func(i int) *NestedInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
	nestedTiled = false
	t.Run("per-sample", func(t *testing.T) {
		gradcheck.CheckBatch[NestedParams, NestedWorkspace, NestedBatchWorkspace, NestedInputs, NestedOutputs](t, p, func(i int) *NestedInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
}
