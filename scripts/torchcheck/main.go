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
	{"cosh", builtins.F_coshGrad, [][]float64{{-2}, {0.3}, {5}}},
	{"sinh", builtins.F_sinhGrad, [][]float64{{-2}, {0.3}, {5}}},
	{"asin", builtins.F_asinGrad, [][]float64{{-0.9}, {0}, {0.5}}},
	{"acos", builtins.F_acosGrad, [][]float64{{-0.9}, {0}, {0.5}}},
	{"expm1", builtins.F_expm1Grad, [][]float64{{-30}, {1e-9}, {2}}},
	{"log2", builtins.F_log2Grad, [][]float64{{0.01}, {3}, {1024}}},
	{"log10", builtins.F_log10Grad, [][]float64{{0.01}, {3}, {1000}}},
	{"square", builtins.F_squareGrad, [][]float64{{-3}, {0.5}}},
	{"rsqrt", builtins.F_rsqrtGrad, [][]float64{{0.01}, {4}, {1e6}}},
	{"gelu", builtins.F_geluGrad, [][]float64{{-6}, {-1}, {0}, {0.7}, {4}}},
	{"silu", builtins.F_siluGrad, [][]float64{{-1000}, {-1}, {0}, {2}, {1000}}},
	{"softsign", builtins.F_softsignGrad, [][]float64{{-3}, {0}, {0.5}}},
	{"elu", builtins.F_eluGrad, [][]float64{{-2, 1}, {-0.5, 0.3}, {1.5, 2}}},
	{"clip", builtins.F_clipGrad, [][]float64{{-3, -1, 2}, {0.5, -1, 2}, {5, -1, 2}}},
	{"huber", builtins.F_huberGrad, [][]float64{{1.5, 1, 1}, {4, 1, 1}, {-2, 1, 2}}},
	{"bce_with_logits", builtins.F_bceGrad, [][]float64{{0, 1}, {-1000, 1}, {1000, 0}, {2, 0.3}}},
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
