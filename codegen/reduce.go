package codegen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/backpropgen/backpropgen/symbolic"
	"github.com/dave/jennifer/jen"
)

// reduce emits a sum over shape of term(k) and returns the accumulator, or
// for a tiny shape the sum itself.
func (f *fnGen) reduce(shape symbolic.Shape, term func(k []string) gexpr) gexpr {
	if shape.Size() <= tiny {
		var sum *gexpr
		unrolled(shape, make([]string, len(shape)), func(k []string) []jen.Code {
			t := term(k)
			if sum == nil {
				sum = &t
			} else {
				s := infix(*sum, "+", t)
				sum = &s
			}
			return nil
		})
		if f.nextAcc != "" { // the caller wants the sum in a variable
			acc := f.nextAcc
			f.nextAcc = ""
			f.add(jen.Id(acc).Op(":=").Add(sum.c))
			return gexpr{jen.Id(acc), precPrimary}
		}
		return *sum
	}
	acc := f.nextAcc
	if acc == "" {
		acc = f.locals.fresh("s")
	}
	f.nextAcc = ""
	if len(shape) == 1 && shape[0] >= split4 && f.split4(shape[0], acc, term) {
		return gexpr{jen.Id(acc), precPrimary}
	}
	k := loopVars(shape, func(d int) string { return f.locals.fresh("k") })
	var body []jen.Code
	saved := f.block
	body = unrolled(shape, k, func(k []string) []jen.Code {
		var b []jen.Code
		f.block = &b
		t := term(k)
		return append(b, jen.Id(acc).Op("+=").Add(t.c))
	})
	f.block = saved
	f.add(jen.Var().Id(acc).Float64())
	f.add(nest(shape, k, body)...)
	return gexpr{jen.Id(acc), precPrimary}
}

// split4 is the shortest reduction summed in four interleaved partial sums.
const split4 = 8

// split4 emits a long sum as four partial sums, k ≡ 0, 1, 2, 3 (mod 4),
// added pairwise at the end. A single running sum waits on the latency of
// each addition; four independent ones keep the floating-point unit busy,
// and pairwise addition is no less accurate. It declines (returning false,
// having emitted nothing) when a term needs statements of its own.
func (f *fnGen) split4(n int, acc string, term func(k []string) gexpr) bool {
	k := f.locals.fresh("k")
	var probe []jen.Code
	saved := f.block
	f.block = &probe
	first := term([]string{k})
	f.block = saved
	if len(probe) > 0 {
		return false
	}
	parts := make([]string, 4)
	var decl []jen.Code
	for i := range parts {
		parts[i] = f.locals.fresh(acc + strconv.Itoa(i))
		decl = append(decl, jen.Id(parts[i]))
	}
	var body []jen.Code
	for i, part := range parts {
		t := first
		if i > 0 {
			t = term([]string{fmt.Sprintf("%s+%d", k, i)})
		}
		body = append(body, jen.Id(part).Op("+=").Add(t.c))
	}
	n4 := n - n%4
	f.add(jen.Var().List(decl...).Float64())
	f.add(jen.For(jen.Id(k).Op(":=").Lit(0), jen.Id(k).Op("<").Lit(n4), jen.Id(k).Op("+=").Lit(4)).Block(body...))
	for i := n4; i < n; i++ {
		f.add(jen.Id(parts[0]).Op("+=").Add(term([]string{strconv.Itoa(i)}).c))
	}
	f.add(jen.Id(acc).Op(":=").Parens(jen.Id(parts[0]).Op("+").Id(parts[1])).Op("+").Parens(jen.Id(parts[2]).Op("+").Id(parts[3])))
	return true
}

func (f *fnGen) matmul(n *symbolic.Node, idx []string) gexpr {
	a, b := n.Args[0], n.Args[1]
	kdim := symbolic.Shape{b.Shape[0]}
	// A row of a stored matrix read in the loop is addressed once, before
	// it: Go does not hoist loop-invariant address arithmetic itself.
	rowOf := func(x *symbolic.Node, i string) func(k string) gexpr {
		if base, ok := f.slots[x]; ok && kdim[0] > tiny {
			row := f.locals.fresh("row")
			decl := jen.Id(row).Op(":=").Op("&").Add(f.access(base, []string{i}).c)
			_, err := strconv.Atoi(i)
			if (f.block == f.top || f.block == f.topish && len(*f.block) == 0) && err == nil && !strings.Contains(base, "[") {
				f.declare(decl) // a fixed row: before any loop, out of the way of fusion
			} else {
				f.add(decl)
			}
			return func(k string) gexpr { return access(row, []string{k}) }
		}
		return func(k string) gexpr { return f.elem(x, []string{i, k}) }
	}
	switch {
	case len(a.Shape) == 2 && len(b.Shape) == 1: // A[i,k] x[k]
		row := rowOf(a, idx[0])
		return f.reduce(kdim, func(k []string) gexpr { return infix(row(k[0]), "*", f.elem(b, k)) })
	case len(a.Shape) == 1: // v[k] B[k,i]
		return f.reduce(kdim, func(k []string) gexpr {
			return infix(f.elem(a, k), "*", f.elem(b, []string{k[0], idx[0]}))
		})
	default: // A[i,k] B[k,j]
		row := rowOf(a, idx[0])
		return f.reduce(kdim, func(k []string) gexpr {
			return infix(row(k[0]), "*", f.elem(b, []string{k[0], idx[1]}))
		})
	}
}

// logsumexp emits max(x) + log(Σ exp(x - max(x))), which neither overflows
// nor underflows to log(0) for finite x.
func (f *fnGen) logsumexp(x *symbolic.Node) gexpr {
	m := f.locals.fresh("m")
	k := loopVars(x.Shape, func(int) string { return f.locals.fresh("k") })
	f.add(jen.Id(m).Op(":=").Qual("math", "Inf").Call(jen.Lit(-1)))
	f.add(nest(x.Shape, k, unrolled(x.Shape, k, func(k []string) []jen.Code {
		return []jen.Code{jen.Id(m).Op("=").Max(jen.Id(m), f.elem(x, k).c)}
	}))...)
	s := f.reduce(x.Shape, func(k []string) gexpr {
		return gexpr{jen.Qual("math", "Exp").Call(infix(f.elem(x, k), "-", gexpr{jen.Id(m), precPrimary}).c), precPrimary}
	})
	return infix(gexpr{jen.Id(m), precPrimary}, "+", gexpr{jen.Qual("math", "Log").Call(s.c), precPrimary})
}
