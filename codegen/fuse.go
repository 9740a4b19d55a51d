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
	calls   bool                   // some body calls a function that is not inlined
	sums    bool                   // some body sums in a loop of its own
}

// bodyRec records what the body of a top-level loop reads while it is
// generated: every access (emit.go's access), and the elements written
// earlier in the same fused loop that it reads back from locals.
// Slices, not maps: a body reads a handful of variables, and a large model
// has hundreds of thousands of bodies.
type bodyRec struct {
	code     []jen.Code
	usesI    bool    // the body reads the loop variable i
	tallies  []tally // reads and writes, counted in fnGen's counts if the body is kept
	prefix   []ix    // the loop's own index, as the first indices of what it writes
	reads    []elemRead
	aliases  map[string]*aliasWrite
	aliasUse []*aliasWrite
	calls    bool // the body calls a function that is not inlined (math.Tanh)
	sums     bool // the body sums in a loop of its own (a dot product)
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
	p := f.fuse.pending
	if p == nil {
		return
	}
	f.fuse.pending = nil
	var body []jen.Code
	for _, c := range p.body {
		if st, ok := c.(*jen.Statement); ok {
			if aw := f.fuse.lazy[st]; aw != nil && aw.used {
				store := aw.target.Clone().Op("=").Id(aw.local)
				f.fuse.stores = append(f.fuse.stores, aliasStore{aw.base, store})
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
	*f.out.top = append(*f.out.top, jen.For(head).Block(body...))
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
			m[x.v] = f.uses.index[x.v]
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
		if f.uses.index[idx[d].v] > before[idx[d].v] {
			head = jen.Id(idx[d].v).Op(":=").Range().Lit(shape[d])
		}
		body = []jen.Code{jen.For(head).Block(body...)}
	}
	return body
}

// outerLoopNames name the loops over a tensor's dimensions, outermost
// first; the last three are for batched tensors (a rank-3 value with its
// sample axis), and are reserved names as the others are.
var outerLoopNames = []string{"i", "j", "n", "q", "q2", "q3"}

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
	outer := fusableDim(shape)
	if f.out.block != f.out.top || outer < 0 || names[0] != "i" || f.fuse.body != nil {
		f.loopNest(shape, idx, stmt)
		return
	}
	f.topLoop(shape, idx, outer, dst, stmt)
}

// fusableDim is the dimension of shape whose loop is the outer loop, for
// fusion: the first looped one, if only dimensions of size 1 come before
// it; -1 if there is none.
func fusableDim(shape symbolic.Shape) int {
	for d, size := range shape {
		if size > tiny {
			return d
		}
		if size != 1 {
			break
		}
	}
	return -1
}

// loopNest emits a loop nest that is not a candidate for fusion: inside a
// block, or with no dimension to fuse on.
func (f *fnGen) loopNest(shape symbolic.Shape, idx []ix, stmt func(idx []ix) jen.Code) {
	// With every dimension written out, the statements are top-level ones.
	top := f.out.block == f.out.top && !slices.ContainsFunc(shape, func(d int) bool { return d > tiny })
	before := f.mark(idx)
	wasTop := f.out.topish
	body := unrolled(shape, idx, func(idx []ix) []jen.Code {
		return f.collect(func() jen.Code {
			if top {
				f.out.topish = f.out.block
			}
			return stmt(idx)
		})
	})
	f.out.topish = wasTop
	f.add(f.nest(shape, idx, body, before)...)
}

// topLoop emits a top-level loop nest whose outer loop, over dimension
// outer, joins the pending loop if it may, and is otherwise the new
// pending loop.
func (f *fnGen) topLoop(shape symbolic.Shape, idx []ix, outer int, dst place, stmt func(idx []ix) jen.Code) {
	// Inside a fused loop, an element written at [i] is read back from the
	// local it was computed in: the compiler keeps it in a register. The
	// pending loop's aliases are used (and updated) in place: if the new
	// loop does not join it, the pending loop is closed and they are
	// dropped anyway.
	p := f.fuse.pending
	sameRange := p != nil && p.n == shape[outer]
	aliases := map[string]*aliasWrite{}
	if sameRange {
		aliases = p.aliases
	}
	nTop, nDecl := f.out.lens()
	names := f.locals.mark()
	rec := f.fusableBody(shape, idx, outer, aliases, stmt)
	write := append(slices.Clone(dst.pre), idx[:outer+1]...)
	// A call clobbers every register, so in a loop that also sums, each
	// call spills and reloads the sums' state: an expert keeps the calls
	// in a loop of their own (tanh over the pre-activations).
	apart := sameRange && (p.calls && rec.sums || p.sums && rec.calls)
	fuses := sameRange && !apart && fusesAfter(p, rec.reads, dst.base(), write, f.steps)
	if !fuses && sameRange {
		// The pending loop's values are not in scope after all, and the new
		// loop must not inherit them: generate it again, dropping what the
		// first attempt declared (rows it hoisted).
		f.out.truncate(nTop, nDecl)
		f.locals.undo(names)
		rec = f.fusableBody(shape, idx, outer, map[string]*aliasWrite{}, stmt)
	}
	for _, aw := range rec.aliasUse {
		aw.used = true
	}
	for _, t := range rec.tallies {
		f.uses.counts[t.k][t.base]++
	}
	if f.notes.pending != "" {
		rec.code = append([]jen.Code{jen.Comment(f.notes.pending)}, rec.code...)
	}
	if fuses {
		f.notes.pending = ""
		p.join(rec, dst.base(), write)
		return
	}
	f.flush()
	if f.notes.pending != "" {
		*f.out.top = append(*f.out.top, jen.Comment(f.notes.pending))
		f.notes.pending = ""
		rec.code = rec.code[1:]
	}
	f.fuse.pending = newFusedLoop(shape[outer], rec, dst.base(), write)
}

// fusableBody generates the body of a top-level loop nest (the loops
// inside dimension outer included), recording what it reads.
func (f *fnGen) fusableBody(shape symbolic.Shape, idx []ix, outer int, aliases map[string]*aliasWrite, stmt func(idx []ix) jen.Code) *bodyRec {
	rec := &bodyRec{prefix: idx[:outer+1], aliases: aliases}
	f.fuse.body = rec
	before := f.mark(idx)
	body := unrolled(shape, idx, func(idx []ix) []jen.Code {
		return f.collect(func() jen.Code { return stmt(idx) })
	})
	f.fuse.body = nil
	rec.usesI = f.uses.index["i"] > before["i"]
	rec.code = f.nest(shape[outer+1:], idx[outer+1:], body, before)
	return rec
}

// newFusedLoop is a pending loop of n iterations with rec's body, which
// writes the variable dest at the index prefix write.
func newFusedLoop(n int, rec *bodyRec, dest string, write []ix) *fusedLoop {
	reads := map[string][][]ix{}
	for _, r := range rec.reads {
		reads[r.base] = append(reads[r.base], r.idx)
	}
	return &fusedLoop{n: n, body: rec.code, usesI: rec.usesI, calls: rec.calls, sums: rec.sums,
		writes: map[string][]ix{dest: write}, aliases: rec.aliases, reads: reads}
}

// join appends rec's body to p.
func (p *fusedLoop) join(rec *bodyRec, dest string, write []ix) {
	p.body = append(p.body, rec.code...)
	p.usesI = p.usesI || rec.usesI
	p.calls = p.calls || rec.calls
	p.sums = p.sums || rec.sums
	p.writes[dest] = write
	for _, r := range rec.reads {
		p.reads[r.base] = append(p.reads[r.base], r.idx)
	}
	p.aliases = rec.aliases
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
	for _, s := range f.fuse.stores {
		if f.uses.counts[read][s.base] == 0 && f.uses.decls[s.base] != nil {
			*s.st = nil
			dropped[s.base]++
		}
	}
	for base, n := range dropped {
		if n == f.uses.counts[wrote][base] {
			*f.uses.decls[base] = nil
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
