package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// BatchModel is the method set of a generated model's parameters with its
// batch methods, whose batch workspace is BW.
type BatchModel[P, W, BW, I, O any] interface {
	Model[P, W, I, O]
	LossGradBatch(ws *BW, in []I, g *P) float64
	LossGradBatchTo(ws *BW, in []I, g *P) float64
	ForwardBatch(ws *BW, in []I, out []O) float64
}

// BatchWorkspace is the method set of a batch workspace.
type BatchWorkspace[BW any] interface {
	*BW
	Tile() int
}

// BatchTolerance is the largest difference accepted between a batch
// method's results and the per-sample sums, relative to the largest
// magnitude in the tensor compared: the batch sums in another order.
const BatchTolerance = 1e-12

// CheckBatch checks the batch methods of a generated model at p: for
// batches of 0, 1, a tile less one, a tile, a tile and one and two tiles
// and three samples (drawn by draw, a function of the sample's number, and
// scaled a little each so that no two are alike), that LossGradBatch adds
// to g the sum of LossGrad's gradients and returns the sum of the losses,
// and that ForwardBatch returns the same loss and each sample's outputs,
// all within BatchTolerance per tensor; and that neither allocates.
func CheckBatch[P, W, BW, I, O any, PP BatchModel[P, W, BW, I, O], BWP BatchWorkspace[BW], IP Inputs[I]](t testing.TB, p PP, draw func(i int) IP) {
	t.Helper()
	ws := BWP(new(BW))
	tile := ws.Tile()
	r := rand.New(rand.NewPCG(uint64(tile), 0))
	all := make([]I, 2*tile+3)
	for i := range all {
		all[i] = *draw(i)
		flat := IP(&all[i]).Flat()
		for j, x := range flat {
			flat[j] = x * (1 + 0.01*(2*r.Float64()-1))
		}
	}
	_, _, sizes := p.Layout()
	name := elementNamer(reflect.ValueOf(p).Elem(), p.Layout)
	for _, n := range []int{0, 1, tile - 1, tile, tile + 1, len(all)} {
		in := all[:n]
		// The reference: each sample alone, summed in order.
		want := PP(new(P))
		var wantLoss float64
		var one W
		wantOut := make([]O, n)
		for i := range in {
			wantLoss += p.LossGrad(&one, &in[i], want)
			p.Forward(&one, &in[i], &wantOut[i])
		}
		// LossGradBatch adds: start from a gradient of ones.
		got := PP(new(P))
		fill(got.Flat(), 1)
		loss := p.LossGradBatch((*BW)(ws), in, got)
		for i := range got.Flat() {
			got.Flat()[i]--
		}
		what := fmt.Sprintf("%d samples (tile %d)", n, tile)
		if !closeRel(loss, wantLoss) {
			t.Errorf("%s: LossGradBatch's loss %v, the sum of LossGrad's %v", what, loss, wantLoss)
		}
		off := 0
		for _, size := range sizes {
			// Adding to ones and taking them away again loses the bits of
			// gradient entries far below 1: compare against 1 at least.
			if d, i := tensorDiff(got.Flat()[off:off+size], want.Flat()[off:off+size], 1); d > BatchTolerance {
				t.Errorf("%s: LossGradBatch's gradient of %s = %v, the sum of LossGrad's %v (relative difference %.3g)",
					what, name(off+i), got.Flat()[off+i], want.Flat()[off+i], d)
			}
			off += size
		}
		// LossGradBatchTo sets: NaN left anywhere fails.
		set := PP(new(P))
		fill(set.Flat(), math.NaN())
		if l := p.LossGradBatchTo((*BW)(ws), in, set); !closeRel(l, wantLoss) {
			t.Errorf("%s: LossGradBatchTo's loss %v, the sum of LossGrad's %v", what, l, wantLoss)
		}
		off = 0
		for _, size := range sizes {
			if d, i := tensorDiff(set.Flat()[off:off+size], want.Flat()[off:off+size], 0); d > BatchTolerance {
				t.Errorf("%s: LossGradBatchTo's gradient of %s = %v, the sum of LossGrad's %v (relative difference %.3g)",
					what, name(off+i), set.Flat()[off+i], want.Flat()[off+i], d)
			}
			off += size
		}
		gotOut := make([]O, n)
		if fl := p.ForwardBatch((*BW)(ws), in, gotOut); !closeRel(fl, wantLoss) {
			t.Errorf("%s: ForwardBatch's loss %v, the sum of Forward's %v", what, fl, wantLoss)
		}
		if fl := p.ForwardBatch((*BW)(ws), in, nil); !closeRel(fl, wantLoss) {
			t.Errorf("%s: ForwardBatch's loss without outputs %v, the sum of Forward's %v", what, fl, wantLoss)
		}
		for i := range in {
			a, b := floatsOf(reflect.ValueOf(&gotOut[i]).Elem(), nil), floatsOf(reflect.ValueOf(&wantOut[i]).Elem(), nil)
			if d, j := tensorDiff(a, b, 0); d > BatchTolerance {
				t.Errorf("%s: ForwardBatch's output %d of sample %d = %v, Forward's %v", what, j, i, a[j], b[j])
			}
		}
	}
	g := PP(new(P))
	out := make([]O, len(all))
	if a := testing.AllocsPerRun(3, func() { p.LossGradBatch((*BW)(ws), all, g) }); a != 0 {
		t.Errorf("LossGradBatch allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(3, func() { p.LossGradBatchTo((*BW)(ws), all, g) }); a != 0 {
		t.Errorf("LossGradBatchTo allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(3, func() { p.ForwardBatch((*BW)(ws), all, out) }); a != 0 {
		t.Errorf("ForwardBatch allocates %v times per call", a)
	}
}

// CheckBatchRandom runs CheckBatch at parameters drawn from Options.Seed
// as CheckModelRandom draws its first point, with samples drawn as its
// inputs are.
func CheckBatchRandom[P, W, BW, I, O any, PP BatchModel[P, W, BW, I, O], BWP BatchWorkspace[BW], IP Inputs[I]](t testing.TB, opt Options) {
	t.Helper()
	bounds := intBounds(IP(new(I)))
	p, _, ok := drawModel[P, W, I, O, PP, IP](opt.Seed, bounds)
	if !ok {
		t.Errorf("the loss is not finite at 20 random points: check the batch methods with CheckBatch at a point where it is defined")
		return
	}
	r := rand.New(rand.NewPCG(opt.Seed, 4))
	CheckBatch[P, W, BW, I, O, PP, BWP, IP](t, p, func(int) IP {
		in := IP(new(I))
		Fill(r, in.Flat(), 1)
		for k, b := range bounds {
			in.Ints()[k] = r.IntN(b)
		}
		return in
	})
}

// closeRel reports whether a and b agree within BatchTolerance, relative
// to the larger of them and 1.
func closeRel(a, b float64) bool {
	return a == b || math.Abs(a-b) <= BatchTolerance*max(1, math.Abs(a), math.Abs(b))
}

// tensorDiff returns the largest difference between a and b, relative to
// the largest magnitude in either (and floor), and where it is.
func tensorDiff(a, b []float64, floor float64) (float64, int) {
	scale := floor
	for i := range a {
		scale = max(scale, math.Abs(a[i]), math.Abs(b[i]))
	}
	worst, at := 0.0, 0
	for i := range a {
		d := math.Abs(a[i] - b[i])
		if a[i] != b[i] && !(d <= worst*scale) {
			if scale == 0 || math.IsNaN(d) {
				return math.Inf(1), i
			}
			worst, at = d/scale, i
		}
	}
	return worst, at
}
