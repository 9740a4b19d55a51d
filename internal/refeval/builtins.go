package refeval

import (
	"math"

	"github.com/backpropgen/backpropgen/parser"
)

// builtin is a built-in function of the language (but for zeros, ones and
// cross_entropy, whose arguments are not all values: see callExpr).
type builtin struct {
	nargs int
	eval  func(in *interp, pos parser.Pos, args []Tensor) Tensor
}

func unary(f func(float64) float64) builtin {
	return builtin{1, func(_ *interp, _ parser.Pos, a []Tensor) Tensor { return mapT(a[0], f) }}
}

func binary(name string, f func(a, b float64) float64) builtin {
	return builtin{2, func(in *interp, pos parser.Pos, a []Tensor) Tensor {
		return in.elementwise(pos, name, a[0], a[1], f)
	}}
}

var builtins = map[string]builtin{
	"exp":      unary(math.Exp),
	"log":      unary(math.Log),
	"log1p":    unary(math.Log1p),
	"sqrt":     unary(math.Sqrt),
	"sin":      unary(math.Sin),
	"cos":      unary(math.Cos),
	"tan":      unary(math.Tan),
	"tanh":     unary(math.Tanh),
	"atan":     unary(math.Atan),
	"erf":      unary(math.Erf),
	"norm_cdf": unary(normCDF),
	"abs":      unary(math.Abs),
	"relu": unary(func(x float64) float64 {
		if x > 0 {
			return x
		}
		if math.IsNaN(x) {
			return x
		}
		return 0
	}),
	"sigmoid":  unary(sigmoid),
	"softplus": unary(func(x float64) float64 { return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }),
	"min":      binary("min", func(a, b float64) float64 { return min(a, b) }),
	"max":      binary("max", func(a, b float64) float64 { return max(a, b) }),
	"pow":      binary("pow", math.Pow),
	"leaky_relu": {2, func(in *interp, pos parser.Pos, a []Tensor) Tensor {
		if len(a[1].Shape) != 0 {
			fail(pos, "leaky_relu needs a scalar slope, got %v", a[1].Shape)
		}
		slope := a[1].Data[0]
		return mapT(a[0], func(x float64) float64 {
			if x > 0 {
				return x
			}
			return slope * x
		})
	}},
	"dot": {2, func(in *interp, pos parser.Pos, a []Tensor) Tensor {
		if !sameShape(a[0].Shape, a[1].Shape) {
			fail(pos, "dot needs one shape, got %v and %v", a[0].Shape, a[1].Shape)
		}
		return scalar(dotData(a[0].Data, a[1].Data))
	}},
	"mse": {2, func(in *interp, pos parser.Pos, a []Tensor) Tensor {
		d := in.elementwise(pos, "mse", a[0], a[1], func(x, y float64) float64 { return (x - y) * (x - y) })
		return scalar(sumData(d.Data) / float64(len(d.Data)))
	}},
	"transpose": {1, func(_ *interp, pos parser.Pos, a []Tensor) Tensor {
		if len(a[0].Shape) != 2 {
			fail(pos, "transpose needs a matrix, got %v", a[0].Shape)
		}
		m, n := a[0].Shape[0], a[0].Shape[1]
		out := Tensor{Shape: []int{n, m}, Data: make([]float64, m*n)}
		for i := range m {
			for j := range n {
				out.Data[j*m+i] = a[0].Data[i*n+j]
			}
		}
		return out
	}},
	"stop_gradient": {1, func(_ *interp, _ parser.Pos, a []Tensor) Tensor { return a[0].clone() }},

	"cosh":     unary(math.Cosh),
	"sinh":     unary(math.Sinh),
	"asin":     unary(math.Asin),
	"acos":     unary(math.Acos),
	"expm1":    unary(math.Expm1),
	"log2":     unary(math.Log2),
	"log10":    unary(math.Log10),
	"square":   unary(func(x float64) float64 { return x * x }),
	"rsqrt":    unary(func(x float64) float64 { return 1 / math.Sqrt(x) }),
	"gelu":     unary(func(x float64) float64 { return x * normCDF(x) }),
	"silu":     unary(func(x float64) float64 { return x * sigmoid(x) }),
	"softsign": unary(func(x float64) float64 { return x / (1 + math.Abs(x)) }),
	"elu":      {2, elu},
	"clip":     {3, clip},
	"huber":    {3, huber},
	"bce_with_logits": {2, func(in *interp, pos parser.Pos, a []Tensor) Tensor {
		l := in.elementwise(pos, "bce_with_logits", a[0], a[1], func(x, t float64) float64 {
			return max(x, 0) - x*t + math.Log1p(math.Exp(-math.Abs(x)))
		})
		return scalar(sumData(l.Data))
	}},
}

func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

func elu(in *interp, pos parser.Pos, a []Tensor) Tensor {
	if len(a[1].Shape) != 0 {
		fail(pos, "elu needs a scalar alpha, got %v", a[1].Shape)
	}
	alpha := a[1].Data[0]
	return mapT(a[0], func(x float64) float64 {
		if x > 0 {
			return x
		}
		return alpha * math.Expm1(x)
	})
}

// clip is min(max(x, lo), hi): hi where lo > hi, as PyTorch's clamp.
func clip(in *interp, pos parser.Pos, a []Tensor) Tensor {
	in.elementwise(pos, "clip", a[1], a[2], func(lo, hi float64) float64 { return 0 }) // shapes
	above := in.elementwise(pos, "clip", a[0], a[1], func(x, lo float64) float64 {
		if x < lo {
			return lo
		}
		return x
	})
	return in.elementwise(pos, "clip", above, a[2], func(x, hi float64) float64 {
		if x > hi {
			return hi
		}
		return x
	})
}

// huber is PyTorch's HuberLoss(reduction='none', delta).
func huber(in *interp, pos parser.Pos, a []Tensor) Tensor {
	if len(a[2].Shape) != 0 {
		fail(pos, "huber needs a scalar delta, got %v", a[2].Shape)
	}
	delta := a[2].Data[0]
	return in.elementwise(pos, "huber", a[0], a[1], func(x, y float64) float64 {
		r := math.Abs(x - y)
		if r < delta {
			return 0.5 * r * r
		}
		return delta * (r - 0.5*delta)
	})
}

// sigmoid is 1/(1+e⁻ˣ) in the form that cannot overflow for either sign.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
