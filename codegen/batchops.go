package codegen

import (
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// The ops of batched graphs (symbolic/batchops.go): expand is a view like
// transpose, reducesum and reducemax are reductions over some axes, and
// take and put index with a different integer for each sample.

// partial builds element idx (over the kept axes) of a reducesum,
// reducemax or amax n: the fold of its argument over the other axes.
func (f *fnGen) partial(n *symbolic.Node, idx []ix) gexpr { return f.partialInto(n, idx, "") }

// partialInto is partial that folds into the local acc, if not empty: a
// scalar partial (amax(x)) is its own variable, like a sum.
func (f *fnGen) partialInto(n *symbolic.Node, idx []ix, acc string) gexpr {
	x := n.Args[0]
	var folded symbolic.Shape
	for a, d := range x.Shape {
		if !slices.Contains(n.Ints, a) {
			folded = append(folded, d)
		}
	}
	term := func(k []ix) gexpr {
		full := make([]ix, len(x.Shape))
		ki, ii := 0, 0
		for a := range x.Shape {
			if ii < len(n.Ints) && n.Ints[ii] == a {
				full[a] = idx[ii]
				ii++
			} else {
				full[a] = k[ki]
				ki++
			}
		}
		return f.elem(x, full)
	}
	if n.Op.Code != symbolic.OpReduceSum { // reducemax, amax
		return f.fold(maxOf, folded, acc, term)
	}
	return f.reduce(folded, acc, "sum", term)
}

// takePositions are the indices a take or put n selects for the sample
// whose index is s: constants, shared integers (a loop variable, a scalar
// input), and per-sample integer inputs read at s.
func (f *fnGen) takePositions(n *symbolic.Node, s ix) []ix {
	ints, _ := symbolic.TakeInts(n)
	out := make([]ix, len(ints))
	dyn := n.Args[1:]
	for i, v := range ints {
		if v >= 0 {
			out[i] = cix(v)
			continue
		}
		d := dyn[0]
		dyn = dyn[1:]
		if len(d.Shape) == 0 {
			out[i] = f.intIx(d, nil)
			continue
		}
		out[i] = f.intIx(d, []ix{s}) // counted where it is used (lazyElem)
	}
	return out
}

// takeIndex is the index into a take's argument of element idx of the take.
func (f *fnGen) takeIndex(n *symbolic.Node, idx []ix) []ix {
	_, own := symbolic.TakeInts(n)
	s := idx[len(idx)-1]
	rest := idx
	if !own {
		rest = idx[:len(idx)-1]
	}
	return append(f.takePositions(n, s), rest...)
}

// emitPut writes put n into d: cleared (unless d is added to), and then
// each sample's values added to the row it selects. Two samples may
// select one row, so the rows are added to, never assigned.
func (f *fnGen) emitPut(n *symbolic.Node, d dest) {
	switch d.op {
	case ":=":
		f.declareVar(d.p.name(), n.Shape)
	case "=":
		f.add(f.lvalue(d.p, nil).Op("=").Add(arrayType(n.Shape)).Values())
	}
	// Not a loop that fusion may join (f.loop): it writes rows that the
	// samples pick, not element idx of d, which fusion assumes.
	x := n.Args[0]
	f.loopNest(x.Shape, loopVars(x.Shape, func(int) string { return f.locals.fresh("i") }), func(idx []ix) jen.Code {
		return f.write(d.p, f.takeIndex(n, idx), "+=", f.elem(x, idx))
	})
}
