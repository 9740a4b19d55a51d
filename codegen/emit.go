package codegen

import (
	"fmt"
	"math"
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
	lastLine int
	lastBack bool
	split    int         // nodes with this ID or more are derivative code (0: none)
	nextAcc  string      // the name the next reduction's accumulator takes
	declTop  *[]jen.Code // inside a loop, where declarations go: before the outermost loop
	saves    *saves      // forward values saved per loop step for the backward pass
	// used records the loop variables read as indices, so that a loop whose
	// body never reads its variable is written "for range n".
	used map[string]bool
	// stateInto maps a loop state to the variable it lives in, where that
	// is not a variable of its own (a gradient accumulated straight into g).
	stateInto map[*symbolic.Node]string
	// wsAlloc, for a model, adds a workspace field for a value too big for
	// the stack and returns its path.
	wsAlloc func(name string, shape symbolic.Shape) string
}

func newFnGen(fg *fileGen, locals *namer) *fnGen {
	return &fnGen{fg: fg, slots: map[*symbolic.Node]string{}, locals: locals, used: map[string]bool{}}
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
		f.used[out[i]] = true
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
	op, n := d.op, n
	if _, ok := f.slots[n]; !ok && op == "+=" && n.Op.Name == "neg" {
		op, n = "-=", n.Args[0] // g.b -= x rather than g.b += -x
	}
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
		return f.access(d.base, idx).c.Op(op).Add(e.c)
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
			op, x := "+=", x
			_, stored := f.slots[x]
			switch {
			case x.IsConst(-1):
				return f.access(d.base, append(pre, idx...)).c.Op("--")
			case x.Op.Name == "neg" && !stored:
				op, x = "-=", x.Args[0]
			}
			return f.access(d.base, append(pre, idx...)).c.Op(op).Add(f.elem(x, idx).c)
		})
	}
}
