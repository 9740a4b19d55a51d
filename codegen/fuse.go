package codegen

import (
	"slices"

	"github.com/backpropgen/backpropgen/symbolic"
	"github.com/dave/jennifer/jen"
)

// fusedLoop is a top-level loop over i being built: the bodies of
// consecutive loops over the same range that may share it.
type fusedLoop struct {
	n       int
	body    []jen.Code
	usesI   bool                   // some body reads i
	writes  map[string][]ix        // variables the bodies assign, and the index prefix they assign at
	aliases map[string]*aliasWrite // "base[idx]" → its write in the body
	reads   map[string][][]ix      // every element the bodies read
}

// bodyRec records what the body of a top-level loop reads while it is
// generated: every access (emit.go's access), and the elements written
// earlier in the same fused loop that it reads back from locals.
// Slices, not maps: a body reads a handful of variables, and a large model
// has hundreds of thousands of bodies.
type bodyRec struct {
	tallies  []tally // reads and writes, counted in fnGen's counts if the body is kept
	prefix   []ix    // the loop's own index, as the first indices of what it writes
	reads    []elemRead
	aliases  map[string]*aliasWrite
	aliasUse []*aliasWrite
}

// tally is one read or write of a variable.
type tally struct {
	k    useKind
	base string
}

// elemRead is a read of element idx (all its indices) of the variable base.
type elemRead struct {
	base string
	idx  []ix
}

// aliasWrite is an assignment dest[i] = expr at the top of a fused loop's
// body. If a later part of the loop reads dest[i], it reads a local instead,
// set from expr just before the assignment; the compiler keeps it in a
// register rather than reloading it from memory.
type aliasWrite struct {
	expr   gexpr
	target *jen.Statement
	base   string // the target's variable
	local  string
	used   bool
}

// aliasStore is the copy of an aliased element's local back into its
// array: end takes it out if nothing else reads the array.
type aliasStore struct {
	base string
	st   *jen.Statement
}

// flush emits the pending loop, giving used aliases their locals.
func (f *fnGen) flush() {
	p := f.pending
	if p == nil {
		return
	}
	f.pending = nil
	var body []jen.Code
	for _, c := range p.body {
		if st, ok := c.(*jen.Statement); ok {
			if aw := f.lazy[st]; aw != nil && aw.used {
				store := aw.target.Clone().Op("=").Id(aw.local)
				f.stores = append(f.stores, aliasStore{aw.base, store})
				body = append(body, define(aw.local, aw.expr), store)
				continue
			}
		}
		body = append(body, c)
	}
	head := jen.Range().Lit(p.n)
	if p.usesI {
		head = jen.Id("i").Op(":=").Range().Lit(p.n)
	}
	*f.top = append(*f.top, jen.For(head).Block(body...))
}

// tiny is the largest dimension written out instead of looped over: a loop
// of two costs more in its control than in its body.
const tiny = 2

// loopVars names the index variables of a loop nest over shape: a tiny
// dimension gets no variable (unrolled writes it out).
func loopVars(shape symbolic.Shape, names func(d int) string) []ix {
	idx := make([]ix, len(shape))
	for d, size := range shape {
		if size > tiny {
			idx[d] = vix(names(d))
		}
	}
	return idx
}

// unrolled calls body once for every value of the tiny dimensions of shape,
// with idx completed by those values as constants, and returns what it
// emitted, in order.
func unrolled(shape symbolic.Shape, idx []ix, body func(idx []ix) []jen.Code) []jen.Code {
	return unrolledFrom(shape, idx, 0, body)
}

// unrolledFrom is unrolled over the dimensions from d on.
func unrolledFrom(shape symbolic.Shape, idx []ix, d int, body func(idx []ix) []jen.Code) []jen.Code {
	for ; d < len(shape); d++ {
		if shape[d] > tiny {
			continue
		}
		var out []jen.Code
		for v := range shape[d] {
			fixed := slices.Clone(idx)
			fixed[d] = cix(v)
			out = append(out, unrolledFrom(shape, fixed, d+1, body)...)
		}
		return out
	}
	return body(idx)
}

