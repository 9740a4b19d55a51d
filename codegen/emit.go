package codegen

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// Go operator precedences, to parenthesize only where needed (jennifer's Op
// adds no parentheses of its own).
const (
	precAdd     = 4
	precMul     = 5
	precUnary   = 6
	precPrimary = 7
)

// gexpr is a Go expression and the precedence of its outermost operator.
type gexpr struct {
	c    *jen.Statement
	prec int
}

// dest is where an emitted value goes: a Go variable or field, indexed by
// the loop variables, assigned with op ("=", "+=", or ":=" for a new local).
type dest struct {
	base string
	op   string
}

// fnGen emits the body of one Go function from a graph.
type fnGen struct {
	fg       *fileGen
	slots    map[*symbolic.Node]string // nodes whose value is in a Go variable
	locals   *namer
	block    *[]jen.Code // where statements go now
	top      *[]jen.Code // the function body
	pending  *fusedLoop  // the last top-level loop, still open to fusion
	comment_ string      // a comment waiting for the next statement
	dest     string      // the variable the loop being emitted writes
	reads    map[string]map[string]bool
	prefix   string                 // the index of the top-level loop being emitted, as "0,i"
	aliases  map[string]*aliasWrite // elements written in the current fused loop
	topish   *[]jen.Code            // a list of statements that will go straight to the top level
	quiet    bool                   // no line comments for now
	lazy     map[*jen.Statement]*aliasWrite
	aliasUse map[*aliasWrite]bool // aliases the body being generated reads
	hoisted  map[string]string    // input elements read into locals once (hoist)
	hoists   []jen.Code
	lastLine int
	lastBack bool
	split    int         // nodes with this ID or more are derivative code (0: none)
	nextAcc  string      // the name the next reduction's accumulator takes
	declTop  *[]jen.Code // inside a loop, where declarations go: before the outermost loop
	saves    *saves      // forward values saved per loop step for the backward pass
	// wsAlloc, for a model, adds a workspace field for a value too big for
	// the stack and returns its path.
	wsAlloc func(name string, shape symbolic.Shape) string
}

func newFnGen(fg *fileGen, locals *namer) *fnGen {
	return &fnGen{fg: fg, slots: map[*symbolic.Node]string{}, locals: locals}
}

// begin directs statements to the function body body.
func (f *fnGen) begin(body *[]jen.Code) { f.block, f.top = body, body }

// add appends statements where statements go now. At the top level it
// first closes the pending loop: a statement between two loops stops them
// fusing.
func (f *fnGen) add(c ...jen.Code) {
	if f.block == f.top {
		f.flush()
		if f.comment_ != "" {
			*f.top = append(*f.top, jen.Comment(f.comment_))
			f.comment_ = ""
		}
	}
	*f.block = append(*f.block, c...)
}

// declare adds a variable declaration. At the top level it goes before the
// pending loop without closing it, so that declaring the next loop's array
// does not stop the two loops fusing.
func (f *fnGen) declare(c jen.Code) {
	if f.declTop != nil { // inside a loop: declare once, before it
		*f.declTop = append(*f.declTop, c)
		return
	}
	if f.block == f.top || f.block == f.topish {
		*f.top = append(*f.top, c)
		return
	}
	f.add(c)
}

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

// comment ties the statements that follow to the .bp line n was made for.
func (f *fnGen) comment(n *symbolic.Node) {
	if f.quiet {
		return
	}
	back := f.split > 0 && n.ID >= f.split
	if n.Line == 0 || (n.Line == f.lastLine && back == f.lastBack) {
		return
	}
	f.lastLine, f.lastBack = n.Line, back
	src := strings.TrimSpace(f.fg.source(n.Line))
	where := fmt.Sprintf("%s:%d", f.fg.prog.File, n.Line)
	text := fmt.Sprintf("%s: %s", where, src)
	if back {
		text = "backward of " + text
	}
	if f.block != f.top {
		f.add(jen.Comment(text))
		return
	}
	f.comment_ = text
}

