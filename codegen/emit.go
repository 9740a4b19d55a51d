package codegen

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// useKind is a kind of use of a variable, for counting them.
type useKind int

const (
	read useKind = iota
	wrote
)

// dest is where an emitted value goes and how: assigned ("="), added
// ("+="), or declared as a new local (":=").
type dest struct {
	p  place
	op string
}

// fnGen emits the body of one Go function from a graph. Its state is a few
// values, each with one owner: where statements go (out, which the loop
// and block emitters redirect and restore), the line comments (notes), the
// fusion of top-level loops (fuse.go), and the counts of uses that decide
// loop headers and drop write-only arrays (uses). The rest is set once per
// function by fn.go or model.go.
type fnGen struct {
	fg     *fileGen
	slots  map[*symbolic.Node]place // nodes whose value is in a Go variable
	locals *namer

	out   sink
	notes notes
	fuse  fusion
	uses  uses

	split int    // nodes with this ID or more are derivative code (0: none)
	saves *saves // forward values saved per loop step for the backward pass
	// steps are the variables of the model's loops: fixed while a loop
	// of element indices inside a step runs.
	steps map[string]bool
	// stateInto maps a loop state to the place it lives in, where that is
	// not a variable of its own (a gradient accumulated straight into g).
	stateInto map[*symbolic.Node]place
	// wsAlloc, for a model, adds a workspace field for a value too big for
	// the stack and returns its place.
	wsAlloc func(name string, shape symbolic.Shape) place
	// invariant maps the states of loops that no step changes, and whose
	// initial value is a constant, to that constant (loop.go).
	invariant map[*symbolic.Node]*symbolic.Node
	// kernelVals are the operands and results of the matrix products the
	// last plan computes with kernels, which get workspace fields rather
	// than locals: a local passed to a kernel (a func variable) escapes to
	// the heap (kernels.go).
	kernelVals map[*symbolic.Node]bool
	// deferred are the outer products the loop being emitted adds into
	// gradients after its last step, and stepCopies the per-step arrays
	// that keep their left factors (defer.go).
	deferred   []deferredOuter
	stepCopies map[*symbolic.Node]place
	// wsShared, for a model's function that may add workspace fields,
	// holds the fields the model's functions share (stepArray); nil
	// otherwise.
	wsShared map[*symbolic.Node]place
	// bound are the nodes read from a local while a fused pass builds an
	// epilogue: a product's row sum (matgroup.go).
	bound map[*symbolic.Node]gexpr
}

// sink is where statements go.
type sink struct {
	block *[]jen.Code // where statements go now
	top   *[]jen.Code // the function body, or the body of the loop being emitted
	// declTop, inside a loop, is where declarations go: before the
	// outermost loop, so that they are made once.
	declTop *[]jen.Code
	// topish is a statement list that will go straight to the top level:
	// the body of a loop nest whose dimensions are all written out.
	topish *[]jen.Code
}

// lens returns the lengths of the top-level and declaration lists.
func (o sink) lens() (top, decl int) {
	if o.declTop != nil {
		decl = len(*o.declTop)
	}
	return len(*o.top), decl
}

// truncate drops what was added to the top-level and declaration lists
// since lens returned top and decl.
func (o sink) truncate(top, decl int) {
	*o.top = (*o.top)[:top]
	if o.declTop != nil {
		*o.declTop = (*o.declTop)[:decl]
	}
}

// notes are the comments that tie statements to .bp lines.
type notes struct {
	pending  string // a comment waiting for the next statement
	quiet    bool   // no line comments for now
	lastLine int
	lastBack bool
}

// fusion is the state of loop fusion (fuse.go).
type fusion struct {
	pending *fusedLoop // the last top-level loop, still open to fusion
	body    *bodyRec   // what the top-level loop body being emitted reads
	lazy    map[*jen.Statement]*aliasWrite
	stores  []aliasStore // copies of aliased elements back into their arrays
}

