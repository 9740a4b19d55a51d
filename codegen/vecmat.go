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
// pass (vecmatPass).
func (f *fnGen) vecmat4(n *symbolic.Node, d dest) {
	f.vecmatPass([]*symbolic.Node{n}, d)
}

// vecmatPass emits d = v₁ B₁ + v₂ B₂ + ... (one to four products whose
// matrices have one shape) as a sum of the matrices' rows scaled by the
// v's, four rows per pass: each product's rows k, k+1, k+2, k+3, or row k
// of four products (rows k and k+1 of two), their four factors in
// registers, each row read along its length, where the column-by-column
// form reads B with a stride and loads v[k] for every product. The first
// pass assigns (or adds, into a sum), the others add.
func (f *fnGen) vecmatPass(ts []*symbolic.Node, d dest) {
	kn, cols := ts[0].Args[1].Shape[0], ts[0].Args[1].Shape[1]
	per := max(1, 4/len(ts)) // rows of each product per pass
	kper := kn - kn%per
	// block is the pass over rows at, at+1, ..., at+per-1 of each product,
	// with op.
	block := func(at ix, per int, op string) []jen.Code {
		var out []jen.Code
		var factors, rows []string
		for _, t := range ts {
			for r := range per {
				v := f.locals.fresh("v")
				out = append(out, define(v, f.elem(t.Args[0], []ix{at.plus(r)})))
				row := f.locals.fresh("row")
				out = append(out, jen.Id(row).Op(":=").Op("&").Add(f.access(f.slots[t.Args[1]], []ix{at.plus(r)}).c))
				factors, rows = append(factors, v), append(rows, row)
			}
		}
		j := f.locals.fresh("j")
		terms := make([]gexpr, len(rows))
		for r := range rows {
			terms[r] = infix(ident(factors[r]), "*", f.access(localPlace(rows[r]), []ix{vix(j)}))
		}
		return append(out, jen.For(jen.Id(j).Op(":=").Range().Lit(cols)).Block(f.write(d.p, []ix{vix(j)}, op, pairwise(sumOf, terms))))
	}
	f.add(block(cix(0), per, d.op)...) // the first pass assigns (or adds, into a sum)
	if kper > per {
		k := f.locals.fresh("k")
		head := []jen.Code{jen.Id(k).Op(":=").Lit(per), jen.Id(k).Op("<").Lit(kper), jen.Id(k).Op("+=").Lit(per)}
		if per == 1 {
			head[2] = jen.Id(k).Op("++")
		}
		f.add(jen.For(head...).Block(block(vix(k), per, "+=")...))
	}
	for r := kper; r < kn; r++ {
		f.add(block(cix(r), 1, "+=")...)
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
	// Products of matrices of one shape are summed in passes of up to
	// four: the four gates' Uᵀδ of an LSTM in one pass over U's rows.
	for len(streamed) > 0 {
		same := 1
		for same < len(streamed) && same < 4 && streamed[same].Args[1].Shape.Equal(streamed[0].Args[1].Shape) {
			same++
		}
		f.vecmatPass(streamed[:same], dest{d.p, op})
		streamed, op = streamed[same:], "+="
	}
}
