package symbolic

import (
	"fmt"
	"math"
	"slices"
)

// Layers: convolutions, pooling, flattening and layer normalization. They
// are compositions of ops, so their derivatives and batched forms follow
// from the ops' rules, and two ops make the windows they slide:
//
//   - window, a view: element o of window(x) is element s of x where, for
//     each axis a of x, s[a] = offset + Σ o[b]·stride over the terms
//     (b, stride) of axis a. A convolution's input [C, H, W] becomes its
//     patches [C, OH, OW, KH, KW] (s[1] = oh·stride + kh); a crop (the
//     adjoint of padding) is a window with offsets.
//   - unwindow, its adjoint: zero but for the elements a window reads, to
//     which the values it read are added (overlapping windows add up).
//     Zero padding is the unwindow of a crop, and flattening [C, H, W]
//     into a vector the unwindow of the window that reads the vector as
//     [C, H, W] (s[0] = c·HW + h·W + w).
//
// A convolution is then a sum over the channels and the kernel of the
// patches times the kernel, a reducesum of the product of two expands.
// Its derivative is the same kind of sum for the kernel, and for the
// input the unwindow of the patches' adjoint, added element by element
// into the (padded) input's gradient. The patches are laid out [C, K...,
// O...] (convPatches), so that each of the three sums is one matrix
// product of tensors as they lie in memory, which generated code calls a
// kernel for (codegen/conv.go), or for a small one computes output
// element by output element, in loops whose bounds are the model's
// constants: either way its size does not grow with the image.
var opWindow, opUnwindow *Op

// windowAxis is how a window reads one axis of its argument: at offset +
// Σ o[terms[i].axis]·terms[i].stride.
type windowAxis struct {
	offset int
	terms  []windowTerm
}

type windowTerm struct{ axis, stride int }

func layerOps() {
	opWindow = &Op{Code: OpWindow, Name: "window", Kind: View, Arity: 1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Unwindow(d, n.Ints, n.Args[0].Shape) }}
	opUnwindow = &Op{Code: OpUnwindow, Name: "unwindow", Kind: ScatterAdd, Arity: 1,
		Deriv: func(g *Graph, n, d *Node, i int) *Node { return g.Window(d, n.Ints, n.Args[0].Shape) }}
	register(opWindow)
	register(opUnwindow)
}

// windowSpec decodes the Ints of a window or unwindow: per axis of the
// larger tensor (the window's argument, the unwindow's result), the
// offset, the number of terms, and each term's axis and stride.
func windowSpec(ints []int) []windowAxis {
	var out []windowAxis
	for len(ints) > 0 {
		w := windowAxis{offset: ints[0]}
		k := ints[1]
		for i := range k {
			w.terms = append(w.terms, windowTerm{ints[2+2*i], ints[3+2*i]})
		}
		out = append(out, w)
		ints = ints[2+2*k:]
	}
	return out
}

func encodeWindow(spec []windowAxis) []int {
	var ints []int
	for _, w := range spec {
		ints = append(ints, w.offset, len(w.terms))
		for _, t := range w.terms {
			ints = append(ints, t.axis, t.stride)
		}
	}
	return ints
}

// WindowTerm is one term of an index a window computes: the window's
// axis Axis times Stride.
type WindowTerm struct{ Axis, Stride int }

// WindowSpec is windowSpec for code generation: for each axis of the
// large tensor, the offset and terms of its index.
func WindowSpec(n *Node) (offsets []int, terms [][]WindowTerm) {
	for _, w := range windowSpec(n.Ints) {
		offsets = append(offsets, w.offset)
		var ts []WindowTerm
		for _, t := range w.terms {
			ts = append(ts, WindowTerm{t.axis, t.stride})
		}
		terms = append(terms, ts)
	}
	return
}

// checkWindow panics unless spec reads only inside big from every element
// of small.
func checkWindow(spec []int, small, big Shape) {
	ws := windowSpec(spec)
	if len(ws) != len(big) {
		panic(fmt.Sprintf("window: spec %v for %v and %v", spec, small, big))
	}
	for a, w := range ws {
		hi := w.offset
		for _, t := range w.terms {
			if t.axis < 0 || t.axis >= len(small) || t.stride < 1 {
				panic(fmt.Sprintf("window: spec %v for %v and %v", spec, small, big))
			}
			hi += (small[t.axis] - 1) * t.stride
		}
		if w.offset < 0 || hi >= big[a] {
			panic(fmt.Sprintf("window: spec %v reads outside %v for %v", spec, big, small))
		}
	}
}

