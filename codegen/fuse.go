package codegen

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/backpropgen/backpropgen/symbolic"
	"github.com/dave/jennifer/jen"
)

// fusedLoop is a top-level loop over i being built: the bodies of
// consecutive loops over the same range that may share it.
type fusedLoop struct {
	n       int
	body    []jen.Code
	writes  map[string]string      // variables the bodies assign, and the index prefix (as "0,i") they assign at
	aliases map[string]*aliasWrite // "base[idx]" → its write in the body
	reads   map[string]map[string]bool
}

// aliasWrite is an assignment dest[i] = expr at the top of a fused loop's
// body. If a later part of the loop reads dest[i], it reads a local instead,
// set from expr just before the assignment; the compiler keeps it in a
// register rather than reloading it from memory.
type aliasWrite struct {
	expr   gexpr
	target *jen.Statement
	local  string
	used   bool
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
				body = append(body, jen.Id(aw.local).Op(":=").Add(aw.expr.c), aw.target.Clone().Op("=").Id(aw.local))
				continue
			}
		}
		body = append(body, c)
	}
	*f.top = append(*f.top, jen.For(jen.Id("i").Op(":=").Range().Lit(p.n)).Block(body...))
}

// tiny is the largest dimension written out instead of looped over: a loop
// of two costs more in its control than in its body.
const tiny = 2

// loopVars names the index variables of a loop nest over shape: a tiny
// dimension gets no variable (nest writes it out).
func loopVars(shape symbolic.Shape, names func(d int) string) []string {
	idx := make([]string, len(shape))
	for d, size := range shape {
		if size > tiny {
			idx[d] = names(d)
		}
	}
	return idx
}

// unrolled calls body once for every value of the tiny dimensions of shape,
// with idx completed by those values as constants, and returns what it
// emitted, in order.
func unrolled(shape symbolic.Shape, idx []string, body func(idx []string) []jen.Code) []jen.Code {
	for d, size := range shape {
		if idx[d] != "" {
			continue
		}
		var out []jen.Code
		for v := range size {
			fixed := append([]string(nil), idx...)
			fixed[d] = strconv.Itoa(v)
			out = append(out, unrolled(shape, fixed, body)...)
		}
		return out
	}
	return body(idx)
}

// nest wraps body in for loops over the dimensions of shape that have
// index variables.
func nest(shape symbolic.Shape, idx []string, body []jen.Code) []jen.Code {
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] <= tiny {
			continue
		}
		body = []jen.Code{jen.For(jen.Id(idx[d]).Op(":=").Range().Lit(shape[d])).Block(body...)}
	}
	return body
}

var outerLoopNames = []string{"i", "j", "n"}

// loop emits, for every element idx of shape, the statement stmt(idx)
// returns, after whatever an element's computation needs before it.
func (f *fnGen) loop(shape symbolic.Shape, stmt func(idx []string) jen.Code) {
	f.loopNamed(shape, outerLoopNames, stmt)
}

// loopNamed is loop with the index variables named by names, in the
// order the loops nest (a tiny dimension, written out, takes no name).
//
// At the top level, a loop whose outer range equals the pending loop's is
// fused into it when that is safe: when it reads what the pending loop
// writes only at the same i. Then h = tanh(...) and the gradient updates
// that follow share one pass, as they would in hand-written code.
func (f *fnGen) loopNamed(shape symbolic.Shape, names []string, stmt func(idx []string) jen.Code) {
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
	fusible := f.block == f.top && outer >= 0 && names[0] == "i"
	saved := f.block
	gen := func(alias map[string]*aliasWrite) []jen.Code {
		f.aliases = alias
		defer func() { f.aliases = nil }()
		return unrolled(shape, idx, func(idx []string) []jen.Code {
			var b []jen.Code
			f.block = &b
			s := stmt(idx)
			return append(b, s)
		})
	}
	if !fusible {
		// With every dimension written out, the statements are top-level ones.
		wasTop := f.topish
		top := saved == f.top && !slices.ContainsFunc(shape, func(d int) bool { return d > tiny })
		body := unrolled(shape, idx, func(idx []string) []jen.Code {
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
		f.add(nest(shape, idx, body)...)
		return
	}
	// Inside a fused loop, an element written at [i] is read back from the
	// local it was computed in: the compiler keeps it in a register.
	prefix := strings.Join(idx[:outer+1], ",")
	aliases := map[string]*aliasWrite{}
	if p := f.pending; p != nil && p.n == shape[outer] {
		maps.Copy(aliases, p.aliases)
	}
	inherited := len(aliases) > 0
	f.reads, f.prefix, f.aliasUse = map[string]map[string]bool{}, prefix, map[*aliasWrite]bool{}
	body := gen(aliases)
	reads := f.reads
	p := f.pending
	fuses := p != nil && p.n == shape[outer] && fusesAfter(p, reads, f.dest, prefix)
	if !fuses && inherited {
		// The pending loop's values are not in scope after all, and the new
		// loop must not inherit them.
		aliases, f.aliasUse = map[string]*aliasWrite{}, map[*aliasWrite]bool{}
		body = gen(aliases)
	}
	for aw := range f.aliasUse {
		aw.used = true
	}
	f.block = saved
	f.reads, f.prefix, f.aliasUse = nil, "", nil
	inner := nest(shape[outer+1:], idx[outer+1:], body)
	if f.comment_ != "" {
		inner = append([]jen.Code{jen.Comment(f.comment_)}, inner...)
	}
	if fuses {
		f.comment_ = ""
		p.body = append(p.body, inner...)
		p.writes[f.dest] = prefix
		mergeReads(p.reads, reads)
		p.aliases = aliases
		return
	}
	f.flush()
	if f.comment_ != "" {
		*f.top = append(*f.top, jen.Comment(f.comment_))
		f.comment_ = ""
		inner = inner[1:]
	}
	f.pending = &fusedLoop{n: shape[outer], body: inner, writes: map[string]string{f.dest: prefix}, aliases: aliases,
		reads: mergeReads(map[string]map[string]bool{}, reads)}
}

// finish completes the function body, closing the pending loop.
func (f *fnGen) finish() { f.flush() }

func mergeReads(into, from map[string]map[string]bool) map[string]map[string]bool {
	for base, idxs := range from {
		if into[base] == nil {
			into[base] = map[string]bool{}
		}
		for idx := range idxs {
			into[base][idx] = true
		}
	}
	return into
}

// localName is the last part of a variable path: "h" for "ws.h".
func localName(base string) string {
	if i := strings.IndexByte(base, '['); i >= 0 {
		base = base[:i]
	}
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		return base[i+1:]
	}
	return base
}

// fusesAfter reports whether a loop body that reads reads and writes dest
// at prefix may join p: it reads nothing p writes, and writes nothing p
// reads, except at the loop's own index i. (Writing what p reads elsewhere
// would change it under a later iteration of p: a loop updating a state
// that the pending loop multiplies by a matrix.)
func fusesAfter(p *fusedLoop, reads map[string]map[string]bool, dest, prefix string) bool {
	atI := func(idx, prefix string) bool { return idx == prefix || strings.HasPrefix(idx, prefix+",") }
	for base, wp := range p.writes {
		for idx := range reads[base] {
			if !atI(idx, wp) {
				return false
			}
		}
	}
	for idx := range p.reads[dest] {
		if !atI(idx, prefix) {
			return false
		}
	}
	return true
}
