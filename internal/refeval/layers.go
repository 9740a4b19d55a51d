package refeval

import (
	"math"

	"github.com/backpropgen/backpropgen/parser"
)

// The built-in layers, computed directly from their definitions (loops
// over the output, bounds checked for the zero padding), not as package
// symbolic composes them. The table is made by init: evaluating a call,
// which its rows do, looks names up in it.
var layerBuiltins map[string]func(in *interp, e *env, c *parser.Call) Tensor

func init() {
	layerBuiltins = map[string]func(in *interp, e *env, c *parser.Call) Tensor{
		"flatten": func(in *interp, e *env, c *parser.Call) Tensor {
			args := in.layerArgs(e, c, 1, 0)
			x := args[0]
			return Tensor{Shape: []int{len(x.Data)}, Data: append([]float64(nil), x.Data...)}
		},
		"reshape": func(in *interp, e *env, c *parser.Call) Tensor {
			if len(c.Args) < 2 {
				fail(c.P, "reshape takes a tensor and dimensions")
			}
			x := in.tensor(e, c.Args[0])
			shape := in.dims(c.Args[1:])
			if size(shape) != len(x.Data) {
				fail(c.P, "reshape of %v to %v", x.Shape, shape)
			}
			return Tensor{Shape: shape, Data: append([]float64(nil), x.Data...)}
		},
		"concat": func(in *interp, e *env, c *parser.Call) Tensor {
			args := in.layerArgs(e, c, 2, 1)
			a, b := args[0], args[1]
			axis := in.constInt(c.Args[2])
			if axis < 0 {
				axis += len(a.Shape)
			}
			if len(a.Shape) != len(b.Shape) || axis < 0 || axis >= len(a.Shape) {
				fail(c.P, "concat of %v and %v along %d", a.Shape, b.Shape, axis)
			}
			for k := range a.Shape {
				if k != axis && a.Shape[k] != b.Shape[k] {
					fail(c.P, "concat of %v and %v along %d", a.Shape, b.Shape, axis)
				}
			}
			// Each is outer blocks of rows of inner elements: a's rows
			// then b's, block by block.
			outer := size(a.Shape[:axis])
			inner := size(a.Shape[axis+1:])
			shape := append([]int{}, a.Shape...)
			shape[axis] += b.Shape[axis]
			out := Tensor{Shape: shape}
			for o := range outer {
				na, nb := a.Shape[axis]*inner, b.Shape[axis]*inner
				out.Data = append(out.Data, a.Data[o*na:(o+1)*na]...)
				out.Data = append(out.Data, b.Data[o*nb:(o+1)*nb]...)
			}
			return out
		},
		"conv1d": func(in *interp, e *env, c *parser.Call) Tensor {
			args := in.layerArgs(e, c, 2, 2)
			x, w := args[0], args[1]
			if len(x.Shape) != 2 || len(w.Shape) != 3 {
				fail(c.P, "conv1d of %v and %v", x.Shape, w.Shape)
			}
			stride, pad := in.constInt(c.Args[2]), in.constInt(c.Args[3])
			// As conv2d of a [C, 1, L] input with [F, C, 1, K] kernels, padded
			// along the length only.
			y := conv2d(c.P, Tensor{Shape: []int{x.Shape[0], 1, x.Shape[1]}, Data: x.Data},
				Tensor{Shape: []int{w.Shape[0], w.Shape[1], 1, w.Shape[2]}, Data: w.Data}, stride, 0, pad)
			return Tensor{Shape: []int{y.Shape[0], y.Shape[2]}, Data: y.Data}
		},
		"conv2d": func(in *interp, e *env, c *parser.Call) Tensor {
			args := in.layerArgs(e, c, 2, 2)
			if len(args[0].Shape) != 3 || len(args[1].Shape) != 4 {
				fail(c.P, "conv2d of %v and %v", args[0].Shape, args[1].Shape)
			}
			pad := in.constInt(c.Args[3])
			return conv2d(c.P, args[0], args[1], in.constInt(c.Args[2]), pad, pad)
		},
		"max_pool2d": func(in *interp, e *env, c *parser.Call) Tensor {
			return pool(c, in.layerArgs(e, c, 1, 1)[0], in.constInt(c.Args[1]), maxData)
		},
		"avg_pool2d": func(in *interp, e *env, c *parser.Call) Tensor {
			return pool(c, in.layerArgs(e, c, 1, 1)[0], in.constInt(c.Args[1]), func(v []float64) float64 {
				return sumData(v) / float64(len(v))
			})
		},
		"layer_norm": func(in *interp, e *env, c *parser.Call) Tensor {
			args := in.layerArgs(e, c, 3, 0)
			x, gamma, beta := args[0], args[1], args[2]
			if len(x.Shape) == 0 {
				fail(c.P, "layer_norm of a scalar")
			}
			n := x.Shape[len(x.Shape)-1]
			if len(gamma.Shape) != 1 || gamma.Shape[0] != n || len(beta.Shape) != 1 || beta.Shape[0] != n {
				fail(c.P, "layer_norm of %v with %v and %v", x.Shape, gamma.Shape, beta.Shape)
			}
			out := Tensor{Shape: x.Shape, Data: make([]float64, len(x.Data))}
			for r := 0; r < len(x.Data); r += n {
				row := x.Data[r : r+n]
				mean := sumData(row) / float64(n)
				v := 0.0
				for _, a := range row {
					v += (a - mean) * (a - mean)
				}
				v /= float64(n)
				for i, a := range row {
					out.Data[r+i] = (a-mean)/math.Sqrt(v+1e-5)*gamma.Data[i] + beta.Data[i]
				}
			}
			return out
		},
		"attention": func(in *interp, e *env, c *parser.Call) Tensor {
			causal := false
			nints := 0
			if len(c.Args) == 4 {
				nints = 1
				switch in.constInt(c.Args[3]) {
				case 0:
				case 1:
					causal = true
				default:
					fail(c.Args[3].Pos(), "attention's causal flag is 0 or 1")
				}
			}
			args := in.layerArgs(e, c, 3, nints)
			return attention(c.P, args[0], args[1], args[2], causal)
		},
	}
}

