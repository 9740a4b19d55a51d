package codegen

import (
	"fmt"
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// Backpropagation through time adds every step's outer product δₜ vₜᵀ into
// a weight gradient: a read-modify-write of the whole gradient per step.
// As an expert does, the generated code instead keeps each step's δ in a
// workspace array and, after the sweep, adds Σₜ δₜ vₜᵀ = Δᵀ V into the
// gradient as one matrix product (a kernel, kernels.go), V being the rows
// vₜ where they already are: a per-step array the forward pass saved (the
// states hₜ) or an input (xs[t]). Each entry of the gradient is then
// written once, from a register-blocked product.

// deferMin is the smallest sum of outer products over a loop's steps, in
// multiply-adds, that is deferred to one product after the loop.
const deferMin = 1024

// deferredOuter is a sum of outer products over a loop's steps: dst +=
// Σₜ a[t] b[t]ᵀ, a and b the first of T rows of m and n numbers.
type deferredOuter struct {
	a, b, dst place
	m, n, t   int
}

// deferOuter defers the step's term t of state st of loop l, if it is an
// outer product a bᵀ added into a gradient in g, b is a row of a per-step
// array read at this step, and the sum is big enough: it emits the save
// of a into a per-step workspace array, records the product for after the
// loop (emitDeferred), and reports true.
func (f *fnGen) deferOuter(l *symbolic.Loop, st, t *symbolic.Node) bool {
	if f.wsAlloc == nil || t.Op.Kind != symbolic.Outer {
		return false
	}
	dst, ok := f.stateInto[st]
	m, n := t.Shape[0], t.Shape[1]
	if !ok || m*n*l.Len() < deferMin {
		return false
	}
	a, b := t.Args[0], t.Args[1]
	rows, ok := f.stepRows(l, b)
	if !ok {
		return false
	}
	saved, ok := f.stepCopies[a]
	if !ok {
		saved = f.stepArray(a, symbolic.Shape{l.Len(), m})
		f.emit(a, dest{saved.at(vix(f.slots[l.Index].base()).plus(-l.From)), "="})
		f.stepCopies[a] = saved
	}
	f.deferred = append(f.deferred, deferredOuter{a: saved, b: rows, dst: dst, m: m, n: n, t: l.Len()})
	return true
}

// stepArray returns the workspace array that keeps a's value at every
// step, one for all the model's functions (they are never run at once on
// one workspace).
func (f *fnGen) stepArray(a *symbolic.Node, s symbolic.Shape) place {
	if p, ok := f.wsShared[a]; ok {
		return p
	}
	p := f.wsAlloc(hintName(a)+"Steps", s)
	if f.wsShared != nil {
		f.wsShared[a] = p
	}
	return p
}

// stepRows returns, if the vector b is at each step t of l the row t+k of
// an array (with fixed leading indices), the place of that array's row
// l.From+k: the first of the rows the steps read.
func (f *fnGen) stepRows(l *symbolic.Loop, b *symbolic.Node) (place, bool) {
	p, ok := f.slots[b]
	if !ok && b.Op.Code == symbolic.OpIndex {
		if pa, ok2 := f.slots[b.Args[0]]; ok2 {
			p, ok = pa.at(f.indexes(b)...), true
		}
	}
	if !ok || len(b.Shape) != 1 || len(p.pre) == 0 || len(p.path) < 2 {
		return place{}, false
	}
	last := p.pre[len(p.pre)-1]
	if last.v != f.slots[l.Index].base() {
		return place{}, false
	}
	for _, x := range p.pre[:len(p.pre)-1] {
		if x.v != "" {
			return place{}, false
		}
	}
	base := place{path: p.path, key: p.key, pre: p.pre[:len(p.pre)-1]}
	return base.at(cix(l.From + last.off)), true
}

// emitDeferred emits the products deferred while a loop's body was
// emitted: after the loop, each as one kernel call, or written out if its
// rows are short (emitNarrow).
func (f *fnGen) emitDeferred(ds []deferredOuter) {
	for _, d := range ds {
		if d.n <= narrowRow {
			f.emitNarrow(d)
			continue
		}
		a := f.access(d.a, []ix{cix(0), cix(0)}).c
		b := f.access(d.b, []ix{cix(0)}).c
		f.tally(read, d.dst.base())
		c := f.lvalue(d.dst, []ix{cix(0), cix(0)})
		f.add(jen.Id(f.fg.kernelName("GemmTN")).Call(jen.Lit(d.m), jen.Lit(d.n), jen.Lit(d.t),
			flatFrom(a, d.t*d.m), flatFrom(b, d.t*d.n), flatFrom(c, d.m*d.n), jen.True()))
	}
}

// narrowRow is the longest row of a deferred product written out rather
// than computed by the kernel: the kernel updates the result a row at a
// time over its length, all overhead for a row of four (the gradient of an
// input projection W xₜ with four inputs cost it 1.6 times the loop below).
const narrowRow = 4

// emitNarrow emits d, whose rows have at most narrowRow numbers, two rows
// at a time: the 2n sums of each pair of rows stay in registers over all
// the steps, each step loading two numbers of δₜ and the n of vₜ, and each
// entry of the gradient is added to once, as an expert writes it.
func (f *fnGen) emitNarrow(d deferredOuter) {
	t := f.locals.fresh("t")
	// pass is the loop over the steps for rows i and i+1, ... of the
	// gradient (rows of them), at i. A pass's names (s00 for row 0 and
	// column 0, a0 and b0 for the factors) get a letter after the first
	// pass in the function, as the partial sums do: sB00, aB0, ...
	pass := func(i ix, rows int) []jen.Code {
		names := func(letter string) (sums [][]string, a, b string, as, bs []string) {
			sums = make([][]string, rows)
			for r := range rows {
				for c := range d.n {
					sums[r] = append(sums[r], fmt.Sprintf("s%s%d%d", letter, r, c))
				}
				as = append(as, fmt.Sprintf("a%s%d", letter, r))
			}
			for c := range d.n {
				bs = append(bs, fmt.Sprintf("b%s%d", letter, c))
			}
			return sums, "a" + letter, "b" + letter, as, bs
		}
		var sums [][]string
		var a, b string
		var aNames, bNames []string
		for n := 0; ; n++ {
			letter := ""
			if n > 0 {
				letter = letters(n)
			}
			sums, a, b, aNames, bNames = names(letter)
			all := append(append([]string{a, b}, aNames...), bNames...)
			for _, row := range sums {
				all = append(all, row...)
			}
			if !slices.ContainsFunc(all, f.locals.taken) {
				for _, name := range all {
					f.locals.fresh(name)
				}
				break
			}
		}
		var decl []jen.Code
		for _, row := range sums {
			for _, sum := range row {
				decl = append(decl, jen.Id(sum))
			}
		}
		brow := d.b.pre[len(d.b.pre)-1]
		bt := place{path: d.b.path, key: d.b.key, pre: append(slices.Clone(d.b.pre[:len(d.b.pre)-1]), vix(t).plus(brow.off))}
		body := []jen.Code{
			jen.List(jen.Id(a), jen.Id(b)).Op(":=").List(jen.Op("&").Add(f.access(d.a, []ix{vix(t)}).c), jen.Op("&").Add(f.access(bt, nil).c)),
		}
		var as, bs, aVals, bVals []jen.Code
		for r := range rows {
			as = append(as, jen.Id(aNames[r]))
			aVals = append(aVals, f.access(localPlace(a), []ix{i.plus(r)}).c)
		}
		for c := range d.n {
			bs = append(bs, jen.Id(bNames[c]))
			bVals = append(bVals, f.access(localPlace(b), []ix{cix(c)}).c)
		}
		body = append(body, jen.List(as...).Op(":=").List(aVals...), jen.List(bs...).Op(":=").List(bVals...))
		for r := range rows {
			for c := range d.n {
				body = append(body, jen.Id(sums[r][c]).Op("+=").Id(aNames[r]).Op("*").Id(bNames[c]))
			}
		}
		out := []jen.Code{jen.Var().List(decl...).Float64(), jen.For(jen.Id(t).Op(":=").Range().Lit(d.t)).Block(body...)}
		for r := range rows {
			for c := range d.n {
				f.tally(read, d.dst.base())
				out = append(out, f.lvalue(d.dst, []ix{i.plus(r), cix(c)}).Op("+=").Id(sums[r][c]))
			}
		}
		return out
	}
	m2 := d.m - d.m%2
	if m2 > 0 {
		i := f.locals.fresh("i")
		f.add(jen.For(jen.Id(i).Op(":=").Lit(0), jen.Id(i).Op("<").Lit(m2), jen.Id(i).Op("+=").Lit(2)).Block(pass(vix(i), 2)...))
	}
	if m2 < d.m {
		f.add(pass(cix(m2), 1)...)
	}
}
