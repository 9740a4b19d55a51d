package symbolic

import (
	"fmt"
	"slices"
)

// Positions that move with a loop, and whole tensors of integers as
// indices.
//
//   - shift is a position: the loop variable (or another position) plus a
//     constant, Ints[0]. xs[t-1] is index(xs; shift(t; -1)). A shift is
//     only ever a position: codegen prints it as t-1 inside an index,
//     never as a value of its own.
//   - slide is a slice whose bounds move with a loop: x[t-3:t] is
//     slide(x, shift(t; -3)) of length 3 along its axis (Ints = [axis,
//     length]): a view reading x at the position plus the element's own
//     index along that axis. Its adjoint unslide adds its argument into
//     those rows of a tensor of x's shape, so that a loop accumulates the
//     gradient of x in x's shape, a window's rows at a time.
//   - gather is x[idx] for a tensor idx of integer inputs: the rows of x
//     that the integers pick, in their order, [idx..., x's other axes...].
//     Its adjoint ungather adds each row of its argument into the row its
//     integer picks (a row picked twice gets both). In a batched graph idx
//     has the sample axis last; Ints = [sampled, own]: sampled says idx
//     (and the result) has a sample axis, own that x has one too, its
//     last, read at the same sample.
var opShift, opGather, opUngather, opSlide, opUnslide *Op

func gatherOps() {
	opShift = &Op{Code: OpShift, Name: "shift", Kind: View, Arity: 1}
	opGather = &Op{Code: OpGather, Name: "gather", Kind: View, Arity: 2,
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			return g.Ungather(d, n.Args[1], n.Ints, n.Args[0].Shape)
		}}
	opUngather = &Op{Code: OpUngather, Name: "ungather", Kind: ScatterAdd, Arity: 2,
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			return g.Gather(d, n.Args[1], n.Ints)
		}}
	opSlide = &Op{Code: OpSlide, Name: "slide", Kind: View, Arity: 2,
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			return g.Unslide(d, n.Args[1], n.Ints[0], n.Args[0].Shape)
		}}
	opUnslide = &Op{Code: OpUnslide, Name: "unslide", Kind: ScatterAdd, Arity: 2,
		Deriv: func(g *Graph, n, d *Node, i int) *Node {
			return g.Slide(d, n.Args[1], n.Ints[0], n.Ints[1])
		}}
	for _, op := range []*Op{opShift, opGather, opUngather, opSlide, opUnslide} {
		register(op)
	}
}

// Shift is the position p + c (p a loop variable).
func (g *Graph) Shift(p *Node, c int) *Node {
	if c == 0 {
		return p
	}
	if p.Op == opShift {
		return g.Shift(p.Args[0], p.Ints[0]+c)
	}
	return g.node(opShift, []*Node{p}, nil, 0, []int{c}, nil)
}

// ShiftOf returns the position a shift moves and by how much: p and 0
// for any other position.
func ShiftOf(p *Node) (*Node, int) {
	if p.Op == opShift {
		return p.Args[0], p.Ints[0]
	}
	return p, 0
}

// Slide is the n elements of x along axis from position p on (a loop
// variable plus a constant), the other axes whole.
func (g *Graph) Slide(x, p *Node, axis, n int) *Node {
	shape := slices.Clone(x.Shape)
	shape[axis] = n
	if v, ok := x.Constant(); ok {
		return g.Broadcast(g.Const(v), shape)
	}
	return g.node(opSlide, []*Node{x, p}, shape, 0, []int{axis, n}, nil)
}

// Unslide is the tensor of the given shape, zero but for the elements
// Slide(result, p, axis, ...) reads, to which x's are added.
func (g *Graph) Unslide(x, p *Node, axis int, shape Shape) *Node {
	return g.node(opUnslide, []*Node{x, p}, slices.Clone(shape), 0, []int{axis, x.Shape[axis]}, nil)
}

// evalSlide and evalUnslide are the interpreter's forms: element o of
// the slide reads element o of x, moved along the axis by the position.
func (ev *evaluator) evalSlide(n *Node, x []float64, f *frame) []float64 {
	p, axis := int(ev.value(n.Args[1], f)[0]), n.Ints[0]
	out := make([]float64, n.Shape.Size())
	for i := range out {
		o := unravel(i, n.Shape)
		o[axis] += p
		if o[axis] < 0 || o[axis] >= n.Args[0].Shape[axis] {
			panic(fmt.Sprintf("slide: position %d is outside dimension %d of %v", o[axis], axis+1, n.Args[0].Shape))
		}
		out[i] = x[ravel(o, n.Args[0].Shape)]
	}
	return out
}

func (ev *evaluator) evalUnslide(n *Node, f *frame) []float64 {
	d := ev.value(n.Args[0], f)
	p, axis := int(ev.value(n.Args[1], f)[0]), n.Ints[0]
	out := make([]float64, n.Shape.Size())
	for i, v := range d {
		o := unravel(i, n.Args[0].Shape)
		o[axis] += p
		out[ravel(o, n.Shape)] += v
	}
	return out
}

