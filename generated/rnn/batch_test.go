package rnn

import (
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// TestBatch checks LossGradBatch and ForwardBatch against LossGrad and
// Forward sample by sample, over whole and partial tiles
// (gradcheck.CheckBatch), with the tile code and with the per-sample code
// (rnnTiled both ways, whichever the batch methods use here).
func TestBatch(t *testing.T) {
	p, _ := sample(1)
	defer func(tiled bool) { rnnTiled = tiled }(rnnTiled)
	rnnTiled = true
	t.Run("tiles", func(t *testing.T) {
		gradcheck.CheckBatch[RnnParams, RnnWorkspace, RnnBatchWorkspace, RnnInputs, RnnOutputs](t, p, func(i int) *RnnInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
	rnnTiled = false
	t.Run("per-sample", func(t *testing.T) {
		gradcheck.CheckBatch[RnnParams, RnnWorkspace, RnnBatchWorkspace, RnnInputs, RnnOutputs](t, p, func(i int) *RnnInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
}