// uses counts how variables are used.
type uses struct {
	// index counts the reads of each variable as an index, so that a loop
	// whose body never reads its variable is written "for range n".
	index map[string]int
	// counts are the reads and writes of each variable (by its base), and
	// decls the local arrays' declarations, for end.
	counts [2]map[string]int
	decls  map[string]*jen.Statement
}

func newFnGen(fg *fileGen, locals *namer) *fnGen {
	return &fnGen{fg: fg, slots: map[*symbolic.Node]place{}, locals: locals, steps: map[string]bool{}, invariant: map[*symbolic.Node]*symbolic.Node{},
		uses: uses{index: map[string]int{}, counts: [2]map[string]int{{}, {}}, decls: map[string]*jen.Statement{}}}
}

// collect returns the statements fn emits, sent to a list of their own
// (and the statement fn returns, if not nil), with out restored after.
func (f *fnGen) collect(fn func() jen.Code) []jen.Code {
	saved := f.out.block
	var b []jen.Code
	f.out.block = &b
	if s := fn(); s != nil {
		b = append(b, s)
	}
	f.out.block = saved
	return b
}

// begin directs statements to the function body body.
func (f *fnGen) begin(body *[]jen.Code) { f.out.block, f.out.top = body, body }

// add appends statements where statements go now. At the top level it
// first closes the pending loop: a statement between two loops stops them
// fusing.
func (f *fnGen) add(c ...jen.Code) {
	if f.out.block == f.out.top {
		f.flush()
		if f.notes.pending != "" {
			*f.out.top = append(*f.out.top, jen.Comment(f.notes.pending))
			f.notes.pending = ""
		}
	}
	*f.out.block = append(*f.out.block, c...)
}

// declare adds a variable declaration. At the top level it goes before the
// pending loop without closing it, so that declaring the next loop's array
// does not stop the two loops fusing.
func (f *fnGen) declare(c jen.Code) {
	if f.out.declTop != nil { // inside a loop: declare once, before it
		*f.out.declTop = append(*f.out.declTop, c)
		return
	}
	if f.out.block == f.out.top || f.out.block == f.out.topish {
		*f.out.top = append(*f.out.top, c)
		return
	}
	f.add(c)
}

// declareVar declares the local name, of shape s. An array's declaration
// is kept, so that end can take it out if nothing reads it.
func (f *fnGen) declareVar(name string, s symbolic.Shape) {
	st := jen.Var().Id(name).Add(goType(s))
	if len(s) > 0 {
		f.uses.decls[name] = st
	}
	f.declare(st)
}

// newLocal declares a local array of shape s (or, for a scalar, only
// names it: it is declared where it is assigned) and returns its place.
func (f *fnGen) newLocal(hint string, s symbolic.Shape) dest {
	name := f.locals.fresh(hint)
	if len(s) == 0 {
		return dest{localPlace(name), ":="}
	}
	f.declareVar(name, s)
	return dest{localPlace(name), "="}
}

// comment ties the statements that follow to the .bp line n was made for.
func (f *fnGen) comment(n *symbolic.Node) {
	if f.notes.quiet {
		return
	}
	back := f.split > 0 && n.ID >= f.split
	if n.Line == 0 || (n.Line == f.notes.lastLine && back == f.notes.lastBack) {
		return
	}
	f.notes.lastLine, f.notes.lastBack = n.Line, back
	src := strings.TrimSpace(f.fg.source(n.Line))
	text := fmt.Sprintf("%s:%d: %s", f.fg.prog.File, n.Line, src)
	if back {
		text = "backward of " + text
	}
	if f.out.block != f.out.top {
		f.add(jen.Comment(text))
		return
	}
	f.notes.pending = text
}

