package codegen

import (
	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// Matrix-vector products that read the same vector, A h, B h, ..., are
// computed together in one pass over their rows (matvecPass), the rows
// of the matrices interleaved so that each load of h feeds four rows: an
// LSTM's four gates, a GRU's two. And a product whose only use is an
// elementwise expression that the plan stores (the pre-activation
// W x + U h + b) is finished in the same pass: that expression, its
// epilogue, is computed from the row's sum in a register, and the product
// gets no array of its own.

// mvMember is one product of a pass: n = A x, written to d, or, if epi
// is not nil, consumed by epi, which is written to d.
type mvMember struct {
	n   *symbolic.Node
	epi *symbolic.Node
	d   dest
}

// matvecGroup returns the products of p.mat that are computed in one
// pass with p.mat[at], a blocked product whose matrix is in a variable:
// those of the rest of the plan, not yet emitted, that read the same
// vector with matrices of the same shape. Each comes with its epilogue
// (nil if it has none that can be computed now). It returns nil if
// p.mat[at] is not such a product.
func (f *fnGen) matvecGroup(p *plan, at int, done map[*symbolic.Node]bool) []mvMember {
	first := p.mat[at]
	if !f.passable(first) {
		return nil
	}
	var out []mvMember
	for _, n := range p.mat[at:] {
		if done[n] || !f.passable(n) || n.Args[1] != first.Args[1] || !n.Args[0].Shape.Equal(first.Args[0].Shape) {
			continue
		}
		out = append(out, mvMember{n: n, epi: f.epilogue(p, n, done)})
	}
	return out
}

// passable reports whether n is a product matvecPass computes: blocked,
// not yet computed, its matrix in a variable.
func (f *fnGen) passable(n *symbolic.Node) bool {
	if !blocked(n) || f.avail(n) {
		return false
	}
	_, ok := f.slots[n.Args[0]]
	return ok
}

// epilogue returns the node of p.mat that is the only user of the product
// n, through a chain of elementwise ops of n's shape that the plan
// computes inline, if it can be computed now from n's row sums: everything
// else it reads is in a variable already, and it calls no function
// (calls stay in loops of their own: a call clobbers every register).
func (f *fnGen) epilogue(p *plan, n *symbolic.Node, done map[*symbolic.Node]bool) *symbolic.Node {
	if p.uses[n] != 1 || p.forced[n] {
		return nil
	}
	u := p.user[n]
	for u != nil && !p.isMat[u] {
		if p.uses[u] != 1 || p.forced[u] || !pointwise(u, n.Shape) {
			return nil
		}
		u = p.user[u]
	}
	if u == nil || done[u] || f.avail(u) || !pointwise(u, n.Shape) || u.Op.Kind == symbolic.LoopK {
		return nil
	}
	for _, a := range u.Args {
		if a != n && !f.ready(p, a, n) {
			return nil
		}
	}
	return u
}

// pointwise reports whether n is an elementwise op of shape s that is not
// a call.
func pointwise(n *symbolic.Node, s symbolic.Shape) bool {
	return n.Op.Kind == symbolic.Elementwise && n.Shape.Equal(s) && !goForms[n.Op.Code].isCall()
}

// ready reports whether a, computed inline, reads only values in
// variables (or the product n, whose sums are in registers) and calls no
// function.
func (f *fnGen) ready(p *plan, a, n *symbolic.Node) bool {
	switch {
	case a == n || f.avail(a):
		return true
	case p.isMat[a], a.Op.Kind == symbolic.Elementwise && goForms[a.Op.Code].isCall():
		return false
	case a.Op.Kind != symbolic.Elementwise && a.Op.Kind != symbolic.View && a.Op.Kind != symbolic.MatMul:
		return false
	}
	for _, b := range a.Args {
		if !f.ready(p, b, n) {
			return false
		}
	}
	return true
}

// emitMatvecGroup emits the products ms and their epilogues, each to the
// place slot gives it, in passes of four rows: four products of one row
// each, two of two rows, or one of four.
func (f *fnGen) emitMatvecGroup(ms []mvMember, slot func(n *symbolic.Node) dest) {
	for i := range ms {
		out := ms[i].n
		if ms[i].epi != nil {
			out = ms[i].epi
		}
		ms[i].d = slot(out)
		if ms[i].d.op == ":=" { // a vector: declared, then assigned
			f.declareVar(ms[i].d.p.name(), out.Shape)
			ms[i].d.op = "="
		}
	}
	for len(ms) > 0 {
		k := min(len(ms), 4)
		if k == 3 && len(ms) > 4 {
			k = 2 // 4+3 as 4+2+1: passes of two rows each are as good
		}
		f.matvecPass(ms[:k])
		for _, m := range ms[:k] {
			if m.epi != nil {
				f.slots[m.epi] = m.d.p
			} else {
				f.slots[m.n] = m.d.p
			}
		}
		ms = ms[k:]
	}
}

// matvecPass emits the products ms (one to four, of matrices of one shape,
// reading one vector x) in one loop over their rows, 4/len(ms) rows of
// each per pass (one row of each of three): each element of x, loaded
// once, feeds four rows' sums, four independent chains of multiply-adds,
// as an expert writes it (one load of x per four products instead of one
// per product). Each row's sum is then stored, or its epilogue computed
// from it and stored.
func (f *fnGen) matvecPass(ms []mvMember) {
	first := ms[0].n
	x := first.Args[1]
	m, kn := first.Args[0].Shape[0], first.Args[0].Shape[1]
	per := max(1, 4/len(ms)) // rows of each product per pass
	f.comment(first)
	xk := f.hoistedRow(x) // ws.h[t] through a pointer taken once per step
	i, k := f.locals.fresh("i"), f.locals.fresh("k")
	// lanes are the rows of a pass: product ms[lane.m], row i+lane.r.
	type lane struct{ m, r int }
	var lanes []lane
	for j := range ms {
		for r := range per {
			lanes = append(lanes, lane{j, r})
		}
	}
	rows := make([]string, len(lanes))
	var body []jen.Code
	for l, ln := range lanes {
		rows[l] = f.locals.fresh("row")
		pa := f.slots[ms[ln.m].n.Args[0]]
		body = append(body, jen.Id(rows[l]).Op(":=").Op("&").Add(f.access(pa, []ix{vix(i).plus(ln.r)}).c))
	}
	sums := f.partialSums("dot")[:len(lanes)]
	var decl []jen.Code
	for _, s := range sums {
		decl = append(decl, jen.Id(s))
	}
	body = append(body, jen.Var().List(decl...).Float64())
	if kn%4 == 0 {
		// Four columns per step: each row adds (a + b) + (c + d) of four
		// independent products to its sum, one dependent addition per
		// four products where a plain loop has four (the adds would wait
		// on each other: their latency, not their number, bounds the loop).
		var xs [4]string
		inner := []jen.Code{}
		for c := range xs {
			xs[c] = f.locals.fresh("x")
			inner = append(inner, define(xs[c], xk([]ix{vix(k).plus(c)})))
		}
		for l := range lanes {
			prod := func(c int) gexpr {
				return infix(f.access(localPlace(rows[l]), []ix{vix(k).plus(c)}), "*", ident(xs[c]))
			}
			sum := infix(infix(prod(0), "+", prod(1)), "+", infix(prod(2), "+", prod(3)))
			inner = append(inner, jen.Id(sums[l]).Op("+=").Add(sum.c))
		}
		body = append(body, jen.For(jen.Id(k).Op(":=").Lit(0), jen.Id(k).Op("<").Lit(kn), jen.Id(k).Op("+=").Lit(4)).Block(inner...))
	} else {
		xv := f.locals.fresh("xk")
		inner := []jen.Code{define(xv, xk([]ix{vix(k)}))}
		for l := range lanes {
			inner = append(inner, jen.Id(sums[l]).Op("+=").Add(f.access(localPlace(rows[l]), []ix{vix(k)}).c).Op("*").Id(xv))
		}
		body = append(body, jen.For(jen.Id(k).Op(":=").Range().Lit(kn)).Block(inner...))
	}
	body = append(body, f.collect(func() jen.Code {
		for l, ln := range lanes {
			mm := ms[ln.m]
			idx := []ix{vix(i).plus(ln.r)}
			if mm.epi == nil {
				f.add(f.write(mm.d.p, idx, "=", ident(sums[l])))
				continue
			}
			if ln.r == 0 && ln.m > 0 {
				f.comment(mm.epi)
			}
			f.bind(mm.n, ident(sums[l]))
			f.add(f.write(mm.d.p, idx, "=", f.elem(mm.epi, idx)))
			f.bind(mm.n, gexpr{})
		}
		return nil
	})...)
	head := []jen.Code{jen.Id(i).Op(":=").Lit(0), jen.Id(i).Op("<").Lit(m), jen.Id(i).Op("+=").Lit(per)}
	if per == 1 {
		head = []jen.Code{jen.Id(i).Op(":=").Range().Lit(m)}
	}
	f.add(jen.For(head...).Block(body...))
}

// bind makes n read as e (a row's sum in a register) while an epilogue is
// built; an empty e ends it.
func (f *fnGen) bind(n *symbolic.Node, e gexpr) {
	if e.c == nil {
		delete(f.bound, n)
		return
	}
	if f.bound == nil {
		f.bound = map[*symbolic.Node]gexpr{}
	}
	f.bound[n] = e
}
