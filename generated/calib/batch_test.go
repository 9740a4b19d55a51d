package calib

import (
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// TestBatch checks LossGradBatch and ForwardBatch against LossGrad and
// Forward sample by sample, over whole and partial tiles
// (gradcheck.CheckBatch), with the tile code and with the per-sample code
// (calibTiled both ways, whichever the batch methods use here).
func TestBatch(t *testing.T) {
	p, _ := sample(1)
	defer func(tiled bool) { calibTiled = tiled }(calibTiled)
	calibTiled = true
	t.Run("tiles", func(t *testing.T) {
		gradcheck.CheckBatch[CalibParams, CalibWorkspace, CalibBatchWorkspace, CalibInputs, CalibOutputs](t, p, func(i int) *CalibInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
	calibTiled = false
	t.Run("per-sample", func(t *testing.T) {
		gradcheck.CheckBatch[CalibParams, CalibWorkspace, CalibBatchWorkspace, CalibInputs, CalibOutputs](t, p, func(i int) *CalibInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
}
