package symbolic

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/backpropgen/backpropgen/parser"
)

// MaxRank is the largest tensor rank a declaration may have.
const MaxRank = 3

// Lower checks f and turns it into a Program. Every error found is
// returned, up to parser.MaxErrors, as a *parser.ListError.
func Lower(f *parser.File) (*Program, error) {
	l := &lowerer{file: f, errs: &parser.ErrorList{}, consts: map[string]int{},
		fns: map[string]*parser.FnDecl{}, badFns: map[string]bool{}}
	prog := &Program{File: filepath.Base(f.Name)}
	l.declare()
	for _, fd := range l.fnOrder {
		if fn := l.fn(fd); fn != nil {
			prog.Fns = append(prog.Fns, fn)
		}
	}
	prog.Model = l.model()
	if err := l.errs.Err(); err != nil {
		return nil, err
	}
	return prog, nil
}

type lowerer struct {
	file    *parser.File
	errs    *parser.ErrorList
	consts  map[string]int
	fns     map[string]*parser.FnDecl
	fnOrder []*parser.FnDecl
	badFns  map[string]bool // fns with errors: calls to them report nothing more
	calling []string        // fns being inlined, to catch recursion
	model_  *parser.ModelDecl
}

func (l *lowerer) errorf(pos parser.Pos, format string, a ...any) {
	l.errs.Add(l.file, pos, format, a...)
}

// declare records consts, fns and the model declaration, so that order in
// the file does not matter for them.
func (l *lowerer) declare() {
	constLine := map[string]int{}
	for _, s := range l.file.Stmts {
		switch s := s.(type) {
		case *parser.ConstDecl:
			name := s.Name.Name
			if line, dup := constLine[name]; dup {
				l.errorf(s.Name.P, "const %s redeclared (first declared on line %d)", name, line)
				continue
			}
			v, ok := l.constInt(s.Value)
			if !ok {
				continue
			}
			l.consts[name], constLine[name] = v, s.P.Line
		case *parser.FnDecl:
			name := s.Name.Name
			if prev, dup := l.fns[name]; dup {
				l.errorf(s.Name.P, "fn %s redeclared (first declared on line %d)", name, prev.P.Line)
				continue
			}
			if _, isBuiltin := builtins[name]; isBuiltin {
				l.errorf(s.Name.P, "fn %s would hide the built-in function of that name", name)
				continue
			}
			l.fns[name] = s
			l.fnOrder = append(l.fnOrder, s)
		case *parser.ModelDecl:
			if l.model_ != nil {
				l.errorf(s.P, "a file holds one model; model %s is already declared on line %d", l.model_.Name.Name, l.model_.P.Line)
				continue
			}
			l.model_ = s
		}
	}
}

// constInt evaluates an integer constant expression: literals, consts and
// + - * of them.
func (l *lowerer) constInt(e parser.Expr) (int, bool) {
	switch e := e.(type) {
	case *parser.Number:
		if !e.IsInt {
			l.errorf(e.P, "%s is not an integer", e.Text)
			return 0, false
		}
		return int(e.Value), true
	case *parser.Ident:
		if v, ok := l.consts[e.Name]; ok {
			return v, true
		}
		l.errorf(e.P, "%s is not an integer constant", e.Name)
		return 0, false
	case *parser.Unary:
		v, ok := l.constInt(e.X)
		return -v, ok
	case *parser.Binary:
		a, ok1 := l.constInt(e.X)
		b, ok2 := l.constInt(e.Y)
		if !ok1 || !ok2 {
			return 0, false
		}
		switch e.Op {
		case "+":
			return a + b, true
		case "-":
			return a - b, true
		case "*":
			return a * b, true
		}
	}
	l.errorf(e.Pos(), "expected an integer constant")
	return 0, false
}

// shape evaluates declared dimensions.
func (l *lowerer) shape(d *parser.VarDecl) (Shape, bool) {
	if len(d.Dims) > MaxRank {
		l.errorf(d.Dims[MaxRank].Pos(), "%s has rank %d; tensors have at most rank %d", d.Name.Name, len(d.Dims), MaxRank)
		return nil, false
	}
	var s Shape
	for _, e := range d.Dims {
		v, ok := l.constInt(e)
		if !ok {
			return nil, false
		}
		if v <= 0 {
			l.errorf(e.Pos(), "dimension of %s must be positive, got %d", d.Name.Name, v)
			return nil, false
		}
		s = append(s, v)
	}
	return s, true
}