// attention is softmax(Q Kᵀ/√d) V row by row, of Q[T, d], K[S, d],
// V[S, e]; with causal, the keys j > i of query i are left out of its
// softmax (their scores are −∞).
func attention(pos parser.Pos, q, k, v Tensor, causal bool) Tensor {
	if len(q.Shape) != 2 || len(k.Shape) != 2 || len(v.Shape) != 2 || k.Shape[1] != q.Shape[1] || v.Shape[0] != k.Shape[0] {
		fail(pos, "attention of %v, %v and %v", q.Shape, k.Shape, v.Shape)
	}
	T, S, d, E := q.Shape[0], k.Shape[0], q.Shape[1], v.Shape[1]
	out := Tensor{Shape: []int{T, E}, Data: make([]float64, T*E)}
	scores := make([]float64, S)
	for i := range T {
		n := S
		if causal {
			n = min(i+1, S)
		}
		m := math.Inf(-1)
		for j := range n {
			s := 0.0
			for a := range d {
				s += q.Data[i*d+a] * k.Data[j*d+a]
			}
			scores[j] = s / math.Sqrt(float64(d))
			m = math.Max(m, scores[j])
		}
		total := 0.0
		for j := range n {
			scores[j] = math.Exp(scores[j] - m)
			total += scores[j]
		}
		for j := range n {
			w := scores[j] / total
			for b := range E {
				out.Data[i*E+b] += w * v.Data[j*E+b]
			}
		}
	}
	return out
}

// layerArgs evaluates a layer's values, the first nvals arguments, after
// checking that it has nints integer constants after them.
func (in *interp) layerArgs(e *env, c *parser.Call, nvals, nints int) []Tensor {
	if len(c.Args) != nvals+nints {
		fail(c.P, "%s takes %d arguments, got %d", c.Fun.Name, nvals+nints, len(c.Args))
	}
	out := make([]Tensor, nvals)
	for i := range nvals {
		out[i] = in.tensor(e, c.Args[i])
	}
	return out
}

// conv2d is y[f, i, j] = Σ w[f, c, a, b]·x[c, i·stride + a − padH, j·stride
// + b − padW], x being 0 outside its bounds.
func conv2d(pos parser.Pos, x, w Tensor, stride, padH, padW int) Tensor {
	C, H, W := x.Shape[0], x.Shape[1], x.Shape[2]
	F, KH, KW := w.Shape[0], w.Shape[2], w.Shape[3]
	if w.Shape[1] != C || stride < 1 || padH < 0 || padW < 0 || H+2*padH < KH || W+2*padW < KW {
		fail(pos, "conv of %v with %v, stride %d, padding %d, %d", x.Shape, w.Shape, stride, padH, padW)
	}
	OH, OW := (H+2*padH-KH)/stride+1, (W+2*padW-KW)/stride+1
	y := Tensor{Shape: []int{F, OH, OW}, Data: make([]float64, F*OH*OW)}
	for f := range F {
		for i := range OH {
			for j := range OW {
				s := 0.0
				for c := range C {
					for a := range KH {
						for b := range KW {
							r, q := i*stride+a-padH, j*stride+b-padW
							if r < 0 || r >= H || q < 0 || q >= W {
								continue
							}
							s += w.Data[((f*C+c)*KH+a)*KW+b] * x.Data[(c*H+r)*W+q]
						}
					}
				}
				y.Data[(f*OH+i)*OW+j] = s
			}
		}
	}
	return y
}

// pool applies reduce to each k×k block of x[C, H, W], stride k.
func pool(c *parser.Call, x Tensor, k int, reduce func(v []float64) float64) Tensor {
	if len(x.Shape) != 3 || k < 1 || k > x.Shape[1] || k > x.Shape[2] {
		fail(c.P, "%s of %v with window %d", c.Fun.Name, x.Shape, k)
	}
	C, H, W := x.Shape[0], x.Shape[1], x.Shape[2]
	OH, OW := H/k, W/k
	out := Tensor{Shape: []int{C, OH, OW}, Data: make([]float64, C*OH*OW)}
	block := make([]float64, 0, k*k)
	for ch := range C {
		for i := range OH {
			for j := range OW {
				block = block[:0]
				for a := range k {
					for b := range k {
						block = append(block, x.Data[(ch*H+i*k+a)*W+j*k+b])
					}
				}
				out.Data[(ch*OH+i)*OW+j] = reduce(block)
			}
		}
	}
	return out
}
