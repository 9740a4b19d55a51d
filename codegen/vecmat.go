package codegen

import (
	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// blockedVecMat reports whether n is a vector-matrix product v B with B a
// parameter or input matrix of 8+ rows of 8+ numbers, which vecmat4
// computes streaming B's rows (and which needs a variable of its own).
// In backpropagation it is Wᵀδ, the delta of a layer's input.
func blockedVecMat(n *symbolic.Node) bool {
	if n.Op.Code != symbolic.OpMatMul || len(n.Args[0].Shape) != 1 || len(n.Args[1].Shape) != 2 {
		return false
	}
	b := n.Args[1]
	return b.Op.Kind == symbolic.Leaf && b.Var != nil && b.Shape[0] >= 8 && b.Shape[1] >= 8
}

// vecmat4 emits d = v B as a sum of B's rows scaled by v, four rows per
// pass: the four factors stay in registers and each row is read along its
// length, where the column-by-column form reads B with a stride and loads
// v[k] for every product. The first pass assigns, the others add.
func (f *fnGen) vecmat4(n *symbolic.Node, d dest) {
	v, b := n.Args[0], n.Args[1]
	kn, cols := b.Shape[0], b.Shape[1]
	pb := f.slots[b]
	k4 := kn - kn%4
	// block is the pass over rows at, at+1, at+2, at+3, with op.
	block := func(at ix, op string) []jen.Code {
		var out []jen.Code
		var factors, rows [4]string
		for r := range 4 {
			factors[r] = f.locals.fresh("v")
			out = append(out, define(factors[r], f.elem(v, []ix{at.plus(r)})))
			rows[r] = f.locals.fresh("row")
			out = append(out, jen.Id(rows[r]).Op(":=").Op("&").Add(f.access(pb, []ix{at.plus(r)}).c))
		}
		j := f.locals.fresh("j")
		term := func(r int) gexpr {
			return infix(ident(factors[r]), "*", f.access(localPlace(rows[r]), []ix{vix(j)}))
		}
		sum := infix(infix(term(0), "+", term(1)), "+", infix(term(2), "+", term(3)))
		return append(out, jen.For(jen.Id(j).Op(":=").Range().Lit(cols)).Block(f.write(d.p, []ix{vix(j)}, op, sum)))
	}
	f.add(block(cix(0), d.op)...) // the first pass assigns (or adds, into a sum)
	if k4 > 4 {
		k := f.locals.fresh("k")
		f.add(jen.For(jen.Id(k).Op(":=").Lit(4), jen.Id(k).Op("<").Lit(k4), jen.Id(k).Op("+=").Lit(4)).Block(block(vix(k), "+=")...))
	}
	for r := k4; r < kn; r++ {
		vr := f.locals.fresh("v")
		f.add(define(vr, f.elem(v, []ix{cix(r)})))
		row := f.locals.fresh("row")
		f.add(jen.Id(row).Op(":=").Op("&").Add(f.access(pb, []ix{cix(r)}).c))
		jj := f.locals.fresh("j")
		f.add(jen.For(jen.Id(jj).Op(":=").Range().Lit(cols)).Block(
			f.write(d.p, []ix{vix(jj)}, "+=", infix(ident(vr), "*", f.access(localPlace(row), []ix{vix(jj)})))))
	}
}

// streamedTerm reports whether t, a term of a sum being emitted, is a
// vector-matrix product that vecmat4 adds into the sum's variable itself
// (the plan gave it none of its own).
func (f *fnGen) streamedTerm(t *symbolic.Node) bool {
	_, stored := f.slots[t]
	return !stored && blockedVecMat(t) && f.avail(t.Args[0])
}

// emitVecMatSum writes the sum n into d when some of its terms are
// vector-matrix products: the other terms first, then each product added
// straight into d (an LSTM's dh = Σ Uᵀδ over its four gates, with no array
// per gate).
func (f *fnGen) emitVecMatSum(n *symbolic.Node, d dest) {
	var rest, streamed []*symbolic.Node
	for _, t := range n.Args {
		if f.streamedTerm(t) {
			streamed = append(streamed, t)
		} else {
			rest = append(rest, t)
		}
	}
	if d.op == ":=" {
		f.declareVar(d.p.name(), n.Shape)
		d.op = "="
	}
	op := d.op
	if len(rest) > 0 {
		f.loop(n.Shape, d.p, func(idx []ix) jen.Code {
			e := f.elem(rest[0], argIdx(rest[0], idx))
			for _, t := range rest[1:] {
				e = infix(e, "+", f.elem(t, argIdx(t, idx)))
			}
			return f.write(d.p, idx, op, e)
		})
		op = "+="
	}
	for _, t := range streamed {
		f.vecmat4(t, dest{d.p, op})
		op = "+="
	}
}
