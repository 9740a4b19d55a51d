package main

import (
	"math/rand/v2"
	"runtime"

	"github.com/backpropgen/backpropgen/train"
)

// cnn trains cnn.bp with mini-batches of train.Batch and Adam.
type cnn struct {
	p, g    CnnParams
	samples []CnnInputs
	batch   int
	b       *train.Batch[CnnParams, CnnBatchWorkspace, CnnInputs, *CnnParams, *CnnBatchWorkspace]
	opt     *train.Adam
	ws      CnnWorkspace
	in      CnnInputs
	out     CnnOutputs
}

func newCNN(cfg config, images []image) *cnn {
	m := &cnn{batch: cfg.batch, opt: train.NewAdam(CnnNumParams, cfg.lr)}
	m.p.Init(cfg.seed)
	m.samples = make([]CnnInputs, len(images))
	for i := range images {
		m.samples[i] = cnnInputs(&images[i])
	}
	m.b = train.NewBatch[CnnParams, CnnBatchWorkspace, CnnInputs](runtime.NumCPU())
	return m
}

// cnnInputs makes the pixel counts 0..16 a single-channel image [1, 8, 8]
// of 0..1.
func cnnInputs(im *image) CnnInputs {
	in := CnnInputs{Label: im.label}
	for i, v := range im.pixels {
		in.Img[0][i/8][i%8] = v / 16
	}
	return in
}

func (m *cnn) epoch(r *rand.Rand) float64 {
	s := m.samples
	r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	var loss float64
	for i := 0; i < len(s); i += m.batch {
		batch := s[i:min(i+m.batch, len(s))]
		loss += m.b.Grad(&m.p, batch, &m.g, train.Mean) * float64(len(batch))
		m.opt.Step(m.p.Flat(), m.g.Flat())
	}
	return loss / float64(len(s))
}

func (m *cnn) classify(im *image) int {
	m.in = cnnInputs(im)
	m.p.Predict(&m.ws, &m.in, &m.out)
	best := 0
	for k, v := range m.out.Logits {
		if v > m.out.Logits[best] {
			best = k
		}
	}
	return best
}

func (m *cnn) close() { m.b.Close() }