// mark notes how often each index variable of idx has been read so far;
// nest compares, to find the loops whose bodies never read their variable.
func (f *fnGen) mark(idx []ix) map[string]int {
	m := map[string]int{}
	for _, x := range idx {
		if x.v != "" {
			m[x.v] = f.used[x.v]
		}
	}
	return m
}

// nest wraps body in for loops over the dimensions of shape that have
// index variables; a loop whose variable the body does not read (since
// before was marked) is "for range n".
func (f *fnGen) nest(shape symbolic.Shape, idx []ix, body []jen.Code, before map[string]int) []jen.Code {
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] <= tiny {
			continue
		}
		head := jen.Range().Lit(shape[d])
		if f.used[idx[d].v] > before[idx[d].v] {
			head = jen.Id(idx[d].v).Op(":=").Range().Lit(shape[d])
		}
		body = []jen.Code{jen.For(head).Block(body...)}
	}
	return body
}

var outerLoopNames = []string{"i", "j", "n"}

// loop emits, for every element idx of shape, the statement stmt(idx)
// returns, after whatever an element's computation needs before it. The
// statements write dst.
func (f *fnGen) loop(shape symbolic.Shape, dst place, stmt func(idx []ix) jen.Code) {
	f.loopNamed(shape, dst, outerLoopNames, stmt)
}

// loopNamed is loop with the index variables named by names, in the
// order the loops nest (a tiny dimension, written out, takes no name).
//
// At the top level, a loop whose outer range equals the pending loop's is
// fused into it when that is safe: when it reads what the pending loop
// writes only at the same i, and writes nothing the pending loop reads
// (fusesAfter). Then h = tanh(...) and the gradient updates that follow
// share one pass, as they would in hand-written code.
func (f *fnGen) loopNamed(shape symbolic.Shape, dst place, names []string, stmt func(idx []ix) jen.Code) {
	next := 0
	idx := loopVars(shape, func(d int) string { next++; return names[next-1] })
	// The outer loop, for fusion, is the first looped dimension, if only
	// dimensions of size 1 come before it.
	outer := -1
	for d, size := range shape {
		if size > tiny {
			outer = d
			break
		}
		if size != 1 {
			break
		}
	}
	saved := f.block
	if f.block != f.top || outer < 0 || names[0] != "i" || f.body != nil {
		// With every dimension written out, the statements are top-level ones.
		wasTop := f.topish
		top := saved == f.top && !slices.ContainsFunc(shape, func(d int) bool { return d > tiny })
		before := f.mark(idx)
		body := unrolled(shape, idx, func(idx []ix) []jen.Code {
			var b []jen.Code
			f.block = &b
			if top {
				f.topish = &b
			}
			s := stmt(idx)
			return append(b, s)
		})
		f.topish = wasTop
		f.block = saved
		f.add(f.nest(shape, idx, body, before)...)
		return
	}
	prefix := idx[:outer+1]
	gen := func(aliases map[string]*aliasWrite) ([]jen.Code, *bodyRec, bool) {
		rec := &bodyRec{prefix: prefix, aliases: aliases}
		f.body = rec
		defer func() { f.body = nil }()
		before := f.mark(idx)
		body := unrolled(shape, idx, func(idx []ix) []jen.Code {
			var b []jen.Code
			f.block = &b
			s := stmt(idx)
			return append(b, s)
		})
		usesI := f.used["i"] > before["i"]
		return f.nest(shape[outer+1:], idx[outer+1:], body, before), rec, usesI
	}
	// Inside a fused loop, an element written at [i] is read back from the
	// local it was computed in: the compiler keeps it in a register.
	p := f.pending
	sameRange := p != nil && p.n == shape[outer]
	// The pending loop's aliases are used (and updated) in place: if the
	// new loop does not join it, the pending loop is closed and they are
	// dropped anyway.
	aliases := map[string]*aliasWrite{}
	if sameRange {
		aliases = p.aliases
	}
	nTop, nDecl := len(*f.top), 0
	if f.declTop != nil {
		nDecl = len(*f.declTop)
	}
	inner, rec, usesI := gen(aliases)
	write := append(slices.Clone(dst.pre), prefix...)
	fuses := sameRange && fusesAfter(p, rec.reads, dst.base(), write, f.steps)
	if !fuses && sameRange {
		// The pending loop's values are not in scope after all, and the new
		// loop must not inherit them: generate it again, dropping what the
		// first attempt declared (rows it hoisted).
		*f.top = (*f.top)[:nTop]
		if f.declTop != nil {
			*f.declTop = (*f.declTop)[:nDecl]
		}
		inner, rec, usesI = gen(map[string]*aliasWrite{})
	}
	for _, aw := range rec.aliasUse {
		aw.used = true
	}
	for _, t := range rec.tallies {
		f.counts[t.k][t.base]++
	}
	f.block = saved
	if f.comment_ != "" {
		inner = append([]jen.Code{jen.Comment(f.comment_)}, inner...)
	}
	if fuses {
		f.comment_ = ""
		p.body = append(p.body, inner...)
		p.usesI = p.usesI || usesI
		p.writes[dst.base()] = write
		for _, r := range rec.reads {
			p.reads[r.base] = append(p.reads[r.base], r.idx)
		}
		p.aliases = rec.aliases
		return
	}
	f.flush()
	if f.comment_ != "" {
		*f.top = append(*f.top, jen.Comment(f.comment_))
		f.comment_ = ""
		inner = inner[1:]
	}
	reads := map[string][][]ix{}
	for _, r := range rec.reads {
		reads[r.base] = append(reads[r.base], r.idx)
	}
	f.pending = &fusedLoop{n: shape[outer], body: inner, usesI: usesI,
		writes: map[string][]ix{dst.base(): write}, aliases: rec.aliases, reads: reads}
}