// elem is the Go expression for element idx of n (idx is nil for a scalar).
func (f *fnGen) elem(n *symbolic.Node, idx []ix) gexpr {
	if len(f.bound) > 0 {
		if e, ok := f.bound[n]; ok {
			return e
		}
	}
	if len(f.invariant) > 0 { // rare: most functions have none
		if c, ok := f.invariant[n]; ok {
			return f.elem(c, idx)
		}
	}
	if p, ok := f.slots[n]; ok {
		return f.access(p, idx)
	}
	return f.compute(n, idx)
}

// lvalue is element idx of p, to be written. Like access, it counts the
// index variables it uses.
func (f *fnGen) lvalue(p place, idx []ix) *jen.Statement {
	f.tally(wrote, p.base())
	f.count(p.pre)
	f.count(idx)
	return p.code(idx)
}

// tally counts one read or write of base. In a loop body being generated
// it is counted there, and lands in f.uses.counts only if the body is kept
// (loopNamed may generate a body twice).
func (f *fnGen) tally(k useKind, base string) {
	if b := f.fuse.body; b != nil {
		b.tallies = append(b.tallies, tally{k, base})
		return
	}
	f.uses.counts[k][base]++
}

func (f *fnGen) count(idx []ix) {
	for _, x := range idx {
		if x.v != "" {
			f.uses.index[x.v]++
		}
		if x.deps != "" {
			f.countDeps(x.deps)
		}
	}
}

// access reads element idx of p. Every read of a variable goes through it,
// so that the fusion check (fuse.go) sees all of them and the loops know
// which index variables their bodies use.
func (f *fnGen) access(p place, idx []ix) gexpr {
	f.count(p.pre)
	f.count(idx)
	if b := f.fuse.body; b != nil {
		full := append(slices.Clone(p.pre), idx...)
		b.reads = append(b.reads, elemRead{p.base(), full})
		if len(b.aliases) > 0 {
			if aw, ok := b.aliases[elemKey(p.base(), full)]; ok {
				if aw.local == "" {
					aw.local = f.locals.fresh(p.name() + "i")
				}
				b.aliasUse = append(b.aliasUse, aw)
				return ident(aw.local)
			}
		}
	}
	f.tally(read, p.base())
	return gexpr{c: p.code(idx), prec: precPrimary}
}

// indexes are the index expressions of an index or scatter node: its
// constants, and for the positions given at run time the integer inputs
// or loop variables.
func (f *fnGen) indexes(n *symbolic.Node) []ix {
	out := make([]ix, len(n.Ints))
	dyn := n.Args[1:]
	for i, v := range n.Ints {
		if v >= 0 {
			out[i] = cix(v)
			continue
		}
		out[i] = f.intIx(dyn[0], nil)
		dyn = dyn[1:]
	}
	return out
}

func argIdx(a *symbolic.Node, idx []ix) []ix {
	if len(a.Shape) == 0 {
		return nil
	}
	return idx
}

