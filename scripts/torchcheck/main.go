// Command torchcheck prints the values and gradients that generated/builtins
// computes for the built-ins of the second round, at fixed points, one JSON
// object a line, for scripts/torch_check.py to compare with PyTorch. No test
// runs it.
package main

import (
	"encoding/json"
	"os"
	"reflect"

	"github.com/backpropgen/backpropgen/generated/builtins"
)

type point struct {
	Name  string    `json:"name"`
	Args  []float64 `json:"args"`
	Value float64   `json:"value"`
	Grad  []float64 `json:"grad"`
}

var cases = []struct {
	name   string
	grad   any
	points [][]float64
}{
	{"cosh", builtins.FCoshGrad, [][]float64{{-2}, {0.3}, {5}}},
	{"sinh", builtins.FSinhGrad, [][]float64{{-2}, {0.3}, {5}}},
	{"asin", builtins.FAsinGrad, [][]float64{{-0.9}, {0}, {0.5}}},
	{"acos", builtins.FAcosGrad, [][]float64{{-0.9}, {0}, {0.5}}},
	{"expm1", builtins.FExpm1Grad, [][]float64{{-30}, {1e-9}, {2}}},
	{"log2", builtins.FLog2Grad, [][]float64{{0.01}, {3}, {1024}}},
	{"log10", builtins.FLog10Grad, [][]float64{{0.01}, {3}, {1000}}},
	{"square", builtins.FSquareGrad, [][]float64{{-3}, {0.5}}},
	{"rsqrt", builtins.FRsqrtGrad, [][]float64{{0.01}, {4}, {1e6}}},
	{"gelu", builtins.FGeluGrad, [][]float64{{-6}, {-1}, {0}, {0.7}, {4}}},
	{"silu", builtins.FSiluGrad, [][]float64{{-1000}, {-1}, {0}, {2}, {1000}}},
	{"softsign", builtins.FSoftsignGrad, [][]float64{{-3}, {0}, {0.5}}},
	{"elu", builtins.FEluGrad, [][]float64{{-2, 1}, {-0.5, 0.3}, {1.5, 2}}},
	{"clip", builtins.FClipGrad, [][]float64{{-3, -1, 2}, {0.5, -1, 2}, {5, -1, 2}}},
	{"huber", builtins.FHuberGrad, [][]float64{{1.5, 1, 1}, {4, 1, 1}, {-2, 1, 2}}},
	{"bce_with_logits", builtins.FBceGrad, [][]float64{{0, 1}, {-1000, 1}, {1000, 0}, {2, 0.3}}},
}

func main() {
	enc := json.NewEncoder(os.Stdout)
	for _, c := range cases {
		f := reflect.ValueOf(c.grad)
		for _, p := range c.points {
			var in []reflect.Value
			for _, x := range p {
				in = append(in, reflect.ValueOf(x))
			}
			out := f.Call(in)
			pt := point{Name: c.name, Args: p, Value: out[0].Float()}
			for _, g := range out[1:] {
				pt.Grad = append(pt.Grad, g.Float())
			}
			if err := enc.Encode(pt); err != nil {
				panic(err)
			}
		}
	}
}