// elem is the Go expression for element idx of n (idx is nil for a scalar).
func (f *fnGen) elem(n *symbolic.Node, idx []string) gexpr {
	if base, ok := f.slots[n]; ok {
		return f.access(base, idx)
	}
	return f.compute(n, idx)
}

// access is base[idx...], noted for the fusion check of loopNamed.
func (f *fnGen) access(base string, idx []string) gexpr {
	if f.reads != nil {
		if f.reads[base] == nil {
			f.reads[base] = map[string]bool{}
		}
		f.reads[base][strings.Join(idx, ",")] = true
	}
	if aw, ok := f.aliases[base+"["+strings.Join(idx, ",")+"]"]; ok {
		if aw.local == "" {
			aw.local = f.locals.fresh(localName(base) + "i")
		}
		f.aliasUse[aw] = true
		return gexpr{jen.Id(aw.local), precPrimary}
	}
	return access(base, idx)
}

func access(base string, idx []string) gexpr {
	s := jen.Id(base)
	for _, i := range idx {
		s = s.Index(jen.Id(i))
	}
	return gexpr{s, precPrimary}
}

func lit(v float64) gexpr {
	switch {
	case math.IsNaN(v):
		return gexpr{jen.Qual("math", "NaN").Call(), precPrimary}
	case math.IsInf(v, 1):
		return gexpr{jen.Qual("math", "Inf").Call(jen.Lit(1)), precPrimary}
	case math.IsInf(v, -1):
		return gexpr{jen.Qual("math", "Inf").Call(jen.Lit(-1)), precPrimary}
	}
	// Integral values print as integers (2, not 2.0): every literal is an
	// operand of a float64 expression, never a whole constant expression, as
	// constant folding has removed those, so Go types it float64.
	text := strconv.FormatFloat(v, 'g', -1, 64)
	p := precPrimary
	if v < 0 || math.Signbit(v) {
		p = precUnary
	}
	return gexpr{jen.Op(text), p}
}

// wrap parenthesizes e if its operator binds looser than min.
func wrap(e gexpr, min int) *jen.Statement {
	if e.prec < min {
		return jen.Parens(e.c)
	}
	return e.c
}

// infix builds a op b. The right operand is parenthesized at equal
// precedence too: the IR's association is kept exactly, since floating-point
// + and * are not associative.
func infix(a gexpr, op string, b gexpr) gexpr {
	p := precAdd
	if op == "*" || op == "/" {
		p = precMul
	}
	return gexpr{wrap(a, p).Clone().Op(op).Add(wrap(b, p+1)), p}
}

// indexes are the Go index expressions of an index or scatter node: its
// constants, and for the positions given at run time the integer inputs.
func (f *fnGen) indexes(n *symbolic.Node) []string {
	out := make([]string, len(n.Ints))
	dyn := n.Args[1:]
	for i, v := range n.Ints {
		if v >= 0 {
			out[i] = strconv.Itoa(v)
			continue
		}
		out[i] = f.slots[dyn[0]]
		dyn = dyn[1:]
	}
	return out
}

func argIdx(a *symbolic.Node, idx []string) []string {
	if len(a.Shape) == 0 {
		return nil
	}
	return idx
}

