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

// fnGen emits the body of one Go function from a graph.
type fnGen struct {
	fg     *fileGen
	slots  map[*symbolic.Node]place // nodes whose value is in a Go variable
	locals *namer
	block  *[]jen.Code // where statements go now
	top    *[]jen.Code // the function body, or the body of the loop being emitted
	// declTop, inside a loop, is where declarations go: before the
	// outermost loop, so that they are made once.
	declTop *[]jen.Code
	// topish is a statement list that will go straight to the top level:
	// the body of a loop nest whose dimensions are all written out.
	topish  *[]jen.Code
	pending *fusedLoop // the last top-level loop, still open to fusion
	body    *bodyRec   // what the top-level loop body being emitted reads
	lazy    map[*jen.Statement]*aliasWrite

	comment_ string // a comment waiting for the next statement
	quiet    bool   // no line comments for now
	lastLine int
	lastBack bool
	split    int // nodes with this ID or more are derivative code (0: none)

	saves *saves // forward values saved per loop step for the backward pass
	// steps are the variables of the model's loops: fixed while a loop
	// of element indices inside a step runs.
	steps map[string]bool
	// used counts the reads of each variable as an index, so that a loop
	// whose body never reads its variable is written "for range n".
	used map[string]int
	// stateInto maps a loop state to the place it lives in, where that is
	// not a variable of its own (a gradient accumulated straight into g).
	stateInto map[*symbolic.Node]place
	// counts are the reads and writes of each variable (by its base);
	// stores are the copies of aliased elements back into their arrays,
	// and decls the local arrays' declarations, for end.
	counts [2]map[string]int
	stores []aliasStore
	decls  map[string]*jen.Statement
	// wsAlloc, for a model, adds a workspace field for a value too big for
	// the stack and returns its place.
	wsAlloc func(name string, shape symbolic.Shape) place
}

func newFnGen(fg *fileGen, locals *namer) *fnGen {
	return &fnGen{fg: fg, slots: map[*symbolic.Node]place{}, locals: locals, used: map[string]int{}, steps: map[string]bool{},
		counts: [2]map[string]int{{}, {}}, decls: map[string]*jen.Statement{}}
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

// declareVar declares the local name, of shape s. An array's declaration
// is kept, so that end can take it out if nothing reads it.
func (f *fnGen) declareVar(name string, s symbolic.Shape) {
	st := jen.Var().Id(name).Add(goType(s))
	if len(s) > 0 {
		f.decls[name] = st
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
	if f.quiet {
		return
	}
	back := f.split > 0 && n.ID >= f.split
	if n.Line == 0 || (n.Line == f.lastLine && back == f.lastBack) {
		return
	}
	f.lastLine, f.lastBack = n.Line, back
	src := strings.TrimSpace(f.fg.source(n.Line))
	text := fmt.Sprintf("%s:%d: %s", f.fg.prog.File, n.Line, src)
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
func (f *fnGen) elem(n *symbolic.Node, idx []ix) gexpr {
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
// it is counted there, and lands in f.counts only if the body is kept
// (loopNamed may generate a body twice).
func (f *fnGen) tally(k useKind, base string) {
	if b := f.body; b != nil {
		b.tallies = append(b.tallies, tally{k, base})
		return
	}
	f.counts[k][base]++
}

func (f *fnGen) count(idx []ix) {
	for _, x := range idx {
		if x.v != "" {
			f.used[x.v]++
		}
	}
}

// access reads element idx of p. Every read of a variable goes through it,
// so that the fusion check (fuse.go) sees all of them and the loops know
// which index variables their bodies use.
func (f *fnGen) access(p place, idx []ix) gexpr {
	f.count(p.pre)
	f.count(idx)
	if b := f.body; b != nil {
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
		out[i] = vix(f.slots[dyn[0]].base())
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
		}
		return f.elem(a, idx) // stop_gradient
	case symbolic.Reduce:
		return f.reduceNode(n, "")
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
	return !stored && n.Op.Kind == symbolic.Scatter && !allOnes(n.Shape)
}

// emit writes node n into d.
func (f *fnGen) emit(n *symbolic.Node, d dest) {
	f.comment(n)
	_, stored := f.slots[n]
	switch {
	case f.sparse(n):
		f.emitSum(n.Shape, d, nil, []*symbolic.Node{n})
		return
	case !stored && n.Op.Code == symbolic.OpAddN && slices.ContainsFunc(n.Args, f.sparse):
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
	case !stored && d.op == ":=" && n.Op.Kind == symbolic.Reduce:
		f.reduceNode(n, d.p.name()) // the accumulator is the variable: no copy
		return
	}
	if d.op == ":=" && len(n.Shape) > 0 {
		f.declareVar(d.p.name(), n.Shape)
		d.op = "="
	}
	if !stored && n.Op.Kind == symbolic.Outer && d.op == "+=" && n.Shape[0] > tiny && n.Shape[1] > tiny {
		f.accumulateOuter(n, d)
		return
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
	b := f.body
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
	if f.lazy == nil {
		f.lazy = map[*jen.Statement]*aliasWrite{}
	}
	f.lazy[st] = aw
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
	f.loop(n.Shape[:1], d.p, func(idx []ix) jen.Code {
		ai := f.locals.fresh("a")
		f.add(define(ai, f.elem(a, idx)))
		row := f.locals.fresh("row")
		var then []jen.Code
		saved := f.block
		f.block = &then
		f.add(jen.Id(row).Op(":=").Op("&").Add(f.access(d.p, idx).c))
		rowp := localPlace(row)
		f.loopNamed(b.Shape, rowp, []string{"j"}, func(jdx []ix) jen.Code {
			return f.lvalue(rowp, jdx).Op("+=").Id(ai).Op("*").Add(wrap(f.elem(b, jdx), precMul+1))
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
