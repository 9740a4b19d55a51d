package codegen

import (
	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// blockedOuter reports whether the outer-product update n (dW += a bᵀ) is
// emitted four rows per pass (accumulateOuter4), which needs a in a
// variable: at least 8 rows of at least 32 numbers, a at most maxActive
// long (its active rows are listed in an array on the stack).
func blockedOuter(n *symbolic.Node) bool {
	return n.Op.Kind == symbolic.Outer && n.Shape[0] >= 8 && n.Shape[1] >= 32 && n.Shape[0] <= maxActive
}

// maxActive is the longest left factor whose nonzero rows are listed.
const maxActive = 4096

// accumulateOuter4 adds a bᵀ into d four rows per pass, as an expert
// writes dW1 += δ xᵀ: each load of b[j] feeds four rows. Only the rows
// whose factor a[i] is not zero are updated (behind a relu, about half):
// they are listed first, then taken four at a time, and the last few one
// at a time. (Skipping a zero row differs from adding 0·b only where b
// holds Inf or NaN, as in accumulateOuter.)
func (f *fnGen) accumulateOuter4(n *symbolic.Node, d dest) {
	a, b := n.Args[0], n.Args[1]
	m, cols := n.Shape[0], n.Shape[1]
	act, na, q := f.locals.fresh("active"), f.locals.fresh("nActive"), f.locals.fresh("q")
	i := f.locals.fresh("i")
	f.add(jen.Var().Id(act).Index(jen.Lit(m)).Int())
	f.add(jen.Id(na).Op(":=").Lit(0))
	ai := f.elem(a, []ix{vix(i)})
	f.add(jen.For(jen.Id(i).Op(":=").Range().Lit(m)).Block(
		jen.If(ai.c.Clone().Op("!=").Lit(0)).Block(
			jen.Id(act).Index(jen.Id(na)).Op("=").Id(i),
			jen.Id(na).Op("++"),
		)))
	var rows, factors [4]string
	var head []jen.Code
	for r := range rows {
		row := f.locals.fresh("i")
		at := jen.Id(q)
		if r > 0 {
			at = at.Op("+").Lit(r)
		}
		head = append(head, jen.Id(row).Op(":=").Id(act).Index(at))
		factors[r] = f.locals.fresh("a")
		head = append(head, define(factors[r], f.elem(a, []ix{vix(row)})))
		rows[r] = f.locals.fresh("row")
		head = append(head, jen.Id(rows[r]).Op(":=").Op("&").Add(f.access(d.p, []ix{vix(row)}).c))
	}
	j, bj := f.locals.fresh("j"), f.locals.fresh("b")
	inner := []jen.Code{define(bj, f.elem(b, []ix{vix(j)}))}
	for r := range rows {
		inner = append(inner, f.lvalue(localPlace(rows[r]), []ix{vix(j)}).Op("+=").Id(factors[r]).Op("*").Id(bj))
	}
	head = append(head, jen.For(jen.Id(j).Op(":=").Range().Lit(cols)).Block(inner...))
	f.add(jen.For(jen.Id(q).Op(":=").Lit(0), jen.Id(q).Op("+").Lit(4).Op("<=").Id(na), jen.Id(q).Op("+=").Lit(4)).Block(head...))
	// The rest, one row at a time.
	q2 := f.locals.fresh("q")
	row, a1, r1, j1 := f.locals.fresh("i"), f.locals.fresh("a"), f.locals.fresh("row"), f.locals.fresh("j")
	f.add(jen.For(jen.Id(q2).Op(":=").Id(na).Op("-").Id(na).Op("%").Lit(4), jen.Id(q2).Op("<").Id(na), jen.Id(q2).Op("++")).Block(
		jen.Id(row).Op(":=").Id(act).Index(jen.Id(q2)),
		define(a1, f.elem(a, []ix{vix(row)})),
		jen.Id(r1).Op(":=").Op("&").Add(f.access(d.p, []ix{vix(row)}).c),
		jen.For(jen.Id(j1).Op(":=").Range().Lit(cols)).Block(
			f.lvalue(localPlace(r1), []ix{vix(j1)}).Op("+=").Id(a1).Op("*").Add(wrap(f.elem(b, []ix{vix(j1)}), precMul+1)),
		),
	))
	f.tally(read, d.p.base())
}
