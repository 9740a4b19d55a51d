package train

import "sync"

// Reduction says how a batch's per-sample gradients are combined.
type Reduction int

const (
	Sum  Reduction = iota // the sum over samples
	Mean                  // the sum divided by the number of samples
)

// Model is the method set of every generated parameter type *P, with its
// batch workspace BW and inputs I: LossGradBatchTo sets g to the gradient
// of a slice of samples, and LossGradBatch adds it, computing them a tile
// at a time or one at a time, whichever the model's batch methods chose
// as the faster (its PREFIXTiled variable).
type Model[P, BW, I any] interface {
	*P
	LossGradBatch(ws *BW, in []I, g *P) float64
	LossGradBatchTo(ws *BW, in []I, g *P) float64
	Flat() []float64
}

// Workspace is the method set of a generated batch workspace *BW.
type Workspace[BW any] interface {
	*BW
	Tile() int
}

// Batch computes the gradient of a batch of samples, sequentially (one
// worker) or split across goroutines. The batch is cut into chunks of one
// tile of the model's batch methods (Workspace.Tile); a worker computes a
// chunk's gradient with LossGradBatchTo into a buffer of that chunk's own
// (written, not cleared and added to),
// and once all chunks are done the workers add the buffers up, chunk after
// chunk, each over its own share of the parameters. So the result is the
// same to the bit for 1, 2 or 16 goroutines, and from one run to the next,
// and no lock is taken per chunk or per element. A Batch holds one batch
// workspace per worker and one gradient buffer per chunk of the largest
// batch it has seen, allocated the first time: Grad allocates nothing on
// later calls of that size or less. A Batch is for one goroutine at a time.
type Batch[P, BW, I any, M Model[P, BW, I], WS Workspace[BW]] struct {
	workers int
	ws      []BW
	parts   []P       // one gradient per lane
	losses  []float64 // one loss per lane

	// The current job, set by Grad for the workers.
	p       M
	samples []I
	g       []float64
	tile    int
	merging bool

	start    []chan struct{}
	finished sync.WaitGroup
}

// NewBatch returns a Batch that uses the given number of worker
// goroutines (1: none, all on the caller's). Close it to stop them.
func NewBatch[P, BW, I any, M Model[P, BW, I], WS Workspace[BW]](workers int) *Batch[P, BW, I, M, WS] {
	workers = min(max(workers, 1), Lanes)
	b := &Batch[P, BW, I, M, WS]{workers: workers, ws: make([]BW, workers)}
	b.tile = WS(&b.ws[0]).Tile()
	if workers > 1 {
		b.start = make([]chan struct{}, workers)
		for w := range workers {
			start := make(chan struct{})
			b.start[w] = start
			go func() {
				for range start {
					b.work(w, workers)
					b.finished.Done()
				}
			}()
		}
	}
	return b
}

// Lanes is the number of partial gradients a Batch keeps, and the most
// workers it runs: more workers would change which chunks a partial sum
// adds, and so the rounding.
const Lanes = 16

// Close stops the worker goroutines. The Batch cannot be used after.
func (b *Batch[P, BW, I, M, WS]) Close() {
	for _, c := range b.start {
		close(c)
	}
	b.start = nil
}

// Grad sets g to the gradient of the loss over samples at parameters p,
// summed or averaged over samples by r, and returns the loss likewise
// combined. With one sample it is stochastic gradient descent's gradient,
// with all of them full-batch gradient descent's.
func (b *Batch[P, BW, I, M, WS]) Grad(p M, samples []I, g M, r Reduction) float64 {
	flat := g.Flat()
	chunks := (len(samples) + b.tile - 1) / b.tile
	lanes := min(chunks, Lanes)
	for len(b.parts) < lanes {
		b.parts = append(b.parts, *new(P))
		b.losses = append(b.losses, 0)
	}
	var loss float64
	if chunks <= 1 { // straight into g
		loss = p.LossGradBatchTo(&b.ws[0], samples, g)
	} else {
		b.p, b.samples, b.g = p, samples, flat
		b.run(false) // each chunk's gradient
		b.run(true)  // their sum
		for _, l := range b.losses[:lanes] {
			loss += l
		}
	}
	if r == Mean && len(samples) > 0 {
		s := 1 / float64(len(samples))
		for i := range flat {
			flat[i] *= s
		}
		loss *= s
	}
	b.p, b.samples, b.g = nil, nil, nil
	return loss
}

// run runs one phase of Grad on every worker (on the caller's goroutine
// when there is one worker).
func (b *Batch[P, BW, I, M, WS]) run(merging bool) {
	b.merging = merging
	if b.workers > 1 && b.start == nil {
		panic("train: Batch.Grad after Close")
	}
	if b.workers == 1 {
		b.work(0, 1)
		return
	}
	b.finished.Add(b.workers)
	for _, c := range b.start {
		c <- struct{}{}
	}
	b.finished.Wait()
}

// work is worker w's share of the current phase, of workers in all: the
// lanes w, w+workers, ..., each its chunks in order, or the w-th slice of
// the gradient's entries.
func (b *Batch[P, BW, I, M, WS]) work(w, workers int) {
	chunks := (len(b.samples) + b.tile - 1) / b.tile
	lanes := min(chunks, Lanes)
	if !b.merging {
		for l := w; l < lanes; l += workers {
			part := M(&b.parts[l])
			b.losses[l] = 0
			for c := l; c < chunks; c += lanes {
				in := b.samples[c*b.tile : min((c+1)*b.tile, len(b.samples))]
				if c == l {
					b.losses[l] += b.p.LossGradBatchTo(&b.ws[w], in, part)
				} else {
					b.losses[l] += b.p.LossGradBatch(&b.ws[w], in, part)
				}
			}
		}
		return
	}
	n := len(b.g)
	lo, hi := n*w/workers, n*(w+1)/workers
	g := b.g[lo:hi]
	copy(g, M(&b.parts[0]).Flat()[lo:hi])
	for l := 1; l < lanes; l++ {
		for i, v := range M(&b.parts[l]).Flat()[lo:hi] {
			g[i] += v
		}
	}
}
