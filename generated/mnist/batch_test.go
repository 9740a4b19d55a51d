package mnist

import (
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// TestBatch checks LossGradBatch and ForwardBatch against LossGrad and
// Forward sample by sample, over whole and partial tiles
// (gradcheck.CheckBatch), with the tile code and with the per-sample code
// (mnistTiled both ways, whichever the batch methods use here).
func TestBatch(t *testing.T) {
	p, _ := sample(1)
	defer func(tiled bool) { mnistTiled = tiled }(mnistTiled)
	mnistTiled = true
	t.Run("tiles", func(t *testing.T) {
		gradcheck.CheckBatch[MnistParams, MnistWorkspace, MnistBatchWorkspace, MnistInputs, MnistOutputs](t, p, func(i int) *MnistInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
	mnistTiled = false
	t.Run("per-sample", func(t *testing.T) {
		gradcheck.CheckBatch[MnistParams, MnistWorkspace, MnistBatchWorkspace, MnistInputs, MnistOutputs](t, p, func(i int) *MnistInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
}

// TestTiledChoosesTheCode checks that mnistTiled decides which code the
// batch methods run: with it, a whole tile is loaded into the batch
// workspace's tile inputs; without it, they stay zero.
func TestTiledChoosesTheCode(t *testing.T) {
	defer func(tiled bool) { mnistTiled = tiled }(mnistTiled)
	in := make([]MnistInputs, 33)
	for i := range in {
		_, s := sample(int64(i) + 1)
		in[i] = *s
	}
	p, _ := sample(1)
	for _, tiled := range []bool{true, false} {
		mnistTiled = tiled
		for name, run := range map[string]func(ws *MnistBatchWorkspace){
			"LossGradBatch":   func(ws *MnistBatchWorkspace) { p.LossGradBatch(ws, in, new(MnistParams)) },
			"LossGradBatchTo": func(ws *MnistBatchWorkspace) { p.LossGradBatchTo(ws, in, new(MnistParams)) },
			"ForwardBatch":    func(ws *MnistBatchWorkspace) { p.ForwardBatch(ws, in, nil) },
		} {
			ws := new(MnistBatchWorkspace)
			run(ws)
			if loaded := ws.x != [784][32]float64{}; loaded != tiled {
				t.Errorf("mnistTiled = %v: %s loaded a tile: %v", tiled, name, loaded)
			}
		}
	}
}

// TestTiledFollowsTheKernels checks the choice made at init: mnist's batch
// methods use the tile code exactly where the archsimd kernels are in
// place (mnist_grad_simd.go's init, with GOEXPERIMENT=simd on a CPU with
// AVX2 and FMA or AVX-512), and the per-sample code elsewhere.
func TestTiledFollowsTheKernels(t *testing.T) {
	if mnistTiled != mnistSIMD {
		t.Errorf("mnistTiled = %v with the archsimd kernels in place: %v", mnistTiled, mnistSIMD)
	}
	t.Logf("the archsimd kernels in place: %v", mnistSIMD)
}