// scope is a place names are bound: a fn body or the model, over one graph.
type scope struct {
	l     *lowerer
	g     *Graph
	names map[string]*binding
	quiet bool  // inlining a fn already checked: report nothing twice
	loop  *Loop // the innermost loop being lowered, if any
}

type binding struct {
	node *Node
	kind string // "param", "input", "arg" or "value"
	line int
}

func (l *lowerer) newScope(g *Graph) *scope {
	return &scope{l: l, g: g, names: map[string]*binding{}}
}

func (s *scope) error(pos parser.Pos, format string, a ...any) {
	if !s.quiet {
		s.l.errorf(pos, format, a...)
	}
}

// bind defines name, refusing to shadow a declaration.
func (s *scope) bind(id *parser.Ident, n *Node, kind string) bool {
	if b, ok := s.names[id.Name]; ok && b.kind != "value" {
		s.error(id.P, "cannot assign to %s %s (declared on line %d)", b.kind, id.Name, b.line)
		return false
	}
	if _, ok := s.l.consts[id.Name]; ok {
		s.error(id.P, "cannot assign to const %s", id.Name)
		return false
	}
	if kind == "value" && n.Name == "" && n.Op != opVar && n.Op != opConst {
		n.Name = id.Name
	}
	s.names[id.Name] = &binding{node: n, kind: kind, line: id.P.Line}
	return true
}

// declareVar makes the leaf for a param, input or fn argument.
func (s *scope) declareVar(d *parser.VarDecl, kind VarKind) (*Var, *Node) {
	if b, ok := s.names[d.Name.Name]; ok {
		s.error(d.Name.P, "%s redeclared (first declared on line %d)", d.Name.Name, b.line)
		return nil, nil
	}
	if d.Int {
		if kind != Input || len(d.Dims) > 0 {
			s.error(d.Name.P, "only a scalar input can be an integer: input %s int", d.Name.Name)
			s.names[d.Name.Name] = &binding{kind: d.Kind, line: d.P.Line} // poisoned
			return nil, nil
		}
		v := &Var{Name: d.Name.Name, Kind: kind, Line: d.P.Line, Int: true}
		n := s.g.VarNode(v)
		s.names[v.Name] = &binding{node: n, kind: d.Kind, line: d.P.Line}
		return v, n
	}
	shape, ok := s.l.shape(d)
	if !ok {
		s.names[d.Name.Name] = &binding{kind: d.Kind, line: d.P.Line} // poisoned
		return nil, nil
	}
	v := &Var{Name: d.Name.Name, Kind: kind, Shape: shape, Line: d.P.Line}
	n := s.g.VarNode(v)
	s.names[v.Name] = &binding{node: n, kind: d.Kind, line: d.P.Line}
	return v, n
}

func (l *lowerer) fn(fd *parser.FnDecl) *Func {
	before := l.errs.Len()
	g := NewGraph()
	s := l.newScope(g)
	f := &Func{Name: fd.Name.Name, Graph: g, Line: fd.P.Line}
	for _, a := range fd.Args {
		v, n := s.declareVar(a, Arg)
		if v != nil {
			f.Args, f.ArgNodes = append(f.Args, v), append(f.ArgNodes, n)
		}
	}
	l.calling = append(l.calling, f.Name)
	f.Result = s.body(fd)
	l.calling = l.calling[:len(l.calling)-1]
	if l.errs.Len() > before || f.Result == nil {
		l.badFns[f.Name] = true
		return nil
	}
	return f
}

// body lowers a fn's statements and returns the value of its return.
func (s *scope) body(fd *parser.FnDecl) *Node {
	var result *Node
	for i, st := range fd.Body {
		s.g.Line = st.Pos().Line
		switch st := st.(type) {
		case *parser.Assign:
			s.assign(st)
		case *parser.Return:
			if i != len(fd.Body)-1 {
				s.error(st.P, "return must be the last statement of fn %s", fd.Name.Name)
				return nil
			}
			result = s.expr(st.Value)
		default:
			s.error(st.Pos(), "%s is not allowed inside fn %s", stmtName(st), fd.Name.Name)
		}
	}
	if result == nil && (len(fd.Body) == 0 || !isReturn(fd.Body[len(fd.Body)-1])) {
		s.error(fd.P, "fn %s has no return", fd.Name.Name)
	}
	return result
}

