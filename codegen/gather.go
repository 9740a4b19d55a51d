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

// emitUngather writes ungather n into d: cleared (unless d is added to),
// and then each row of its argument added into the row its integer picks.
// Two integers may pick one row, so rows are added to, never assigned.
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
		return f.write(d.p, f.gatherIndex(n, idx), "+=", f.elem(x, idx))
	})
}
