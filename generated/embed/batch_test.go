package embed

import (
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// TestBatch checks LossGradBatch and ForwardBatch against LossGrad and
// Forward sample by sample, over whole and partial tiles
// (gradcheck.CheckBatch), with the tile code and with the per-sample code
// (embedTiled both ways, whichever the batch methods use here).
func TestBatch(t *testing.T) {
	p, _ := sample(1)
	defer func(tiled bool) { embedTiled = tiled }(embedTiled)
	embedTiled = true
	t.Run("tiles", func(t *testing.T) {
		gradcheck.CheckBatch[EmbedParams, EmbedWorkspace, EmbedBatchWorkspace, EmbedInputs, EmbedOutputs](t, p, func(i int) *EmbedInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
	embedTiled = false
	t.Run("per-sample", func(t *testing.T) {
		gradcheck.CheckBatch[EmbedParams, EmbedWorkspace, EmbedBatchWorkspace, EmbedInputs, EmbedOutputs](t, p, func(i int) *EmbedInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
}