// SlideAxis is the axis a slide or unslide moves along.
func SlideAxis(n *Node) int { return n.Ints[0] }

// gatherInts decodes the Ints of a gather or ungather.
func gatherInts(ints []int) (sampled, own bool) { return ints[0] == 1, ints[1] == 1 }

// GatherInts is gatherInts for code generation.
func GatherInts(n *Node) (sampled, own bool) { return gatherInts(n.Ints) }

// gatherShape is the shape of the gather of x (of shape xs) by idx.
func gatherShape(xs, idx Shape, ints []int) Shape {
	sampled, own := gatherInts(ints)
	if !sampled {
		return append(slices.Clone(idx), xs[1:]...)
	}
	rows := idx[:len(idx)-1]
	rest := xs[1:]
	if own {
		rest = rest[:len(rest)-1]
	}
	return append(append(slices.Clone(rows), rest...), idx[len(idx)-1])
}

// Gather is x's rows picked by the integer tensor idx (an integer input's
// leaf), ints being [sampled, own].
func (g *Graph) Gather(x, idx *Node, ints []int) *Node {
	shape := gatherShape(x.Shape, idx.Shape, ints)
	if v, ok := x.Constant(); ok {
		return g.Broadcast(g.Const(v), shape)
	}
	return g.node(opGather, []*Node{x, idx}, shape, 0, slices.Clone(ints), nil)
}

// Ungather is the tensor of the given shape, zero but for the rows the
// gather by idx picks, to which the rows of x are added.
func (g *Graph) Ungather(x, idx *Node, ints []int, shape Shape) *Node {
	if !gatherShape(shape, idx.Shape, ints).Equal(x.Shape) {
		panic(fmt.Sprintf("ungather: %v by %v into %v", x.Shape, idx.Shape, shape))
	}
	return g.node(opUngather, []*Node{x, idx}, slices.Clone(shape), 0, slices.Clone(ints), nil)
}

// gatherRows calls visit with, for each row r of the gather's result (of
// shape out; its rows are the gathered sub-tensors, one per sample and
// integer), the flat offset of the row's first element in the result,
// the offset of the row it reads in x (of shape xs), the number of
// elements in a row, and the stride between them in both (the sample
// count when the result has a sample axis, else 1).
func (ev *evaluator) gatherRows(n *Node, xs, out Shape, f *frame, visit func(o, src, size, stride int, own bool)) {
	idx := ev.value(n.Args[1], f)
	sampled, own := gatherInts(n.Ints)
	if !sampled {
		size := Shape(xs[1:]).Size()
		for r, v := range idx {
			i := int(v)
			if float64(i) != v || i < 0 || i >= xs[0] {
				panic(fmt.Sprintf("gather: index %v is outside dimension 1 of %v", v, xs))
			}
			visit(r*size, i*size, size, 1, false)
		}
		return
	}
	b := out[len(out)-1]
	rowSize := Shape(out[len(n.Args[1].Shape)-1:]).Size() / b // elements of one sample's row
	for k, v := range idx {
		r, s := k/b, k%b
		i := int(v)
		if float64(i) != v || i < 0 || i >= xs[0] {
			panic(fmt.Sprintf("gather: index %v is outside dimension 1 of %v", v, xs))
		}
		src := i * rowSize
		if own {
			src = i * rowSize * b
		}
		visit(r*rowSize*b+s, src+s*flag(own), rowSize, b, own)
	}
}

// evalGather and evalUngather are the interpreter's forms.
func (ev *evaluator) evalGather(n *Node, x []float64, f *frame) []float64 {
	out := make([]float64, n.Shape.Size())
	ev.gatherRows(n, n.Args[0].Shape, n.Shape, f, func(o, src, size, stride int, own bool) {
		xStride := 1
		if own {
			xStride = stride
		}
		for j := range size {
			out[o+j*stride] = x[src+j*xStride]
		}
	})
	return out
}

func (ev *evaluator) evalUngather(n *Node, f *frame) []float64 {
	d := ev.value(n.Args[0], f)
	out := make([]float64, n.Shape.Size())
	ev.gatherRows(n, n.Shape, n.Args[0].Shape, f, func(o, src, size, stride int, own bool) {
		xStride := 1
		if own {
			xStride = stride
		}
		for j := range size {
			out[src+j*xStride] += d[o+j*stride]
		}
	})
	return out
}

// batchGather is the batched form of gather n: idx has a sample axis, and
// x (args[0]) has one if batched.
func (bt *batcher) batchGather(n *Node, args []*Node, ab []bool) *Node {
	if !ab[1] {
		panic("batch: gather by integers without a sample axis")
	}
	return bt.g.Gather(args[0], args[1], []int{1, flag(ab[0])})
}
