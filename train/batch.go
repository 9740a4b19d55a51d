package train

import "sync"

// Reduction says how a batch's per-sample gradients are combined.
type Reduction int

const (
	Sum  Reduction = iota // the sum over samples
	Mean                  // the sum divided by the number of samples
)

// ChunkSize is how many consecutive samples are summed together before
// their sum is added to the batch gradient. Chunks are added in order
// whatever the number of workers, so the result is the same to the bit for
// 1, 2 or 16 goroutines, and from one run to the next.
const ChunkSize = 8

// Batch computes the gradient of a batch of samples, sequentially (one
// worker) or split across goroutines. It holds one workspace and one
// partial gradient per worker, allocated by NewBatch: Grad allocates
// nothing. A Batch is for one goroutine at a time.
type Batch[P, W, I any, M Model[P, W, I]] struct {
	workers int
	ws      []W
	part    []P

	// The current job, set by Grad for the workers.
	p       M
	samples []I
	g       []float64
	loss    float64

	mu       sync.Mutex
	turn     *sync.Cond // signals that chunk next may be committed
	next     int
	start    []chan struct{}
	finished sync.WaitGroup
}

// NewBatch returns a Batch that uses the given number of worker
// goroutines (1: none, all on the caller's). Close it to stop them.
func NewBatch[P, W, I any, M Model[P, W, I]](workers int) *Batch[P, W, I, M] {
	workers = max(workers, 1)
	b := &Batch[P, W, I, M]{workers: workers, ws: make([]W, workers), part: make([]P, workers)}
	b.turn = sync.NewCond(&b.mu)
	if workers > 1 {
		b.start = make([]chan struct{}, workers)
		for w := range workers {
			start := make(chan struct{})
			b.start[w] = start
			go func() {
				for range start {
					b.work(w)
					b.finished.Done()
				}
			}()
		}
	}
	return b
}

// Close stops the worker goroutines.
func (b *Batch[P, W, I, M]) Close() {
	for _, c := range b.start {
		close(c)
	}
	b.start = nil
}

// Grad sets g to the gradient of the loss over samples at parameters p,
// summed or averaged over samples by r, and returns the loss likewise
// combined. With one sample it is stochastic gradient descent's gradient,
// with all of them full-batch gradient descent's.
func (b *Batch[P, W, I, M]) Grad(p M, samples []I, g M, r Reduction) float64 {
	flat := g.Flat()
	if len(samples) == 0 {
		clear(flat) // no chunk will set it
	}
	b.p, b.samples, b.g, b.loss, b.next = p, samples, flat, 0, 0
	if b.workers == 1 || len(samples) <= ChunkSize {
		b.work(-1)
	} else {
		b.finished.Add(b.workers)
		for _, c := range b.start {
			c <- struct{}{}
		}
		b.finished.Wait()
	}
	loss := b.loss
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

// work computes chunks w, w+workers, ... (all of them for w = -1) and
// commits each in chunk order.
func (b *Batch[P, W, I, M]) work(w int) {
	first, stride, slot := w, b.workers, w
	if w < 0 {
		first, stride, slot = 0, 1, 0
	}
	part := M(&b.part[slot])
	pf := part.Flat()
	chunks := (len(b.samples) + ChunkSize - 1) / ChunkSize
	for c := first; c < chunks; c += stride {
		// The first sample overwrites the partial sum and the first chunk
		// the batch's: nothing is cleared, so a one-sample step writes each
		// gradient entry once rather than zeroing it first. (Adding to a
		// cleared sum would give the same numbers, to the sign of zero.)
		start := c * ChunkSize
		loss := b.p.LossGradTo(&b.ws[slot], &b.samples[start], part)
		for i := start + 1; i < min(start+ChunkSize, len(b.samples)); i++ {
			loss += b.p.LossGrad(&b.ws[slot], &b.samples[i], part)
		}
		b.mu.Lock()
		for b.next != c {
			b.turn.Wait()
		}
		if c == 0 {
			copy(b.g, pf)
		} else {
			for i, v := range pf {
				b.g[i] += v
			}
		}
		b.loss += loss
		b.next++
		b.turn.Broadcast()
		b.mu.Unlock()
	}
}
