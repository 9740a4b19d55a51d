package casefold

import (
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// TestBatch checks LossGradBatch and ForwardBatch against LossGrad and
// Forward sample by sample, over whole and partial tiles
// (gradcheck.CheckBatch), with the tile code and with the per-sample code
// (casefoldTiled both ways, whichever the batch methods use here).
func TestBatch(t *testing.T) {
	p, _ := sample(1)
	defer func(tiled bool) { casefoldTiled = tiled }(casefoldTiled)
	casefoldTiled = true
	t.Run("tiles", func(t *testing.T) {
		gradcheck.CheckBatch[CasefoldParams, CasefoldWorkspace, CasefoldBatchWorkspace, CasefoldInputs, CasefoldOutputs](t, p, func(i int) *CasefoldInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
	casefoldTiled = false
	t.Run("per-sample", func(t *testing.T) {
		gradcheck.CheckBatch[CasefoldParams, CasefoldWorkspace, CasefoldBatchWorkspace, CasefoldInputs, CasefoldOutputs](t, p, func(i int) *CasefoldInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
}
