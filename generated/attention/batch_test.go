package attention

import (
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// TestBatch checks LossGradBatch and ForwardBatch against LossGrad and
// Forward sample by sample, over whole and partial tiles
// (gradcheck.CheckBatch), with the tile code and with the per-sample code
// (attentionTiled both ways, whichever the batch methods use here).
func TestBatch(t *testing.T) {
	p, _ := sample(1)
	defer func(tiled bool) { attentionTiled = tiled }(attentionTiled)
	attentionTiled = true
	t.Run("tiles", func(t *testing.T) {
		gradcheck.CheckBatch[AttentionParams, AttentionWorkspace, AttentionBatchWorkspace, AttentionInputs, AttentionOutputs](t, p, func(i int) *AttentionInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
	attentionTiled = false
	t.Run("per-sample", func(t *testing.T) {
		gradcheck.CheckBatch[AttentionParams, AttentionWorkspace, AttentionBatchWorkspace, AttentionInputs, AttentionOutputs](t, p, func(i int) *AttentionInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
}