// Window is the window of x of the given shape that spec (encoded
// windowAxis values, one per axis of x) reads.
func (g *Graph) Window(x *Node, spec []int, shape Shape) *Node {
	checkWindow(spec, shape, x.Shape)
	if v, ok := x.Constant(); ok {
		return g.Broadcast(g.Const(v), shape)
	}
	return g.node(opWindow, []*Node{x}, slices.Clone(shape), 0, slices.Clone(spec), nil)
}

// Unwindow is the tensor of the given shape, zero but for the elements a
// Window with spec reads, to which x's elements are added.
func (g *Graph) Unwindow(x *Node, spec []int, shape Shape) *Node {
	checkWindow(spec, x.Shape, shape)
	return g.node(opUnwindow, []*Node{x}, slices.Clone(shape), 0, slices.Clone(spec), nil)
}

// WindowReadsOnce reports whether a window reads each element of its
// argument at most once: every axis of the window is a term of one index,
// and the terms of each index, by increasing stride, step over all the
// positions the smaller ones reach (as c·HW + h·W + w does, and oh·2 + kh
// for a kernel of 2 does, but oh + kh does not).
func WindowReadsOnce(n *Node) bool {
	used := make([]int, len(n.Shape))
	for _, w := range windowSpec(n.Ints) {
		ts := slices.Clone(w.terms)
		slices.SortFunc(ts, func(a, b windowTerm) int { return a.stride - b.stride })
		reach := 0
		for _, t := range ts {
			if t.stride <= reach {
				return false
			}
			reach += (n.Shape[t.axis] - 1) * t.stride
			used[t.axis]++
		}
	}
	for a, u := range used {
		if u != 1 && n.Shape[a] > 1 {
			return false
		}
	}
	return true
}

// windowSource is the index into the large tensor of element o of the
// window.
func windowSource(spec []windowAxis, o []int, src []int) {
	for a, w := range spec {
		s := w.offset
		for _, t := range w.terms {
			s += o[t.axis] * t.stride
		}
		src[a] = s
	}
}

// evalWindow and evalUnwindow are the interpreter's forms.
func (ev *evaluator) evalWindow(n *Node, x []float64) []float64 {
	spec := windowSpec(n.Ints)
	out := make([]float64, n.Shape.Size())
	src := make([]int, len(spec))
	for i := range out {
		windowSource(spec, unravel(i, n.Shape), src)
		out[i] = x[ravel(src, n.Args[0].Shape)]
	}
	return out
}

func (ev *evaluator) evalUnwindow(n *Node, f *frame) []float64 {
	x := ev.value(n.Args[0], f)
	spec := windowSpec(n.Ints)
	out := make([]float64, n.Shape.Size())
	src := make([]int, len(spec))
	for i, v := range x {
		windowSource(spec, unravel(i, n.Args[0].Shape), src)
		out[ravel(src, n.Shape)] += v
	}
	return out
}

// batchWindow is the batched form of a window or unwindow n whose tensor
// argument x has a sample axis, its last: the sample axis of both sides
// is read as it is.
func (bt *batcher) batchWindow(n *Node, x *Node) *Node {
	spec := windowSpec(n.Ints)
	small := n.Shape
	if n.Op == opUnwindow {
		small = n.Args[0].Shape
	}
	spec = append(spec, windowAxis{terms: []windowTerm{{len(small), 1}}})
	if n.Op == opWindow {
		return bt.g.Window(x, encodeWindow(spec), bt.tile(n.Shape))
	}
	return bt.g.Unwindow(x, encodeWindow(spec), bt.tile(n.Shape))
}

// axisTerm is the index of an axis read as it is.
func axisTerm(a int) []windowTerm { return []windowTerm{{a, 1}} }

// Pad surrounds the axes of x from axis first on with pad zeros on each
// side.
func (g *Graph) Pad(x *Node, first, pad int) *Node {
	if pad == 0 {
		return x
	}
	shape := slices.Clone(x.Shape)
	spec := make([]windowAxis, len(shape))
	for a := range shape {
		spec[a] = windowAxis{terms: axisTerm(a)}
		if a >= first {
			shape[a] += 2 * pad
			spec[a].offset = pad
		}
	}
	return g.Unwindow(x, encodeWindow(spec), shape)
}

