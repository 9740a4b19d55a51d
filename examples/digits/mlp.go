package main

import (
	"math/rand/v2"
	"runtime"

	"github.com/backpropgen/backpropgen/train"
)

// mlp trains mlp.bp with mini-batches of train.Batch and Adam.
type mlp struct {
	p, g    MlpParams
	samples []MlpInputs
	batch   int
	b       *train.Batch[MlpParams, MlpBatchWorkspace, MlpInputs, *MlpParams, *MlpBatchWorkspace]
	opt     *train.Adam
	ws      MlpWorkspace
	in      MlpInputs
	out     MlpOutputs
}

func newMLP(cfg config, images []image) *mlp {
	m := &mlp{batch: cfg.batch, opt: train.NewAdam(MlpNumParams, cfg.lr)}
	m.p.Init(cfg.seed)
	m.samples = make([]MlpInputs, len(images))
	for i := range images {
		m.samples[i] = mlpInputs(&images[i])
	}
	m.b = train.NewBatch[MlpParams, MlpBatchWorkspace, MlpInputs](runtime.NumCPU())
	return m
}

// mlpInputs scales the pixel counts 0..16 to 0..1.
func mlpInputs(im *image) MlpInputs {
	in := MlpInputs{Label: im.label}
	for i, v := range im.pixels {
		in.X[i] = v / 16
	}
	return in
}

func (m *mlp) epoch(r *rand.Rand) float64 {
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

func (m *mlp) classify(im *image) int {
	m.in = mlpInputs(im)
	m.p.Predict(&m.ws, &m.in, &m.out)
	best := 0
	for k, v := range m.out.Logits {
		if v > m.out.Logits[best] {
			best = k
		}
	}
	return best
}

func (m *mlp) close() { m.b.Close() }
