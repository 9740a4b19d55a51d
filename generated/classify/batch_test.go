package classify

import (
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// TestBatch checks LossGradBatch and ForwardBatch against LossGrad and
// Forward sample by sample, over whole and partial tiles
// (gradcheck.CheckBatch), with the tile code and with the per-sample code
// (classifyTiled both ways, whichever the batch methods use here).
func TestBatch(t *testing.T) {
	p, _ := sample(1)
	defer func(tiled bool) { classifyTiled = tiled }(classifyTiled)
	classifyTiled = true
	t.Run("tiles", func(t *testing.T) {
		gradcheck.CheckBatch[ClassifyParams, ClassifyWorkspace, ClassifyBatchWorkspace, ClassifyInputs, ClassifyOutputs](t, p, func(i int) *ClassifyInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
	classifyTiled = false
	t.Run("per-sample", func(t *testing.T) {
		gradcheck.CheckBatch[ClassifyParams, ClassifyWorkspace, ClassifyBatchWorkspace, ClassifyInputs, ClassifyOutputs](t, p, func(i int) *ClassifyInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
}