// Flatten is x as a vector, in row-major order.
func (g *Graph) Flatten(x *Node) *Node {
	if len(x.Shape) <= 1 {
		return x
	}
	var terms []windowTerm
	stride := 1
	for a := len(x.Shape) - 1; a >= 0; a-- {
		terms = append(terms, windowTerm{a, stride})
		stride *= x.Shape[a]
	}
	return g.Unwindow(x, encodeWindow([]windowAxis{{terms: terms}}), Shape{x.Shape.Size()})
}

// Reshape is x with the given shape, of as many elements, read in
// row-major order: the window of flatten(x) that reads it as shape.
func (g *Graph) Reshape(x *Node, shape Shape) *Node {
	if x.Shape.Equal(shape) {
		return x
	}
	if len(x.Shape) == 0 { // into [1, 1, ...]
		return g.Unwindow(x, encodeWindow(make([]windowAxis, len(shape))), shape)
	}
	flat := g.Flatten(x)
	if len(shape) == 1 {
		return flat
	}
	var terms []windowTerm
	stride := 1
	for a := len(shape) - 1; a >= 0; a-- {
		terms = append(terms, windowTerm{a, stride})
		stride *= shape[a]
	}
	return g.Window(flat, encodeWindow([]windowAxis{{terms: terms}}), shape)
}

// Concat is a and b side by side along axis, their other axes equal: the
// sum of the unwindows of a at offset 0 and of b after it.
func (g *Graph) Concat(a, b *Node, axis int) *Node {
	shape := slices.Clone(a.Shape)
	shape[axis] += b.Shape[axis]
	place := func(x *Node, offset int) *Node {
		spec := make([]windowAxis, len(shape))
		for i := range spec {
			spec[i] = windowAxis{terms: axisTerm(i)}
		}
		spec[axis].offset = offset
		return g.Unwindow(x, encodeWindow(spec), shape)
	}
	return g.Add(place(a, 0), place(b, a.Shape[axis]))
}

// ConvOut is the length of a convolution's output along an axis of n
// elements, or 0 if the kernel does not fit.
func ConvOut(n, kernel, stride, pad int) int {
	if n+2*pad < kernel {
		return 0
	}
	return (n+2*pad-kernel)/stride + 1
}

// Patches is the window of x[C, S...] (one or two spatial axes S) that a
// kernel of the sizes k slides over with a stride: [C, O..., K...], O
// being the output positions.
func (g *Graph) Patches(x *Node, k []int, stride int) *Node {
	sd := len(k)
	shape := Shape{x.Shape[0]}
	spec := []windowAxis{{terms: axisTerm(0)}}
	for i := range sd {
		shape = append(shape, ConvOut(x.Shape[1+i], k[i], stride, 0))
		spec = append(spec, windowAxis{terms: []windowTerm{{1 + i, stride}, {1 + sd + i, 1}}})
	}
	shape = append(shape, k...)
	return g.Window(x, encodeWindow(spec), shape)
}

// convPatches is Patches with the kernel's axes before the output
// positions: [C, K..., O...], the layout of im2col. Row-major, it is the
// matrix [C·K..., O...] whose product with the kernels [F, C·K...] is the
// convolution, and in a batched graph, whose sample axis is last, the
// matrix [C·K..., O...·B]: codegen computes a convolution, its kernels'
// gradient and its input's as matrix-product kernels over it
// (codegen/conv.go) without moving an axis.
func (g *Graph) convPatches(x *Node, k []int, stride int) *Node {
	sd := len(k)
	shape := Shape{x.Shape[0]}
	spec := []windowAxis{{terms: axisTerm(0)}}
	for i := range sd {
		shape = append(shape, k[i])
	}
	for i := range sd {
		shape = append(shape, ConvOut(x.Shape[1+i], k[i], stride, 0))
		spec = append(spec, windowAxis{terms: []windowTerm{{1 + sd + i, stride}, {1 + i, 1}}})
	}
	return g.Window(x, encodeWindow(spec), shape)
}