// compute builds element idx of n from its arguments.
func (f *fnGen) compute(n *symbolic.Node, idx []ix) gexpr {
	switch n.Op.Kind {
	case symbolic.Leaf:
		return lit(n.Val)
	case symbolic.Elementwise:
		return f.elementwise(n, idx)
	case symbolic.View:
		a := n.Args[0]
		switch n.Op.Code {
		case symbolic.OpIndex:
			return f.elem(a, append(f.indexes(n), idx...))
		case symbolic.OpTranspose:
			return f.elem(a, []ix{idx[1], idx[0]})
		case symbolic.OpBroadcast:
			return f.elem(a, nil)
		case symbolic.OpExpand:
			src := make([]ix, len(n.Ints))
			for i, ax := range n.Ints {
				src[i] = idx[ax]
			}
			return f.elem(a, src)
		case symbolic.OpTake:
			return f.elem(a, f.takeIndex(n, idx))
		case symbolic.OpWindow:
			return f.elem(a, windowIndex(n, idx))
		case symbolic.OpGather:
			return f.elem(a, f.gatherIndex(n, idx))
		case symbolic.OpSlide:
			return f.elem(a, f.slideIndex(n, idx))
		}
		return f.elem(a, idx) // stop_gradient
	case symbolic.Reduce:
		return f.reduceNode(n, "")
	case symbolic.Partial:
		return f.partial(n, idx)
	case symbolic.MatMul:
		if n.Op.Code == symbolic.OpBMatMul {
			return f.bmm(n, idx)
		}
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

func (f *fnGen) elementwise(n *symbolic.Node, idx []ix) gexpr {
	args := make([]gexpr, len(n.Args))
	konst := n.Op.Eval != nil
	for i, a := range n.Args {
		args[i] = f.elem(a, argIdx(a, idx))
		konst = konst && args[i].konst
	}
	if konst { // all literals: the value, computed as the op would at run time
		vals := make([]float64, len(args))
		for i, a := range args {
			vals[i] = a.val
		}
		return lit(n.Op.Eval(vals...))
	}
	form, ok := goForms[n.Op.Code]
	if !ok {
		panic("codegen: no Go form for op " + n.Op.Name)
	}
	return form.print(f, n, args)
}

func (f *fnGen) helperCall(h string, args []gexpr) gexpr {
	return gexpr{c: jen.Id(f.fg.helperName(h)).Call(codes(args)...), prec: precPrimary}
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

// sparse reports whether n is a scatter into more than one element that
// is not in a variable: it is written by adding its one row or element.
func (f *fnGen) sparse(n *symbolic.Node) bool {
	_, stored := f.slots[n]
	return !stored && (n.Op.Kind == symbolic.Scatter && !allOnes(n.Shape) || rowAdds(n))
}

// emit writes node n into d.
func (f *fnGen) emit(n *symbolic.Node, d dest) {
	f.comment(n)
	_, stored := f.slots[n]
	switch {
	case !stored && n.Op.Code == symbolic.OpUnwindow:
		f.emitUnwindow(n, d)
		return
	case !stored && (n.Op.Code == symbolic.OpUngather || n.Op.Code == symbolic.OpUnslide):
		f.emitUngather(n, d)
		return
	case !stored && n.Op.Kind == symbolic.ScatterAdd:
		f.emitPut(n, d)
		return
	case f.sparse(n):
		f.emitSum(n.Shape, d, nil, []*symbolic.Node{n})
		return
	case !stored && isSum(n) && slices.ContainsFunc(n.Args, f.sparse):
		var dense, sparse []*symbolic.Node
		for _, t := range n.Args {
			if f.sparse(t) {
				sparse = append(sparse, t)
			} else {
				dense = append(dense, t)
			}
		}
		f.emitSum(n.Shape, d, dense, sparse)
		return
	case !stored && isSum(n) && slices.ContainsFunc(n.Args, f.streamedTerm):
		f.emitVecMatSum(n, d)
		return
	case !stored && d.op == ":=" && n.Op.Kind == symbolic.Reduce:
		f.reduceNode(n, d.p.name()) // the accumulator is the variable: no copy
		return
	case !stored && d.op == ":=" && n.Op.Kind == symbolic.Partial && len(n.Shape) == 0:
		f.partialInto(n, nil, d.p.name())
		return
	}
	if d.op == ":=" && len(n.Shape) > 0 {
		f.declareVar(d.p.name(), n.Shape)
		d.op = "="
	}
	if g, ok := f.gemmOf(n); ok && !stored && len(d.p.path) > 1 {
		f.emitGemm(g, d)
		return
	}
	if !stored && n.Op.Code == symbolic.OpWindow && f.kernelVals[n] && f.copyWindow(n, d) {
		return
	}
	if g, ok := f.contractionKernel(n); ok && !stored && len(d.p.path) > 1 {
		f.emitContraction(g, d, n.Shape)
		return
	}
	if !stored && len(d.p.path) > 1 && f.bmmOf(n) {
		f.emitBMM(n, d)
		return
	}
	if !stored && d.op == "+=" && blockedOuter(n) && f.avail(n.Args[0]) && f.avail(n.Args[1]) {
		f.accumulateOuter4(n, d)
		return
	}
	if !stored && n.Op.Kind == symbolic.Outer && d.op == "+=" && n.Shape[0] > tiny && n.Shape[1] > tiny {
		f.accumulateOuter(n, d)
		return
	}
	if !stored && (d.op == "=" || d.op == "+=") && blockedVecMat(n) && f.avail(n.Args[0]) {
		f.vecmat4(n, d)
		return
	}
	if !stored && d.op == "=" && blocked(n) {
		if _, ok := f.slots[n.Args[0]]; ok {
			f.matvec4(n, d)
			return
		}
	}
	op := d.op
	if !stored && op == "+=" && n.Op.Code == symbolic.OpNeg {
		op, n = "-=", n.Args[0] // g.b -= x rather than g.b += -x
	}
	f.loop(n.Shape, d.p, func(idx []ix) jen.Code {
		e := f.elem(n, idx)
		if op == ":=" {
			return define(d.p.name(), e)
		}
		return f.write(d.p, idx, op, e)
	})
}

// write is the statement p[idx] op e. In a fused loop's body it keeps the
// record of aliases: an element assigned at the loop's own index may be
// read back by later parts of the loop from a local (fuse.go), and any
// other write ends the alias of the element it changes.
func (f *fnGen) write(p place, idx []ix, op string, e gexpr) jen.Code {
	plain := func() jen.Code {
		if op == "=" {
			return f.lvalue(p, idx).Op(op).Add(e.c)
		}
		f.tally(wrote, p.base())
		return f.access(p, idx).c.Op(op).Add(e.c) // x[i] += e reads x[i]
	}
	b := f.fuse.body
	if b == nil {
		return plain()
	}
	key := elemKey(p.base(), append(slices.Clone(p.pre), idx...))
	delete(b.aliases, key)
	if op != "=" || !slices.Equal(idx, b.prefix) || e.prec == precPrimary {
		return plain()
	}
	target := f.lvalue(p, idx)
	aw := &aliasWrite{expr: e, target: target, base: p.base()}
	st := target.Clone().Op("=").Add(e.c)
	if f.fuse.lazy == nil {
		f.fuse.lazy = map[*jen.Statement]*aliasWrite{}
	}
	f.fuse.lazy[st] = aw
	b.aliases[key] = aw
	return st
}

// accumulateOuter adds a bᵀ into d row by row, the weight-gradient update
// dW += δ xᵀ, with a[i] and the row's address read once per row. For long
// rows, a row whose factor a[i] is zero adds nothing and is skipped: behind
// a relu, half the rows of a layer's gradient are typically zero. (Skipping
// differs from adding 0·b only where b holds Inf or NaN.)
func (f *fnGen) accumulateOuter(n *symbolic.Node, d dest) {
	a, b := n.Args[0], n.Args[1]
	skipZero := n.Shape[1] >= 32 // worth a branch only for long rows
	bj := f.hoistedRow(b)
	f.loop(n.Shape[:1], d.p, func(idx []ix) jen.Code {
		// The factor a[i], read once per row: a local already if a is
		// one (no copy a := db1i), else one of its own.
		e := f.elem(a, idx)
		ai := e.local
		if ai == "" {
			ai = f.locals.fresh("a")
			f.add(define(ai, e))
		}
		row := f.locals.fresh("row")
		then := f.collect(func() jen.Code {
			f.add(jen.Id(row).Op(":=").Op("&").Add(f.access(d.p, idx).c))
			rowp := localPlace(row)
			update := func(jdx []ix) jen.Code {
				return f.lvalue(rowp, jdx).Op("+=").Id(ai).Op("*").Add(wrap(bj(jdx), precMul+1))
			}
			if n.Shape[1] <= shortRow { // written out: a loop of 4 costs more in control than in body
				for j := range n.Shape[1] {
					f.add(update([]ix{cix(j)}))
				}
				return nil
			}
			f.loopNamed(b.Shape, rowp, []string{"j"}, update)
			return nil
		})
		if skipZero {
			return jen.If(jen.Id(ai).Op("!=").Lit(0)).Block(then...)
		}
		f.add(then[:len(then)-1]...)
		return then[len(then)-1]
	})
}

// matvec4 emits the matrix-vector product n = A x into d four rows at a
// time (matvecPass).
func (f *fnGen) matvec4(n *symbolic.Node, d dest) {
	f.matvecPass([]mvMember{{n: n, d: d}})
}

// shortRow is the longest row of an outer-product update written out
// rather than looped over.
const shortRow = 4

// hoistedRow returns how to read element j of the vector b in a loop over
// j. A vector that is one row of a per-step array (ws.h[t], in.xs[t]) is
// read through a pointer to the row, taken once before the loops: Go does
// not hoist the address arithmetic of ws.h[t][j] itself, and it was most of
// the instructions of a recurrent layer's weight-gradient update. The
// address is read through access, so fusion sees the read of the array.
func (f *fnGen) hoistedRow(b *symbolic.Node) func(jdx []ix) gexpr {
	plain := func(jdx []ix) gexpr { return f.elem(b, jdx) }
	p, ok := f.slots[b]
	if !ok && b.Op.Code == symbolic.OpIndex {
		if pa, ok2 := f.slots[b.Args[0]]; ok2 {
			p, ok = pa.at(f.indexes(b)...), true
		}
	}
	if !ok || len(p.pre) == 0 || len(b.Shape) != 1 || f.out.block != f.out.top && f.out.block != f.out.topish {
		return plain
	}
	for _, x := range p.pre {
		if x.v != "" && !f.steps[x.v] {
			return plain // an index of a loop inside the step
		}
	}
	row := f.locals.fresh(unexported(p.name()) + "Row")
	// At the top of the step's body, before the pending loop: not where
	// declarations go (before the model's loop, where t is not defined).
	*f.out.top = append(*f.out.top, jen.Id(row).Op(":=").Op("&").Add(f.access(place{path: p.path, key: p.key, pre: p.pre[:len(p.pre)-1]}, p.pre[len(p.pre)-1:]).c))
	rp := localPlace(row)
	return func(jdx []ix) gexpr { return f.access(rp, jdx) }
}

// emitSum writes the sum of dense terms (computed elementwise) and scatter
// terms (each touching only its own row or element) into d.
func (f *fnGen) emitSum(shape symbolic.Shape, d dest, dense, sparse []*symbolic.Node) {
	op := d.op
	switch {
	case len(dense) > 0:
		if op == ":=" {
			f.declareVar(d.p.name(), shape)
			op = "="
		}
		f.loop(shape, d.p, func(idx []ix) jen.Code {
			e := f.elem(dense[0], argIdx(dense[0], idx))
			for _, t := range dense[1:] {
				e = infix(e, "+", f.elem(t, argIdx(t, idx)))
			}
			return f.write(d.p, idx, op, e)
		})
	case op == ":=":
		f.declareVar(d.p.name(), shape)
	case op == "=":
		f.add(f.lvalue(d.p, nil).Op("=").Add(arrayType(shape)).Values())
	}
	for _, s := range sparse {
		if rowAdds(s) {
			f.emitUngather(s, dest{p: d.p, op: "+="})
			continue
		}
		row := d.p.at(f.indexes(s)...)
		x := s.Args[0]
		f.loop(x.Shape, row, func(idx []ix) jen.Code {
			op, x := "+=", x
			_, stored := f.slots[x]
			switch {
			case x.Op.Code == symbolic.OpNeg && !stored:
				op, x = "-=", x.Args[0]
			}
			return f.write(row, idx, op, f.elem(x, idx))
		})
	}
}
