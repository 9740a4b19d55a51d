package refeval

import (
	"math"

	"github.com/backpropgen/backpropgen/parser"
)

func scalar(v float64) Tensor { return Tensor{Shape: []int{}, Data: []float64{v}} }

func full(shape []int, v float64) Tensor {
	t := Tensor{Shape: shape, Data: make([]float64, size(shape))}
	for i := range t.Data {
		t.Data[i] = v
	}
	return t
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (t Tensor) clone() Tensor {
	return Tensor{Shape: append([]int{}, t.Shape...), Data: append([]float64(nil), t.Data...)}
}

func mapT(a Tensor, f func(float64) float64) Tensor {
	out := Tensor{Shape: a.Shape, Data: make([]float64, len(a.Data))}
	for i, v := range a.Data {
		out.Data[i] = f(v)
	}
	return out
}

// elementwise applies f to a and b of one shape, or with one a scalar, or
// with the shape of one the trailing axes of the other's: the smaller is
// repeated (over the other, or along its leading axes).
func (in *interp) elementwise(pos parser.Pos, op string, a, b Tensor, f func(x, y float64) float64) Tensor {
	shape := a.Shape
	if len(b.Shape) > len(a.Shape) {
		shape = b.Shape
	}
	for _, t := range []Tensor{a, b} {
		lead := len(shape) - len(t.Shape)
		if len(t.Shape) > 0 && !sameShape(t.Shape, shape[lead:]) {
			fail(pos, "%s: shapes %v and %v", op, a.Shape, b.Shape)
		}
	}
	out := Tensor{Shape: shape, Data: make([]float64, size(shape))}
	for i := range out.Data {
		out.Data[i] = f(at(a, i), at(b, i))
	}
	return out
}

// at is element i (row-major) of a tensor that t is repeated into: t's
// only element if it is a scalar, else element i modulo t's size, since t
// is the trailing axes of that tensor.
func at(t Tensor, i int) float64 {
	return t.Data[i%len(t.Data)]
}

// matmul is a @ b: matrix·vector, vector·matrix, matrix·matrix, or the dot
// product of two vectors.
func matmul(pos parser.Pos, a, b Tensor) Tensor {
	switch {
	case len(a.Shape) == 1 && len(b.Shape) == 1 && a.Shape[0] == b.Shape[0]:
		return scalar(dotData(a.Data, b.Data))
	case len(a.Shape) == 2 && len(b.Shape) == 1 && a.Shape[1] == b.Shape[0]:
		m, k := a.Shape[0], a.Shape[1]
		out := Tensor{Shape: []int{m}, Data: make([]float64, m)}
		for i := range m {
			out.Data[i] = dotData(a.Data[i*k:(i+1)*k], b.Data)
		}
		return out
	case len(a.Shape) == 1 && len(b.Shape) == 2 && a.Shape[0] == b.Shape[0]:
		k, n := b.Shape[0], b.Shape[1]
		out := Tensor{Shape: []int{n}, Data: make([]float64, n)}
		for j := range n {
			s := 0.0
			for p := range k {
				s += a.Data[p] * b.Data[p*n+j]
			}
			out.Data[j] = s
		}
		return out
	case len(a.Shape) == 2 && len(b.Shape) == 2 && a.Shape[1] == b.Shape[0]:
		m, k, n := a.Shape[0], a.Shape[1], b.Shape[1]
		out := Tensor{Shape: []int{m, n}, Data: make([]float64, m*n)}
		for i := range m {
			for j := range n {
				s := 0.0
				for p := range k {
					s += a.Data[i*k+p] * b.Data[p*n+j]
				}
				out.Data[i*n+j] = s
			}
		}
		return out
	}
	fail(pos, "cannot multiply %v by %v", a.Shape, b.Shape)
	return Tensor{}
}

func dotData(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func sumData(a []float64) float64 {
	s := 0.0
	for _, v := range a {
		s += v
	}
	return s
}

// logSumExp is log Σ e^v, as m + log Σ e^(v−m) with m = max v.
func logSumExp(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, x)
	}
	if math.IsInf(m, 0) {
		return m // all -Inf, or some +Inf: the sum is e^m
	}
	s := 0.0
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}