func isReturn(st parser.Stmt) bool { _, ok := st.(*parser.Return); return ok }

func stmtName(st parser.Stmt) string {
	switch st := st.(type) {
	case *parser.VarDecl:
		return st.Kind
	case *parser.ConstDecl:
		return "const"
	case *parser.OutputDecl:
		return "output"
	case *parser.ModelDecl:
		return "model"
	case *parser.FnDecl:
		return "fn"
	case *parser.For:
		return "for"
	case *parser.Return:
		return "return"
	}
	return "statement"
}

func (s *scope) assign(st *parser.Assign) {
	v := s.expr(st.Value)
	if v == nil {
		s.poison(st.Name)
		return
	}
	if st.Op == "+=" {
		b, ok := s.names[st.Name.Name]
		if !ok {
			s.undefined(st.Name)
			return
		}
		if b.node == nil {
			return
		}
		if !s.checkBinary("+", st.P, b.node.Shape, v.Shape) {
			s.poison(st.Name)
			return
		}
		v = s.g.Add(b.node, v)
	}
	s.bind(st.Name, v, "value")
}

// forLoop lowers "for VAR in FROM..TO { BODY }". A name the body assigns
// that is bound before the loop is carried from step to step; a name first
// bound in the body is local to one step.
func (s *scope) forLoop(st *parser.For) {
	from, ok1 := s.l.constIntQuiet(s, st.From)
	to, ok2 := s.l.constIntQuiet(s, st.To)
	if !ok1 || !ok2 {
		return
	}
	if from < 0 || to <= from {
		s.error(st.From.Pos(), "loop %s in %d..%d runs no step (the range is FROM..TO, TO excluded)", st.Var.Name, from, to)
		return
	}
	var carried []string
	for _, name := range assignedNames(st.Body) {
		if b, ok := s.names[name]; ok && b.kind == "value" && b.node != nil {
			carried = append(carried, name)
		}
	}
	l := s.g.NewLoop(s.loop, st.Var.Name, from, to)
	body := &scope{l: s.l, g: s.g, names: map[string]*binding{}, quiet: s.quiet, loop: l}
	for name, b := range s.names {
		body.names[name] = b
	}
	body.names[st.Var.Name] = &binding{node: l.Index, kind: "loop variable", line: st.P.Line}
	var inits []*Node
	for _, name := range carried {
		init := s.names[name].node
		body.names[name] = &binding{node: s.g.AddState(l, name, init.Shape), kind: "value", line: st.P.Line}
		inits = append(inits, init)
	}
	for _, bst := range st.Body {
		s.g.Line = bst.Pos().Line
		switch bst := bst.(type) {
		case *parser.Assign:
			body.assign(bst)
		case *parser.For:
			body.forLoop(bst)
		default:
			s.error(bst.Pos(), "%s is not allowed inside a for loop", stmtName(bst))
		}
	}
	next := make([]*Node, len(carried))
	for i, name := range carried {
		b := body.names[name]
		if b.node == nil {
			s.poison(&parser.Ident{P: st.P, Name: name})
			return
		}
		if !b.node.Shape.Equal(inits[i].Shape) {
			s.error(st.P, "%s changes shape in the loop: %v before it, %v after one step", name, inits[i].Shape, b.node.Shape)
			return
		}
		next[i] = b.node
	}
	s.g.Line = st.P.Line
	outs := s.g.Close(l, inits, next)
	for i, name := range carried {
		s.names[name] = &binding{node: outs[i], kind: "value", line: st.P.Line}
	}
}

// assignedNames lists, in order of first appearance, the names statements
// (and the loops among them) assign.
func assignedNames(stmts []parser.Stmt) []string {
	var out []string
	seen := map[string]bool{}
	for _, st := range stmts {
		parser.Inspect(st, func(n parser.Node) bool {
			if a, ok := n.(*parser.Assign); ok && !seen[a.Name.Name] {
				seen[a.Name.Name] = true
				out = append(out, a.Name.Name)
			}
			return true
		})
	}
	return out
}

// poison binds name to a value that failed to lower: using it later is not
// reported again, since the error that matters has been.
func (s *scope) poison(id *parser.Ident) {
	if b, ok := s.names[id.Name]; ok && b.kind != "value" {
		return
	}
	s.names[id.Name] = &binding{kind: "value", line: id.P.Line}
}