// compute builds element idx of n from its arguments.
func (f *fnGen) compute(n *symbolic.Node, idx []string) gexpr {
	switch n.Op.Kind {
	case symbolic.Leaf:
		return lit(n.Val)
	case symbolic.Elementwise:
		return f.elementwise(n, idx)
	case symbolic.View:
		a := n.Args[0]
		switch n.Op.Name {
		case "index":
			return f.elem(a, append(f.indexes(n), idx...))
		case "transpose":
			return f.elem(a, []string{idx[1], idx[0]})
		case "broadcast":
			return f.elem(a, nil)
		}
		return f.elem(a, idx) // stop_gradient
	case symbolic.Reduce:
		if n.Op.Name == "logsumexp" {
			return f.logsumexp(n.Args[0])
		}
		return f.reduce(n.Args[0].Shape, func(k []string) gexpr { return f.elem(n.Args[0], k) })
	case symbolic.MatMul:
		return f.matmul(n, idx)
	case symbolic.Outer:
		return infix(f.elem(n.Args[0], idx[:1]), "*", f.elem(n.Args[1], idx[1:]))
	case symbolic.Scatter:
		// Only scatters into all-1 shapes are computed inline (plan.go), and
		// there the one element is always the one written.
		return f.elem(n.Args[0], idx[len(n.Ints):])
	}
	panic("codegen: no rule for op " + n.Op.Name)
}

func (f *fnGen) elementwise(n *symbolic.Node, idx []string) gexpr {
	args := make([]gexpr, len(n.Args))
	for i, a := range n.Args {
		args[i] = f.elem(a, argIdx(a, idx))
	}
	form := n.Op.Go
	switch {
	case n.Op.Name == "addn":
		e := args[0]
		for _, a := range args[1:] {
			e = infix(e, "+", a)
		}
		return e
	case form.Infix != "":
		return infix(args[0], form.Infix, args[1])
	case form.Prefix != "":
		return gexpr{jen.Op(form.Prefix).Add(wrap(args[0], precUnary+1)), precUnary}
	case n.Op.Name == "pow" && n.Args[1].IsConst(2):
		if args[0].prec == precPrimary {
			return infix(args[0], "*", gexpr{args[0].c.Clone(), precPrimary})
		}
		return f.helperCall("sq", args[:1])
	case form.Helper != "":
		return f.helperCall(form.Helper, args)
	}
	var call *jen.Statement
	if pkg, name, ok := strings.Cut(form.Func, "."); ok {
		call = jen.Qual(pkg, name)
	} else {
		call = jen.Id(form.Func) // a Go builtin: min, max
	}
	codes := make([]jen.Code, len(args))
	for i, a := range args {
		codes[i] = a.c
	}
	return gexpr{call.Call(codes...), precPrimary}
}

