// Command vanishing prints the gradient norm of every layer of a 20-layer
// network three ways: with sigmoid layers (testdata/deep.bp), with relu
// layers (deeprelu.bp) and with residual connections around sigmoid layers
// (deepres.bp). The sigmoid net's early layers starve: each layer multiplies
// the backpropagated error by σ' ≤ 1/4 (the notes' 0.25 × 0.25 × …). Relu
// (derivative 1 where active) and the identity path of a residual block do
// not shrink it.
package main

import (
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"

	"github.com/backpropgen/backpropgen/generated/deep"
	"github.com/backpropgen/backpropgen/generated/deeprelu"
	"github.com/backpropgen/backpropgen/generated/deepres"
	"github.com/backpropgen/backpropgen/train"
)

const layers = 20

// weights fills w (one layer's 32×32 matrices, then biases) with normal
// numbers of the given standard deviation, the same draws for every net.
func weights(seed int64, std float64, w, b []float64) {
	r := rand.New(rand.NewSource(seed))
	for i := range w {
		w[i] = std * r.NormFloat64()
	}
	for i := range b {
		b[i] = 0.1 * r.NormFloat64()
	}
}

// layerNorms returns ‖∂loss/∂W[l]‖ for each layer, from a flat gradient
// whose first parameter is W.
func layerNorms(g []float64) [layers]float64 {
	var out [layers]float64
	for l := range layers {
		out[l] = train.Norm(g[l*32*32 : (l+1)*32*32])
	}
	return out
}

// norms computes the three nets' per-layer gradient norms on one input.
func norms(seed int64) (sig, relu, res [layers]float64) {
	r := rand.New(rand.NewSource(seed))
	var x [32]float64
	for i := range x {
		x[i] = r.NormFloat64()
	}
	{
		var p, g deep.DeepParams
		weights(seed, 1/math.Sqrt(32), p.Flat()[:layers*32*32], p.Flat()[layers*32*32:])
		var ws deep.DeepWorkspace
		p.LossGrad(&ws, &deep.DeepInputs{X: x}, &g)
		sig = layerNorms(g.Flat())
	}
	{
		var p, g deeprelu.DeepreluParams
		weights(seed, math.Sqrt(2.0/32), p.Flat()[:layers*32*32], p.Flat()[layers*32*32:])
		var ws deeprelu.DeepreluWorkspace
		p.LossGrad(&ws, &deeprelu.DeepreluInputs{X: x}, &g)
		relu = layerNorms(g.Flat())
	}
	{
		var p, g deepres.DeepresParams
		weights(seed, 1/math.Sqrt(32), p.Flat()[:layers*32*32], p.Flat()[layers*32*32:])
		var ws deepres.DeepresWorkspace
		p.LossGrad(&ws, &deepres.DeepresInputs{X: x}, &g)
		res = layerNorms(g.Flat())
	}
	return sig, relu, res
}

func print(w io.Writer, sig, relu, res [layers]float64) {
	fmt.Fprintln(w, "| layer | sigmoid | relu | residual |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: |")
	for l := range layers {
		fmt.Fprintf(w, "| %d | %.2e | %.2e | %.2e |\n", l+1, sig[l], relu[l], res[l])
	}
	fmt.Fprintf(w, "| first/last | %.1e | %.1e | %.1e |\n", sig[0]/sig[layers-1], relu[0]/relu[layers-1], res[0]/res[layers-1])
}

func main() {
	sig, relu, res := norms(1)
	fmt.Println("‖∂loss/∂W[l]‖ for each layer l of a 20-layer, 32-wide network:")
	print(os.Stdout, sig, relu, res)
}