func (l *lowerer) model() *Model {
	md := l.model_
	var m *Model
	var s *scope
	if md != nil {
		g := NewGraph()
		m = &Model{Name: md.Name.Name, Line: md.P.Line, Graph: g}
		s = l.newScope(g)
	}
	outputs := map[string]int{}
	for _, st := range l.file.Stmts {
		switch st.(type) {
		case *parser.FnDecl, *parser.ConstDecl, *parser.ModelDecl:
			continue
		}
		if m == nil {
			l.errorf(st.Pos(), "%s outside a model: start the file with \"model NAME\"", stmtName(st))
			return nil
		}
		s.g.Line = st.Pos().Line
		switch st := st.(type) {
		case *parser.VarDecl:
			kind := map[string]VarKind{"param": Param, "input": Input}[st.Kind]
			v, n := s.declareVar(st, kind)
			if v == nil {
				continue
			}
			if kind == Param {
				m.Params, m.ParamNodes = append(m.Params, v), append(m.ParamNodes, n)
			} else {
				m.Inputs = append(m.Inputs, v)
			}
		case *parser.Assign:
			s.assign(st)
		case *parser.OutputDecl:
			name := st.Name.Name
			if line, dup := outputs[name]; dup {
				l.errorf(st.Name.P, "output %s redeclared (first declared on line %d)", name, line)
				continue
			}
			var n *Node
			if st.Value != nil {
				if n = s.expr(st.Value); n != nil {
					s.bind(st.Name, n, "value")
				}
			} else {
				n = s.ident(st.Name)
			}
			if n == nil {
				s.poison(st.Name)
			} else {
				outputs[name] = st.P.Line
				m.Outputs = append(m.Outputs, &Output{Name: name, Node: n, Line: st.P.Line})
			}
		case *parser.For:
			s.forLoop(st)
		default:
			l.errorf(st.Pos(), "%s is not allowed in a model", stmtName(st))
		}
	}
	if m == nil {
		return nil
	}
	b, ok := s.names["loss"]
	switch {
	case ok && b.node == nil: // its error is reported
	case !ok:
		l.errorf(md.P, "model %s does not define loss: bind the scalar to minimize, as in \"loss = ...\"", m.Name)
	case !b.node.IsScalar():
		l.errorf(parser.Pos{Line: b.line, Col: 1}, "loss must be a scalar, got %v", b.node.Shape)
	default:
		m.Loss = b.node
	}
	if len(m.Params) == 0 && l.errs.Len() == 0 {
		l.errorf(md.P, "model %s has no param to differentiate", m.Name)
	}
	return m
}

// expr lowers an expression, reporting what is wrong with it. It returns nil
// after an error.
func (s *scope) expr(e parser.Expr) *Node {
	switch e := e.(type) {
	case *parser.Number:
		return s.g.Const(e.Value)
	case *parser.Ident:
		return s.ident(e)
	case *parser.Unary:
		x := s.expr(e.X)
		if x == nil {
			return nil
		}
		return s.g.Neg(x)
	case *parser.Binary:
		return s.binary(e)
	case *parser.Call:
		return s.call(e)
	case *parser.Index:
		return s.index(e)
	}
	s.error(e.Pos(), "unexpected expression")
	return nil
}

func (s *scope) ident(id *parser.Ident) *Node {
	if b, ok := s.names[id.Name]; ok {
		if b.node != nil && b.node.Var != nil && b.node.Var.Int {
			what := "an integer input"
			if b.node.Var.Kind == Index {
				what = "a loop variable"
			}
			s.error(id.P, "%s is %s: it can only index a tensor, as in x[%s]", id.Name, what, id.Name)
			return nil
		}
		return b.node // nil for a poisoned name
	}
	if v, ok := s.l.consts[id.Name]; ok {
		return s.g.Const(float64(v))
	}
	if _, ok := builtins[id.Name]; ok {
		s.error(id.P, "%s is a function; call it as %s(...)", id.Name, id.Name)
		return nil
	}
	s.undefined(id)
	return nil
}

