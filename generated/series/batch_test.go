package series

import (
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// TestBatch checks LossGradBatch and ForwardBatch against LossGrad and
// Forward sample by sample, over whole and partial tiles
// (gradcheck.CheckBatch).
func TestBatch(t *testing.T) {
	p, _ := sample(1)
	gradcheck.CheckBatch[SeriesParams, SeriesWorkspace, SeriesBatchWorkspace, SeriesInputs, SeriesOutputs](t, p, func(i int) *SeriesInputs {
		_, in := sample(int64(i) + 1)
		return in
	})
}