func (f *fnGen) helperCall(h string, args []gexpr) gexpr {
	codes := make([]jen.Code, len(args))
	for i, a := range args {
		codes[i] = a.c
	}
	return gexpr{jen.Id(f.fg.helperName(h)).Call(codes...), precPrimary}
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

// arrayType is the Go type of a tensor of shape s.
func arrayType(s symbolic.Shape) *jen.Statement {
	t := jen.Null()
	for _, d := range s {
		t = t.Index(jen.Lit(d))
	}
	return t.Float64()
}

func allOnes(s symbolic.Shape) bool { return s.Size() == 1 }

// emit writes node n into d.
func (f *fnGen) emit(n *symbolic.Node, d dest) {
	f.comment(n)
	if _, ok := f.slots[n]; !ok {
		switch {
		case n.Op.Kind == symbolic.Scatter && !allOnes(n.Shape):
			f.emitSum(n.Shape, d, nil, []*symbolic.Node{n})
			return
		case n.Op.Name == "addn":
			var dense, sparse []*symbolic.Node
			for _, t := range n.Args {
				if t.Op.Kind == symbolic.Scatter && !allOnes(t.Shape) {
					if _, ok := f.slots[t]; !ok {
						sparse = append(sparse, t)
						continue
					}
				}
				dense = append(dense, t)
			}
			if len(sparse) > 0 {
				f.emitSum(n.Shape, d, dense, sparse)
				return
			}
		}
	}
	if _, ok := f.slots[n]; !ok && d.op == ":=" && n.Op.Name == "sum" {
		f.nextAcc = d.base // the accumulator is the variable: no copy
		f.compute(n, nil)
		return
	}
	if d.op == ":=" && len(n.Shape) > 0 {
		f.declare(jen.Var().Id(d.base).Add(arrayType(n.Shape)))
		d.op = "="
	}
	if _, ok := f.slots[n]; !ok && n.Op.Kind == symbolic.Outer && d.op == "+=" && n.Shape[0] > tiny && n.Shape[1] > tiny {
		f.accumulateOuter(n, d)
		return
	}
	f.dest = d.base
	f.loop(n.Shape, func(idx []string) jen.Code {
		e := f.elem(n, idx)
		key := strings.Join(idx, ",")
		if f.aliases != nil && d.op == "=" && key == f.prefix && e.prec != precPrimary {
			aw := &aliasWrite{expr: e, target: access(d.base, idx).c}
			st := aw.target.Clone().Op("=").Add(e.c)
			if f.lazy == nil {
				f.lazy = map[*jen.Statement]*aliasWrite{}
			}
			f.lazy[st] = aw
			f.aliases[d.base+"["+key+"]"] = aw
			return st
		}
		return f.access(d.base, idx).c.Op(d.op).Add(e.c)
	})
}

// accumulateOuter adds a bᵀ into d row by row, the weight-gradient update
// dW += δ xᵀ, with a[i] and the row's address read once per row. For long
// rows, a row whose factor a[i] is zero adds nothing and is skipped: behind
// a relu, half the rows of a layer's gradient are typically zero. (Skipping
// differs from adding 0·b only where b holds Inf or NaN.)
func (f *fnGen) accumulateOuter(n *symbolic.Node, d dest) {
	a, b := n.Args[0], n.Args[1]
	skipZero := n.Shape[1] >= 32 // worth a branch only for long rows
	f.dest = d.base
	f.loop(n.Shape[:1], func(idx []string) jen.Code {
		ai := f.locals.fresh("a")
		f.add(jen.Id(ai).Op(":=").Add(f.elem(a, idx).c))
		row := f.locals.fresh("row")
		var then []jen.Code
		saved := f.block
		f.block = &then
		f.add(jen.Id(row).Op(":=").Op("&").Add(f.access(d.base, idx).c))
		f.loopNamed(b.Shape, []string{"j"}, func(jdx []string) jen.Code {
			return jen.Id(row).Index(jen.Id(jdx[0])).Op("+=").Id(ai).Op("*").Add(wrap(f.elem(b, jdx), precMul+1))
		})
		f.block = saved
		if skipZero {
			return jen.If(jen.Id(ai).Op("!=").Lit(0)).Block(then...)
		}
		f.add(then[:len(then)-1]...)
		return then[len(then)-1]
	})
}

// emitSum writes the sum of dense terms (computed elementwise) and scatter
// terms (each touching only its own row or element) into d.
func (f *fnGen) emitSum(shape symbolic.Shape, d dest, dense, sparse []*symbolic.Node) {
	op := d.op
	f.dest = d.base
	switch {
	case len(dense) > 0:
		if op == ":=" {
			f.declare(jen.Var().Id(d.base).Add(arrayType(shape)))
			op = "="
		}
		f.loop(shape, func(idx []string) jen.Code {
			e := f.elem(dense[0], argIdx(dense[0], idx))
			for _, t := range dense[1:] {
				e = infix(e, "+", f.elem(t, argIdx(t, idx)))
			}
			return f.access(d.base, idx).c.Op(op).Add(e.c)
		})
	case op == ":=":
		f.declare(jen.Var().Id(d.base).Add(arrayType(shape)))
	case op == "=":
		f.add(jen.Id(d.base).Op("=").Add(arrayType(shape)).Values())
	}
	for _, s := range sparse {
		pre := f.indexes(s)
		x := s.Args[0]
		f.loop(x.Shape, func(idx []string) jen.Code {
			return f.access(d.base, append(pre, idx...)).c.Op("+=").Add(f.elem(x, idx).c)
		})
	}
}