func (s *scope) undefined(id *parser.Ident) {
	var names []string
	for n := range s.names {
		names = append(names, n)
	}
	for n := range s.l.consts {
		names = append(names, n)
	}
	msg := "undefined: " + id.Name
	if near := nearest(id.Name, names); near != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", near)
	}
	s.error(id.P, "%s", msg)
}

var binaryOps = map[string]func() *Op{
	"+": func() *Op { return opAdd }, "-": func() *Op { return opSub },
	"*": func() *Op { return opMul }, "/": func() *Op { return opDiv },
	"^": func() *Op { return opPow },
}

func (s *scope) binary(e *parser.Binary) *Node {
	a, b := s.expr(e.X), s.expr(e.Y)
	if a == nil || b == nil {
		return nil
	}
	if e.Op == "@" {
		return s.matmul(e, a, b)
	}
	if !s.checkBinary(e.Op, e.P, a.Shape, b.Shape) {
		return nil
	}
	return s.g.Binary(binaryOps[e.Op](), a, b)
}

// checkBinary reports elementwise operands whose shapes do not match.
func (s *scope) checkBinary(op string, pos parser.Pos, a, b Shape) bool {
	if _, ok := broadcastShape(a, b); ok {
		return true
	}
	var msg string
	switch op {
	case "+":
		msg = fmt.Sprintf("cannot add %v and %v", a, b)
	case "-":
		msg = fmt.Sprintf("cannot subtract %v from %v", b, a)
	case "*":
		msg = fmt.Sprintf("cannot multiply %v by %v elementwise (use @ for a matrix product)", a, b)
	case "/":
		msg = fmt.Sprintf("cannot divide %v by %v", a, b)
	default:
		msg = fmt.Sprintf("cannot raise %v to the power %v", a, b)
	}
	s.error(pos, "%s: shapes must be equal or one a scalar", msg)
	return false
}

func (s *scope) matmul(e *parser.Binary, a, b *Node) *Node {
	if len(a.Shape) == 1 && a.Shape.Equal(b.Shape) {
		return s.g.Sum(s.g.Mul(a, b)) // vector @ vector is their dot product
	}
	if _, ok := MatMulShape(a.Shape, b.Shape); !ok {
		s.error(e.P, "cannot multiply %v by %v", a.Shape, b.Shape)
		return nil
	}
	return s.g.MatMul(a, b)
}

func (s *scope) index(e *parser.Index) *Node {
	x := s.expr(e.X)
	if x == nil {
		return nil
	}
	return s.indexNode(x, e.Indexes, e.P)
}

// indexNode indexes x by constant integers or integer inputs.
func (s *scope) indexNode(x *Node, indexes []parser.Expr, pos parser.Pos) *Node {
	if len(indexes) > len(x.Shape) {
		s.error(pos, "too many indices: %d for a value of shape %v", len(indexes), x.Shape)
		return nil
	}
	ints := make([]int, len(indexes))
	var dyn []*Node
	for i, ie := range indexes {
		if v := s.intVar(ie); v != nil {
			ints[i] = -1
			dyn = append(dyn, v)
			if v.Var.Kind == Index {
				if v.Var.Range > x.Shape[i] {
					s.error(ie.Pos(), "%s runs to %d, outside dimension %d of shape %v", v.Var.Name, v.Var.Range-1, i+1, x.Shape)
					return nil
				}
			} else if r := v.Var.Range; r == 0 || x.Shape[i] < r {
				v.Var.Range = x.Shape[i]
			}
			continue
		}
		v, ok := s.l.constIntQuiet(s, ie)
		if !ok {
			return nil
		}
		if v < 0 || v >= x.Shape[i] {
			s.error(ie.Pos(), "index %d out of range for dimension %d of shape %v", v, i+1, x.Shape)
			return nil
		}
		ints[i] = v
	}
	return s.g.Index(x, ints, dyn...)
}

// intVar returns the node of the integer input e names, or nil.
func (s *scope) intVar(e parser.Expr) *Node {
	id, ok := e.(*parser.Ident)
	if !ok {
		return nil
	}
	if b, ok := s.names[id.Name]; ok && b.node != nil && b.node.Var != nil && b.node.Var.Int {
		return b.node
	}
	return nil
}

// constIntQuiet is constInt that respects the scope's quietness.
func (l *lowerer) constIntQuiet(s *scope, e parser.Expr) (int, bool) {
	if s.quiet {
		saved := l.errs
		l.errs = &parser.ErrorList{}
		defer func() { l.errs = saved }()
	}
	return l.constInt(e)
}

