package codegen

import (
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// reduceNode emits the reduction n (a sum or a maximum) and returns its
// value: the accumulator named acc if acc is not empty, else a fresh one,
// or for a tiny shape, when acc is empty, the expression itself.
func (f *fnGen) reduceNode(n *symbolic.Node, acc string) gexpr {
	x := n.Args[0]
	term := func(k []ix) gexpr { return f.elem(x, k) }
	if n.Op.Code == symbolic.OpMaxAll {
		return f.fold(maxOf, x.Shape, acc, term)
	}
	return f.reduce(x.Shape, acc, "sum", term)
}

// A combiner is how a reduction folds its terms: into one expression for
// a tiny shape (combine), or in a loop into an accumulator that start
// declares and update advances.
type combiner struct {
	hint    string // the accumulator's name
	combine func(a, b gexpr) gexpr
	start   func(acc string) jen.Code
	update  func(acc string, t gexpr) jen.Code
}

var (
	sumOf = combiner{
		hint:    "sum",
		combine: func(a, b gexpr) gexpr { return infix(a, "+", b) },
		start:   func(acc string) jen.Code { return jen.Var().Id(acc).Float64() },
		update:  func(acc string, t gexpr) jen.Code { return jen.Id(acc).Op("+=").Add(t.c) },
	}
	maxOf = combiner{
		hint: "m",
		combine: func(a, b gexpr) gexpr {
			if a.konst && b.konst {
				return lit(max(a.val, b.val))
			}
			return gexpr{c: jen.Max(a.c, b.c), prec: precPrimary}
		},
		start:  func(acc string) jen.Code { return jen.Id(acc).Op(":=").Qual("math", "Inf").Call(jen.Lit(-1)) },
		update: func(acc string, t gexpr) jen.Code { return jen.Id(acc).Op("=").Max(jen.Id(acc), t.c) },
	}
)

// reduce emits the sum over shape of term(k); see reduceNode for acc. A
// long vector is summed in four partial sums (split4), named after what
// they compute (what: "sum", "dot").
func (f *fnGen) reduce(shape symbolic.Shape, acc, what string, term func(k []ix) gexpr) gexpr {
	if shape.Size() > tiny && len(shape) == 1 && shape[0] >= split4 {
		if e, ok := f.split4(shape[0], acc, what, term); ok {
			return e
		}
	}
	return f.fold(sumOf, shape, acc, term)
}

// shortFold is the longest reduction written out as one expression rather
// than a loop: a loop of 4 costs a counter, a compare and a serial chain
// of adds; written out, the terms are independent and summed pairwise.
const shortFold = 4

// fold emits the reduction c of term(k) over shape; see reduceNode for acc.
func (f *fnGen) fold(c combiner, shape symbolic.Shape, acc string, term func(k []ix) gexpr) gexpr {
	if shape.Size() <= shortFold {
		terms := make([]gexpr, shape.Size())
		for i := range terms {
			k := make([]ix, len(shape))
			for d, rest := len(shape)-1, i; d >= 0; d-- {
				k[d], rest = cix(rest%shape[d]), rest/shape[d]
			}
			terms[i] = term(k)
		}
		e := pairwise(c, terms)
		if acc == "" {
			return e
		}
		f.add(define(acc, e))
		return ident(acc)
	}
	if shape.Size() <= tiny {
		var e *gexpr
		unrolled(shape, make([]ix, len(shape)), func(k []ix) []jen.Code {
			t := term(k)
			if e != nil {
				t = c.combine(*e, t)
			}
			e = &t
			return nil
		})
		if acc == "" {
			return *e
		}
		f.add(define(acc, *e))
		return ident(acc)
	}
	if acc == "" {
		acc = f.locals.fresh(c.hint)
	}
	if b := f.fuse.body; b != nil {
		b.sums = true
	}
	k := loopVars(shape, func(int) string { return f.locals.fresh("k") })
	before := f.mark(k)
	body := unrolled(shape, k, func(k []ix) []jen.Code {
		return f.collect(func() jen.Code { return c.update(acc, term(k)) })
	})
	f.add(c.start(acc))
	f.add(f.nest(shape, k, body, before)...)
	return ident(acc)
}

// pairwise combines terms as a balanced tree: (a+b) + (c+d).
func pairwise(c combiner, terms []gexpr) gexpr {
	if len(terms) == 1 {
		return terms[0]
	}
	h := (len(terms) + 1) / 2
	return c.combine(pairwise(c, terms[:h]), pairwise(c, terms[h:]))
}

// split4 is the shortest reduction summed in four interleaved partial sums.
const split4 = 8

// split4 emits a long sum as four partial sums, k ≡ 0, 1, 2, 3 (mod 4),
// added pairwise at the end. A single running sum waits on the latency of
// each addition; four independent ones keep the floating-point unit busy,
// and pairwise addition is no less accurate. The total is the expression
// (sum0 + sum1) + (sum2 + sum3), or the local acc if acc is not empty. It declines
// (returning false, having emitted nothing) when a term needs statements
// of its own.
func (f *fnGen) split4(n int, acc, what string, term func(k []ix) gexpr) (gexpr, bool) {
	k := f.locals.fresh("k")
	var first gexpr
	if probe := f.collect(func() jen.Code { first = term([]ix{vix(k)}); return nil }); len(probe) > 0 {
		return gexpr{}, false
	}
	base := acc
	if base == "" {
		base = what
	}
	parts := f.partialSums(base)
	var decl []jen.Code
	for _, p := range parts {
		decl = append(decl, jen.Id(p))
	}
	var body []jen.Code
	for i, part := range parts {
		t := first
		if i > 0 {
			t = term([]ix{vix(k).plus(i)})
		}
		body = append(body, jen.Id(part).Op("+=").Add(t.c))
	}
	n4 := n - n%4
	if b := f.fuse.body; b != nil {
		b.sums = true
	}
	f.add(jen.Var().List(decl...).Float64())
	f.add(jen.For(jen.Id(k).Op(":=").Lit(0), jen.Id(k).Op("<").Lit(n4), jen.Id(k).Op("+=").Lit(4)).Block(body...))
	for i := n4; i < n; i++ {
		f.add(jen.Id(parts[0]).Op("+=").Add(term([]ix{cix(i)}).c))
	}
	total := infix(infix(ident(parts[0]), "+", ident(parts[1])), "+", infix(ident(parts[2]), "+", ident(parts[3])))
	if acc == "" {
		return total, true
	}
	f.add(define(acc, total))
	return ident(acc), true
}

// partialSums names the four partial sums of a split sum: base0…base3,
// or for a later one in the same function, baseB0…baseB3, baseC0…: the
// digit is the lane, the letter tells sums apart. (Numbers alone made
// s10 and its parts s100…s103 beside s1.)
func (f *fnGen) partialSums(base string) []string {
	for n := 0; ; n++ {
		b := base
		if n > 0 {
			b += letters(n)
		}
		parts := []string{b + "0", b + "1", b + "2", b + "3"}
		if !slices.ContainsFunc(parts, f.locals.taken) {
			for _, p := range parts {
				f.locals.fresh(p)
			}
			return parts
		}
	}
}

// letters is the n-th of B, C, …, Z, BA, BB, …
func letters(n int) string {
	if n < 25 {
		return string(rune('A' + n))
	}
	return letters(n/25) + letters(n%25)
}

func (f *fnGen) matmul(n *symbolic.Node, idx []ix) gexpr {
	if b := f.fuse.body; b != nil {
		b.sums = true // even written out: a loop of products keeps its calls apart
	}
	a, b := n.Args[0], n.Args[1]
	kdim := symbolic.Shape{b.Shape[0]}
	// A row of a stored matrix read in the loop is addressed once, before
	// it: Go does not hoist loop-invariant address arithmetic itself.
	rowOf := func(x *symbolic.Node, i ix) func(k ix) gexpr {
		if p, ok := f.slots[x]; ok && kdim[0] > shortFold {
			row := f.locals.fresh("row")
			decl := jen.Id(row).Op(":=").Op("&").Add(f.access(p, []ix{i}).c)
			atTop := f.out.block == f.out.top || f.out.block == f.out.topish && len(*f.out.block) == 0
			if atTop && i.v == "" && len(p.pre) == 0 {
				f.declare(decl) // a fixed row: before any loop, out of the way of fusion
			} else {
				f.add(decl)
			}
			rp := localPlace(row)
			return func(k ix) gexpr { return f.access(rp, []ix{k}) }
		}
		return func(k ix) gexpr { return f.elem(x, []ix{i, k}) }
	}
	switch {
	case len(a.Shape) == 2 && len(b.Shape) == 1: // A[i,k] x[k]
		row := rowOf(a, idx[0])
		return f.reduce(kdim, "", "dot", func(k []ix) gexpr { return infix(row(k[0]), "*", f.elem(b, k)) })
	case len(a.Shape) == 1: // v[k] B[k,i]
		return f.reduce(kdim, "", "dot", func(k []ix) gexpr {
			return infix(f.elem(a, k), "*", f.elem(b, []ix{k[0], idx[0]}))
		})
	default: // A[i,k] B[k,j]
		row := rowOf(a, idx[0])
		return f.reduce(kdim, "", "dot", func(k []ix) gexpr {
			return infix(row(k[0]), "*", f.elem(b, []ix{k[0], idx[1]}))
		})
	}
}