// finish completes a body, closing the pending loop.
func (f *fnGen) finish() { f.flush() }

// end completes the function: the body is finished, and local arrays that
// nothing reads but through the locals of fused loops (db1[i] = db1i, and
// db1 never read again) lose those stores and, if nothing else writes
// them, their declarations.
func (f *fnGen) end() {
	f.finish()
	dropped := map[string]int{}
	for _, s := range f.stores {
		if f.counts[read][s.base] == 0 && f.decls[s.base] != nil {
			*s.st = nil
			dropped[s.base]++
		}
	}
	for base, n := range dropped {
		if n == f.counts[wrote][base] {
			*f.decls[base] = nil
		}
	}
}

// fusesAfter reports whether a loop body that reads reads and writes dest
// at the index prefix write may join p: every element of a variable p
// writes that it reads is one p writes at the same i (or one p never
// writes), and p reads nothing of dest but at the same i (or elsewhere
// entirely). (Writing what p reads elsewhere would change it under a later
// iteration of p: a loop updating a state that the pending loop multiplies
// by a matrix.) steps are the variables of the model loops around, fixed
// while p runs.
func fusesAfter(p *fusedLoop, reads []elemRead, dest string, write []ix, steps map[string]bool) bool {
	for _, r := range reads {
		wp, ok := p.writes[r.base]
		if ok && !hasPrefix(r.idx, wp) && !disjoint(r.idx, wp, steps) {
			return false
		}
	}
	for _, idx := range p.reads[dest] {
		if !hasPrefix(idx, write) && !disjoint(idx, write, steps) {
			return false
		}
	}
	if wp, ok := p.writes[dest]; ok && !slices.Equal(wp, write) {
		return false
	}
	return true
}

// disjoint reports whether the elements a and b select never overlap
// while the fused loop runs: at some position both are constants that
// differ, or the same fixed variable with different offsets (ws.h[t] and
// ws.h[t+1], the state a step reads and the one it writes).
func disjoint(a, b []ix, steps map[string]bool) bool {
	for k := range min(len(a), len(b)) {
		x, y := a[k], b[k]
		if x.v == y.v && x.off != y.off && (x.v == "" || steps[x.v]) {
			return true
		}
	}
	return false
}
