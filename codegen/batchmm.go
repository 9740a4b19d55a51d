package codegen

import (
	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// The batched graphs' products of a shared matrix and the samples' matrices
// (symbolic/batchmm.go's bmatmul): a kernel call for each matrix of the
// stack, or one call without a stack, each reading its operands where they
// are stored, the trailing axes of a tensor flattened into one matrix
// dimension. A stack summed (a shared weight's gradient over the rows of
// the samples) is one accumulating call per matrix, the first of which
// writes when the destination is set rather than added to. Small ones,
// and the layouts no kernel takes (both operands transposed), are loops
// like any matrix product's.

// bmmCallMin is the smallest kernel call of a stack, in multiply-adds:
// below it, the loops (whose sizes are constants) cost less than the
// calls' set-up and edge handling. The whole product must reach gemmMin
// as well.
const bmmCallMin = 1024

// bmmKernel is the kernel of a bmatmul's layout, if there is one.
func bmmKernel(form symbolic.BMatMulForm) (string, bool) {
	switch {
	case !form.TransA && !form.TransB:
		return "GemmNN", true
	case !form.TransA:
		return "GemmNT", true
	case !form.TransB:
		return "GemmTN", true
	}
	return "", false
}

// bigBMatMul reports whether n is a bmatmul computed by kernel calls (if
// its operands are stored: bmmOf), which needs a variable of its own.
func bigBMatMul(n *symbolic.Node) bool {
	if n.Op.Code != symbolic.OpBMatMul {
		return false
	}
	form := symbolic.BMatMulOf(n)
	_, ok := bmmKernel(form)
	call := form.M * form.N * form.K
	return ok && call >= bmmCallMin && form.P*call >= gemmMin
}

// bmmOf reports whether n is a bmatmul that emitBMM computes with kernel
// calls: big enough, and with both operands in workspace or parameter
// fields (a local array passed to a func variable escapes).
func (f *fnGen) bmmOf(n *symbolic.Node) bool {
	if f.wsAlloc == nil || !bigBMatMul(n) {
		return false
	}
	pa, okA := f.operand(n.Args[0])
	pb, okB := f.operand(n.Args[1])
	return okA && okB && len(pa.path) > 1 && len(pb.path) > 1
}

// emitBMM writes the bmatmul n into d with kernel calls, one per matrix of
// its stack.
func (f *fnGen) emitBMM(n *symbolic.Node, d dest) {
	form := symbolic.BMatMulOf(n)
	kernel, _ := bmmKernel(form)
	a, b := n.Args[0], n.Args[1]
	pa, _ := f.operand(a)
	pb, _ := f.operand(b)
	if d.op == "+=" {
		f.tally(read, d.p.base())
	}
	stackC := form.StackA != form.StackB
	call := func(p ix) jen.Code {
		// The first element of the matrix p of x (of every p if x is
		// shared), from which the kernel reads size numbers.
		first := func(x *symbolic.Node, stack bool) []ix {
			var idx []ix
			if stack {
				idx = append(idx, p)
			}
			for len(idx) < len(x.Shape) {
				idx = append(idx, cix(0))
			}
			return idx
		}
		size := func(x *symbolic.Node, stack bool) int {
			if stack {
				return x.Shape.Size() / x.Shape[0]
			}
			return x.Shape.Size()
		}
		ca := flatFrom(f.access(pa, first(a, form.StackA)).c, size(a, form.StackA))
		cb := flatFrom(f.access(pb, first(b, form.StackB)).c, size(b, form.StackB))
		cc := flatFrom(f.lvalue(d.p, first(n, stackC)), size(n, stackC))
		var add jen.Code
		switch {
		case d.op == "+=":
			add = jen.True()
		case !form.Sum:
			add = jen.False()
		case p.v == "": // an unrolled stack
			add = jen.Lit(p.off > 0)
		default: // the first matrix of a summed stack writes, the rest add
			add = jen.Id(p.v).Op(">").Lit(0)
		}
		return jen.Id(f.fg.kernelName(kernel)).Call(jen.Lit(form.M), jen.Lit(form.N), jen.Lit(form.K), ca, cb, cc, add)
	}
	if !form.StackA && !form.StackB {
		f.add(call(ix{}))
		return
	}
	shape := symbolic.Shape{form.P}
	f.loopNest(shape, loopVars(shape, func(int) string { return f.locals.fresh("p") }), func(idx []ix) jen.Code {
		return call(idx[0])
	})
}

// bmm builds element idx of the bmatmul n as a sum over the contracted
// axes (and the stack, if summed), for the products no kernel computes.
func (f *fnGen) bmm(n *symbolic.Node, idx []ix) gexpr {
	if b := f.fuse.body; b != nil {
		b.sums = true // a loop of products keeps its calls apart
	}
	form := symbolic.BMatMulOf(n)
	a, b := n.Args[0], n.Args[1]
	stackC := form.StackA != form.StackB
	var p ix
	if stackC {
		p, idx = idx[0], idx[1:]
	}
	row, cols := idx[0], idx[1:]
	// The contracted axes: a's columns, or its rows if transposed (the
	// constructor requires b's to have the same shape).
	ma := a.Shape
	if form.StackA {
		ma = ma[1:]
	}
	kshape := ma[1:]
	if form.TransA {
		kshape = ma[:1]
	}
	red := kshape
	if form.Sum {
		red = append(symbolic.Shape{form.P}, kshape...)
	}
	return f.reduce(red, "", "dot", func(k []ix) gexpr {
		if form.Sum {
			p, k = k[0], k[1:]
		}
		var ia, ib []ix
		if form.StackA {
			ia = append(ia, p)
		}
		if form.StackB {
			ib = append(ib, p)
		}
		if form.TransA {
			ia = append(append(ia, k...), row)
		} else {
			ia = append(append(ia, row), k...)
		}
		if form.TransB {
			ib = append(append(ib, cols...), k...)
		} else {
			ib = append(append(ib, k...), cols...)
		}
		return infix(f.elem(a, ia), "*", f.elem(b, ib))
	})
}

// permuted reports whether n is an expand that only permutes its
// argument's axes: a batched transpose, or the gradient of one operand of
// a product of two batched matrices (attention's Q Kᵀ), which a kernel
// operand needs in its own order. Unlike other views it is copied, once,
// into a variable of its own when a kernel reads it.
func permuted(n *symbolic.Node) bool {
	return n.Op.Code == symbolic.OpExpand && n.Shape.Size() == n.Args[0].Shape.Size()
}