func (s *scope) call(e *parser.Call) *Node {
	name := e.Fun.Name
	if v, ok := shapeBuiltins[name]; ok {
		return s.filled(e, v)
	}
	if name == "cross_entropy" {
		return s.crossEntropy(e)
	}
	b, isBuiltin := builtins[name]
	fd, isFn := s.l.fns[name]
	if !isBuiltin && !isFn {
		var names []string
		for n := range builtins {
			names = append(names, n)
		}
		for n := range s.l.fns {
			names = append(names, n)
		}
		for n := range shapeBuiltins {
			names = append(names, n)
		}
		names = append(names, "cross_entropy")
		msg := "undefined function: " + name
		if near := nearest(name, names); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		s.error(e.Fun.P, "%s", msg)
		return nil
	}
	want := -1
	if isBuiltin {
		want = b.nargs
	} else {
		want = len(fd.Args)
	}
	if want >= 0 && len(e.Args) != want {
		s.error(e.P, "%s takes %d argument%s, got %d", name, want, plural(want), len(e.Args))
		return nil
	}
	args := make([]*Node, len(e.Args))
	for i, a := range e.Args {
		if args[i] = s.expr(a); args[i] == nil {
			return nil
		}
	}
	if isBuiltin {
		return b.lower(&call{scope: s, expr: e, args: args})
	}
	return s.inline(e, fd, args)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// crossEntropy lowers cross_entropy(logits, label), the negative log
// probability softmax(logits) gives class label: logsumexp(logits) -
// logits[label], stable for any logits.
func (s *scope) crossEntropy(e *parser.Call) *Node {
	if len(e.Args) != 2 {
		s.error(e.P, "cross_entropy takes 2 arguments, got %d", len(e.Args))
		return nil
	}
	logits := s.expr(e.Args[0])
	if logits == nil {
		return nil
	}
	if len(logits.Shape) != 1 {
		s.error(e.Args[0].Pos(), "cross_entropy needs a vector of logits, got %v", logits.Shape)
		return nil
	}
	picked := s.indexNode(logits, e.Args[1:], e.Args[1].Pos())
	if picked == nil {
		return nil
	}
	return s.g.Sub(s.g.LogSumExp(logits), picked)
}

// filled lowers zeros(dims...) and ones(dims...).
func (s *scope) filled(e *parser.Call, v float64) *Node {
	var shape Shape
	for _, a := range e.Args {
		d, ok := s.l.constIntQuiet(s, a)
		if !ok {
			return nil
		}
		if d <= 0 {
			s.error(a.Pos(), "dimension must be positive, got %d", d)
			return nil
		}
		shape = append(shape, d)
	}
	return s.g.Broadcast(s.g.Const(v), shape)
}

// inline lowers a call of a user fn by lowering its body in the caller's
// graph with the arguments bound: calls cost nothing at run time and the
// caller's derivative sees through them.
func (s *scope) inline(e *parser.Call, fd *parser.FnDecl, args []*Node) *Node {
	name := fd.Name.Name
	if slices.Contains(s.l.calling, name) {
		// Reported even from inside an inlined body: nothing else would.
		s.l.errorf(e.Fun.P, "fn %s calls itself (through %s); recursion is not supported", name, strings.Join(s.l.calling, " → "))
		return nil
	}
	if s.l.badFns[name] {
		return nil
	}
	inner := s.l.newScope(s.g)
	inner.quiet = true
	for i, a := range fd.Args {
		shape, ok := s.l.shape(a)
		if !ok {
			return nil
		}
		if !shape.Equal(args[i].Shape) {
			s.error(e.Args[i].Pos(), "argument %s of %s must have shape %v, got %v", a.Name.Name, name, shape, args[i].Shape)
			return nil
		}
		inner.names[a.Name.Name] = &binding{node: args[i], kind: "arg", line: a.P.Line}
	}
	s.l.calling = append(s.l.calling, name)
	defer func() { s.l.calling = s.l.calling[:len(s.l.calling)-1] }()
	line := s.g.Line
	defer func() { s.g.Line = line }()
	r := inner.body(fd)
	if r == nil {
		return nil
	}
	return r
}

// sortedKeys is for deterministic iteration over small maps.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var _ = math.Inf
var _ = sortedKeys[int]
