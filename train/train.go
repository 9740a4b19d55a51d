// Package train is the small runtime every generated model plugs into:
// optimizers over a model's flat parameter view (SGD, momentum, Adam), the
// gradient of a batch of samples (one sample, a mini-batch or the full data
// set; sequential or spread over goroutines, with identical results),
// gradient norms and clipping. Nothing allocates per step.
//
// A generated model type XParams satisfies Model; for xor.bp:
//
//	b := train.NewBatch[xor.XorParams, xor.XorBatchWorkspace, xor.XorInputs](4)
//	defer b.Close()
//	opt := train.NewAdam(xor.XorNumParams, 0.01)
//	for epoch := range 1000 {
//		loss := b.Grad(&params, samples, &grad, train.Mean)
//		opt.Step(params.Flat(), grad.Flat())
//	}
package train

import "math"

// Optimizer updates parameters w from their gradient g, both flat views.
type Optimizer interface {
	Step(w, g []float64)
}

// SGD is plain gradient descent, w ← w − LR·g.
type SGD struct {
	LR float64
}

// Step implements Optimizer.
func (o *SGD) Step(w, g []float64) {
	for i, d := range g {
		w[i] -= o.LR * d
	}
}

// Momentum is gradient descent with momentum:
// v ← Beta·v + g, w ← w − LR·v.
type Momentum struct {
	LR, Beta float64
	v        []float64
}

// NewMomentum returns a Momentum optimizer for n parameters.
func NewMomentum(n int, lr, beta float64) *Momentum {
	return &Momentum{LR: lr, Beta: beta, v: make([]float64, n)}
}

// Step implements Optimizer.
func (o *Momentum) Step(w, g []float64) {
	for i, d := range g {
		o.v[i] = o.Beta*o.v[i] + d
		w[i] -= o.LR * o.v[i]
	}
}

// Adam is the Adam optimizer (Kingma and Ba, 2015) with bias correction.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	m, v                  []float64
	t                     int
}

// NewAdam returns an Adam optimizer for n parameters with the usual
// defaults β1 = 0.9, β2 = 0.999, ε = 1e-8.
func NewAdam(n int, lr float64) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, m: make([]float64, n), v: make([]float64, n)}
}

// Step implements Optimizer.
func (o *Adam) Step(w, g []float64) {
	o.t++
	c1 := 1 - math.Pow(o.Beta1, float64(o.t))
	c2 := 1 - math.Pow(o.Beta2, float64(o.t))
	for i, d := range g {
		o.m[i] = o.Beta1*o.m[i] + (1-o.Beta1)*d
		o.v[i] = o.Beta2*o.v[i] + (1-o.Beta2)*d*d
		w[i] -= o.LR * (o.m[i] / c1) / (math.Sqrt(o.v[i]/c2) + o.Eps)
	}
}

// Norm is the Euclidean norm of g.
func Norm(g []float64) float64 {
	var s float64
	for _, v := range g {
		s += v * v
	}
	return math.Sqrt(s)
}

// Norms writes into out (one per parameter) the norm of each parameter's
// part of g, given the sizes a generated type's Layout returns.
func Norms(g []float64, sizes []int, out []float64) {
	for k, n := range sizes {
		out[k] = Norm(g[:n])
		g = g[n:]
	}
}

// ClipGlobalNorm scales g so that its norm is at most max, and returns the
// norm it had.
func ClipGlobalNorm(g []float64, max float64) float64 {
	n := Norm(g)
	if n > max {
		s := max / n
		for i := range g {
			g[i] *= s
		}
	}
	return n
}
