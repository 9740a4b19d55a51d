package gradcheck_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"unsafe"
)

// tiny is a model written by hand in the shape of generated code, with a
// kink and an integer input:
//
//	param W[2, 2]
//	param b[2]
//	input x[2]
//	input y
//	input k int
//	h = W @ x + b
//	loss = relu(h[0]) + relu(h[1]) + (h[1-k] - y)^2
//	output h
//
// bug, when set, breaks one method the way the tests say.
type tinyParams struct {
	W [2][2]float64
	B [2]float64
}

type tinyInputs struct {
	X [2]float64
	Y float64
	K int
}

type tinyOutputs struct{ H [2]float64 }

type tinyWorkspace struct{ h [2]float64 }

var bug string

var sink []float64

func (in *tinyInputs) Validate() error {
	if in.K < 0 || in.K >= 2 {
		return fmt.Errorf("tiny: input k = %d is outside its range 0..1", in.K)
	}
	return nil
}

func (p *tinyParams) Forward(ws *tinyWorkspace, in *tinyInputs, out *tinyOutputs) float64 {
	if err := in.Validate(); err != nil {
		panic(err)
	}
	if bug == "alloc" {
		sink = make([]float64, 3)
	}
	for i := range 2 {
		ws.h[i] = p.W[i][0]*in.X[0] + p.W[i][1]*in.X[1] + p.B[i]
	}
	if out != nil {
		out.H = ws.h
	}
	r := ws.h[1-in.K] - in.Y
	return max(ws.h[0], 0) + max(ws.h[1], 0) + r*r
}

func (p *tinyParams) Backward(ws *tinyWorkspace, in *tinyInputs, g *tinyParams) {
	var dh [2]float64
	for i, h := range ws.h {
		switch {
		case h > 0:
			dh[i] = 1
		case h == 0 && bug == "kink":
			dh[i] = 2 // not a subgradient of relu at 0
		}
	}
	dh[1-in.K] += 2 * (ws.h[1-in.K] - in.Y)
	if bug == "grad" {
		dh[1] *= 1.001
	}
	for i := range 2 {
		g.W[i][0] += dh[i] * in.X[0]
		g.W[i][1] += dh[i] * in.X[1]
		g.B[i] += dh[i]
	}
}

func (p *tinyParams) BackwardTo(ws *tinyWorkspace, in *tinyInputs, g *tinyParams) {
	*g = tinyParams{}
	p.Backward(ws, in, g)
	if bug == "to" {
		g.W[1][0] = math.NaN()
	}
}

func (p *tinyParams) LossGrad(ws *tinyWorkspace, in *tinyInputs, g *tinyParams) float64 {
	loss := p.Forward(ws, in, nil)
	p.Backward(ws, in, g)
	if bug == "lossgrad" {
		g.B[0] += 1e-12
	}
	return loss
}

func (p *tinyParams) LossGradTo(ws *tinyWorkspace, in *tinyInputs, g *tinyParams) float64 {
	*g = tinyParams{}
	return p.LossGrad(ws, in, g)
}

func (p *tinyParams) Predict(ws *tinyWorkspace, in *tinyInputs, out *tinyOutputs) {
	p.Forward(ws, in, out)
}

func (p *tinyParams) Flat() []float64 { return unsafe.Slice(&p.W[0][0], 6) }

func (*tinyParams) Layout() (names, fields []string, sizes []int) {
	return []string{"W", "b"}, []string{"W", "B"}, []int{4, 2}
}

func (p *tinyParams) Init(seed uint64) {
	*p = tinyParams{}
	r := rand.New(rand.NewPCG(seed, 0))
	for i := range 2 {
		for j := range 2 {
			p.W[i][j] = math.Sqrt(6.0/4) * (2*r.Float64() - 1)
		}
	}
}

func (in *tinyInputs) Flat() []float64 { return unsafe.Slice(&in.X[0], 3) }

func (in *tinyInputs) Ints() []int { return unsafe.Slice(&in.K, 1) }

func (*tinyInputs) Layout() (names, fields []string, sizes []int) {
	return []string{"x", "y", "k"}, []string{"X", "Y", "K"}, []int{2, 1, 1}
}