// Conv is the convolution (cross-correlation, as PyTorch's conv1d and
// conv2d) of x[C, S...] with the kernels w[F, C, K...], zero-padded by pad
// on each side: y[f, o...] = Σ_{c, k...} w[f, c, k...]·x[c, o·stride + k...].
func (g *Graph) Conv(x, w *Node, stride, pad int) *Node {
	sd := len(x.Shape) - 1
	k := slices.Clone(w.Shape[2:])
	p := g.convPatches(g.Pad(x, 1, pad), k, stride) // [C, K..., O...]
	// The product over [F, C, K..., O...], summed over C and K: w's axes
	// are the first, p's the last.
	space := append(Shape{w.Shape[0]}, p.Shape...)
	pAxes := make([]int, len(p.Shape))
	for i := range pAxes {
		pAxes[i] = 1 + i
	}
	wAxes := []int{0, 1}
	keep := []int{0}
	for i := range sd {
		wAxes = append(wAxes, 2+i)
		keep = append(keep, 2+sd+i)
	}
	prod := g.Mul(g.Expand(p, space, pAxes), g.Expand(w, space, wAxes))
	return g.ReduceSum(prod, keep)
}

// Pool is the maximum (max) or the mean of each k×k block of x[C, H, W],
// the blocks side by side (stride k); rows and columns past the last
// whole block are left out. The maximum's gradient goes to the largest
// element of each block, shared equally by ties (amax).
func (g *Graph) Pool(x *Node, k int, max bool) *Node {
	p := g.Patches(x, []int{k, k}, k) // [C, OH, OW, k, k]
	keep := []int{0, 1, 2}
	if max {
		return g.AMax(p, keep)
	}
	return g.Div(g.ReduceSum(p, keep), g.Const(float64(k*k)))
}

// LayerNormEps is the ε of layer_norm: x̂ = (x − μ)/√(σ² + ε).
const LayerNormEps = 1e-5

// LayerNorm normalizes x along its last axis to mean 0 and variance 1
// (the biased variance, as PyTorch's layer_norm), then scales by gamma and
// shifts by beta, vectors of the last axis's size repeated along the
// others.
func (g *Graph) LayerNorm(x, gamma, beta *Node) *Node {
	last := len(x.Shape) - 1
	keep := otherAxes(len(x.Shape), last)
	n := g.Const(float64(x.Shape[last]))
	mean := g.Div(g.SumAxis(x, last), n)
	xc := g.Sub(x, g.Expand(mean, x.Shape, keep))
	variance := g.Div(g.SumAxis(g.Mul(xc, xc), last), n)
	r := g.Unary(opRsqrt, g.Add(variance, g.Const(LayerNormEps)))
	xhat := g.Mul(xc, g.Expand(r, x.Shape, keep))
	return g.Add(g.Mul(xhat, g.BroadcastTo(gamma, x.Shape)), g.BroadcastTo(beta, x.Shape))
}

// AttentionMasked is what a causal attention adds to the scores it
// masks: finite, so that no 0·∞ arises in the graph, and so large that
// the exponential of a masked score minus its row's maximum is exactly 0
// (for scores below 10³⁰⁰ in magnitude).
const AttentionMasked = -1e300

// CausalMask is the [T, S] matrix of 1 where j ≤ i and 0 above the
// diagonal, made from a tensor of ones: their unwindow at (p + q, q) into
// [T+S−1, S] is 1 where 0 ≤ r − c < T, and its top T rows are the mask.
func (g *Graph) CausalMask(t, s int) *Node {
	ones := g.Broadcast(g.Const(1), Shape{t, s})
	band := g.Unwindow(ones, encodeWindow([]windowAxis{
		{terms: []windowTerm{{0, 1}, {1, 1}}},
		{terms: axisTerm(1)},
	}), Shape{t + s - 1, s})
	return g.Window(band, encodeWindow([]windowAxis{{terms: axisTerm(0)}, {terms: axisTerm(1)}}), Shape{t, s})
}

// Attention is scaled dot-product attention, softmax(Q Kᵀ/√d) V row by
// row, of Q[T, d], K[S, d] and V[S, e] (PyTorch's
// scaled_dot_product_attention of one head, without a batch axis). With
// causal, the scores of the keys j > i of query i are replaced by
// AttentionMasked before the softmax, so their weights are 0 (PyTorch's
// is_causal, aligned at the top left).
func (g *Graph) Attention(q, k, v *Node, causal bool) *Node {
	scores := g.Mul(g.MatMul(q, g.Transpose(k)), g.Const(1/math.Sqrt(float64(q.Shape[1]))))
	if causal {
		t, s := scores.Shape[0], scores.Shape[1]
		m := g.CausalMask(t, s)
		scores = g.Add(scores, g.Mul(g.Sub(g.Const(1), m), g.Const(AttentionMasked)))
	}
	return g.MatMul(g.SoftmaxAxis(scores, 1), v)
}
