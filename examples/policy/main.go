// Command policy trains the softmax policy of testdata/policy.bp with
// REINFORCE on cart-pole, a pole balanced on a cart pushed left or right,
// and prints the average return as it rises.
//
// The policy gradient is the generated gradient of -ret · log π(action | s):
// actions that led to a high return (relative to the batch) become more
// likely, the others less: "the trade made $100, increase the probability of
// the actions that led to it".
package main

import (
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"

	"github.com/backpropgen/backpropgen/generated/policy"
	"github.com/backpropgen/backpropgen/train"
)

// cartPole is the classic control problem (Barto, Sutton and Anderson,
// 1983) with the usual constants: the episode ends when the pole leans more
// than 12° or the cart leaves the track, or after maxSteps.
type cartPole struct {
	x, v, theta, omega float64
}

const maxSteps = 200

func (c *cartPole) state() [4]float64 { return [4]float64{c.x, c.v, c.theta, c.omega} }

// step applies a push (action 0 left, 1 right) for 20 ms and reports
// whether the episode goes on.
func (c *cartPole) step(action int) bool {
	const (
		gravity, massCart, massPole, halfLength, force, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
	)
	f := force
	if action == 0 {
		f = -force
	}
	total := massCart + massPole
	cos, sin := math.Cos(c.theta), math.Sin(c.theta)
	tmp := (f + massPole*halfLength*c.omega*c.omega*sin) / total
	alpha := (gravity*sin - cos*tmp) / (halfLength * (4.0/3.0 - massPole*cos*cos/total))
	acc := tmp - massPole*halfLength*alpha*cos/total
	c.x += tau * c.v
	c.v += tau * acc
	c.theta += tau * c.omega
	c.omega += tau * alpha
	return math.Abs(c.x) <= 2.4 && math.Abs(c.theta) <= 12*math.Pi/180
}

// episode plays one episode with policy p, appending its steps to steps
// (with their rewards-to-go in Ret, discounted by gamma) and returning its
// length, which is its undiscounted return.
func episode(r *rand.Rand, p *policy.PolicyParams, ws *policy.PolicyWorkspace, steps []policy.PolicyInputs, gamma float64) ([]policy.PolicyInputs, int) {
	c := cartPole{x: 0.1 * (r.Float64() - 0.5), v: 0.1 * (r.Float64() - 0.5), theta: 0.1 * (r.Float64() - 0.5), omega: 0.1 * (r.Float64() - 0.5)}
	start := len(steps)
	var out policy.PolicyOutputs
	for range maxSteps {
		in := policy.PolicyInputs{S: c.state()}
		p.Forward(ws, &in, &out)
		if r.Float64() >= out.Probs[0] {
			in.Action = 1
		}
		steps = append(steps, in)
		if !c.step(in.Action) {
			break
		}
	}
	ret := 0.0
	for i := len(steps) - 1; i >= start; i-- {
		ret = 1 + gamma*ret
		steps[i].Ret = ret
	}
	return steps, len(steps) - start
}

// run trains for the given number of updates, each from a batch of
// episodes, and returns the average return of every update's episodes.
func run(w io.Writer, seed int64, updates int) []float64 {
	const episodesPerUpdate, gamma = 8, 0.99
	r := rand.New(rand.NewSource(seed))
	var p, g policy.PolicyParams
	for i := range p.Flat() {
		p.Flat()[i] = 0.1 * r.NormFloat64()
	}
	b := train.NewBatch[policy.PolicyParams, policy.PolicyBatchWorkspace, policy.PolicyInputs](2)
	defer b.Close()
	opt := train.NewAdam(policy.PolicyNumParams, 0.01)
	var ws policy.PolicyWorkspace
	steps := make([]policy.PolicyInputs, 0, episodesPerUpdate*maxSteps)
	var curve []float64
	for u := 1; u <= updates; u++ {
		steps = steps[:0]
		total := 0
		for range episodesPerUpdate {
			var n int
			steps, n = episode(r, &p, &ws, steps, gamma)
			total += n
		}
		// Normalizing the returns is the usual baseline: it keeps the
		// gradient's scale steady and lowers its variance.
		var mean, sq float64
		for _, s := range steps {
			mean += s.Ret / float64(len(steps))
		}
		for _, s := range steps {
			sq += (s.Ret - mean) * (s.Ret - mean) / float64(len(steps))
		}
		for i := range steps {
			steps[i].Ret = (steps[i].Ret - mean) / (math.Sqrt(sq) + 1e-8)
		}
		b.Grad(&p, steps, &g, train.Mean)
		opt.Step(p.Flat(), g.Flat())
		avg := float64(total) / episodesPerUpdate
		curve = append(curve, avg)
		if u%10 == 0 {
			fmt.Fprintf(w, "update %3d  average return %6.1f\n", u, avg)
		}
	}
	return curve
}

func main() {
	run(os.Stdout, 1, 100)
}
