package codegen

import (
	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// Gathers (symbolic/gather.go): x[tokens] reads row tokens[r] of x for
// element (r, j) of the result, an index printed from the integer input
// (p.E[in.Tokens[i]][j]); its adjoint ungather adds each row into the row
// its integer picks.

// gatherIndex is the index into the gathered tensor (x, or an ungather's
// result) of element idx of the gather's result (or of an ungather's
// argument).
func (f *fnGen) gatherIndex(n *symbolic.Node, idx []ix) []ix {
	sampled, own := symbolic.GatherInts(n)
	ints := n.Args[1]
	k := len(ints.Shape)
	if !sampled {
		return append([]ix{lazyElem(f.slots[ints], idx[:k])}, idx[k:]...)
	}
	s := idx[len(idx)-1]
	rows := append(append([]ix(nil), idx[:k-1]...), s)
	src := append([]ix{lazyElem(f.slots[ints], rows)}, idx[k-1:len(idx)-1]...)
	if own {
		src = append(src, s)
	}
	return src
}

// slideIndex is the index into a slide's argument (or an unslide's
// result) of element idx of the slide (or of the unslide's argument):
// moved along the slide's axis by its position.
func (f *fnGen) slideIndex(n *symbolic.Node, idx []ix) []ix {
	a := symbolic.SlideAxis(n)
	src := append([]ix(nil), idx...)
	src[a] = sumIx([]ix{f.intIx(n.Args[1], nil), idx[a]}, 0)
	return src
}

// emitUngather writes ungather (or unslide) n into d: cleared (unless d
// is added to), and then each row of its argument added into the row its
// integer picks (or the rows the slide read). Two integers may pick one
// row, so rows are added to, never assigned.
func (f *fnGen) emitUngather(n *symbolic.Node, d dest) {
	switch d.op {
	case ":=":
		f.declareVar(d.p.name(), n.Shape)
		if f.out.declTop != nil { // declared once before the loop: cleared each step
			f.add(f.lvalue(d.p, nil).Op("=").Add(arrayType(n.Shape)).Values())
		}
	case "=":
		f.add(f.lvalue(d.p, nil).Op("=").Add(arrayType(n.Shape)).Values())
	}
	// Not a loop that fusion may join (f.loop): it writes rows the
	// integers pick, not element idx of d, which fusion assumes.
	x := n.Args[0]
	f.loopNest(x.Shape, loopVars(x.Shape, func(int) string { return f.locals.fresh("i") }), func(idx []ix) jen.Code {
		if n.Op.Code == symbolic.OpUnslide {
			return f.write(d.p, f.slideIndex(n, idx), "+=", f.elem(x, idx))
		}
		return f.write(d.p, f.gatherIndex(n, idx), "+=", f.elem(x, idx))
	})
}

// rowAdds reports whether n is an ungather or unslide, which emit adds
// row by row into its destination (emitUngather), a sum's term or a
// gradient, without a variable of its own.
func rowAdds(n *symbolic.Node) bool {
	return n.Op.Code == symbolic.OpUngather || n.Op.Code == symbolic.OpUnslide
}
