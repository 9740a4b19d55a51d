package symbolic

import (
	"path/filepath"
	"strings"

	"github.com/backpropgen/backpropgen/parser"
)

// MaxRank is the largest tensor rank a declaration may have (4 for a
// convolution's kernels), and MaxIntRank that of a tensor of integer
// inputs.
const (
	MaxRank    = 4
	MaxIntRank = 3
)

// Lower checks f and turns it into a Program. Every error found is
// returned, up to parser.MaxErrors, as a *parser.ListError.
func Lower(f *parser.File) (*Program, error) {
	l := &lowerer{file: f, errs: &parser.ErrorList{}, consts: map[string]int{},
		constDecls: map[string]*parser.ConstDecl{}, loopNames: map[string]string{},
		fns: map[string]*parser.FnDecl{}, badFns: map[string]bool{}, badConsts: map[string]bool{}}
	prog := &Program{File: filepath.Base(f.Name)}
	l.declare()
	for _, fd := range l.fnOrder {
		if fn := l.fn(fd); fn != nil {
			prog.Fns = append(prog.Fns, fn)
		}
	}
	prog.Model = l.model()
	if !hasModelOrFn(f) && l.errs.Len() == 0 {
		pos := parser.Pos{Line: 1, Col: 1}
		if len(f.Stmts) > 0 {
			pos = f.Stmts[0].Pos()
		}
		l.errorf(pos, "no model or fn in the file: a .bp file declares a model (model NAME) or fns (fn NAME(ARGS) = EXPR)")
	}
	if err := l.errs.Err(); err != nil {
		return nil, err
	}
	return prog, nil
}

func hasModelOrFn(f *parser.File) bool {
	for _, s := range f.Stmts {
		switch s.(type) {
		case *parser.ModelDecl, *parser.FnDecl:
			return true
		}
	}
	return false
}

type lowerer struct {
	file    *parser.File
	errs    *parser.ErrorList
	consts  map[string]int
	fns     map[string]*parser.FnDecl
	fnOrder []*parser.FnDecl
	badFns  map[string]bool // fns with errors: calls to them report nothing more
	// consts whose value is in error: uses of them report nothing more
	badConsts map[string]bool
	calling   []string // fns being inlined, to catch recursion
	// every const declaration, evaluated on first use so that order in the
	// file does not matter; constStack is the chain being evaluated
	constDecls map[string]*parser.ConstDecl
	constStack []string
	// names that exist only inside a loop (its variable, values first bound
	// in its body), for a clear message when used after it
	loopNames map[string]string
	model_    *parser.ModelDecl
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
			l.constDecls[name], constLine[name] = s, s.P.Line
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
	for _, s := range l.file.Stmts {
		if c, ok := s.(*parser.ConstDecl); ok && l.constDecls[c.Name.Name] == c {
			l.constValue(c.Name.Name)
		}
	}
}

// constValue evaluates the const name, once: its value, or false if it is
// in error (reported once, at its declaration or in its value).
func (l *lowerer) constValue(name string) (int, bool) {
	if v, ok := l.consts[name]; ok {
		return v, true
	}
	if l.badConsts[name] {
		return 0, false
	}
	d := l.constDecls[name]
	for i, n := range l.constStack {
		if n == name {
			cycle := append(append([]string(nil), l.constStack[i:]...), name)
			l.errorf(l.constDecls[cycle[0]].Name.P, "const %s is defined in terms of itself: %s", cycle[0], strings.Join(cycle, " → "))
			for _, c := range cycle {
				l.badConsts[c] = true
			}
			return 0, false
		}
	}
	l.constStack = append(l.constStack, name)
	v, ok := l.constInt(d.Value)
	l.constStack = l.constStack[:len(l.constStack)-1]
	if !ok || l.badConsts[name] {
		l.badConsts[name] = true // reported: uses of it are not
		return 0, false
	}
	l.consts[name] = v
	return v, true
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
		if e.Value > MaxElements {
			l.errorf(e.P, "%s is too large (the limit is %d)", e.Text, MaxElements)
			return 0, false
		}
		return int(e.Value), true
	case *parser.Ident:
		if _, ok := l.constDecls[e.Name]; ok {
			return l.constValue(e.Name)
		}
		if where, ok := l.loopNames[e.Name]; ok {
			l.errorf(e.P, "%s is %s, and exists only inside it", e.Name, where)
			return 0, false
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
		var v int
		switch e.Op {
		case "+":
			v = a + b
		case "-":
			v = a - b
		case "*":
			v = a * b
		default:
			l.errorf(e.Pos(), "%s in a constant expression: integer constants combine with + - * only", e.Op)
			return 0, false
		}
		if v > MaxElements || v < -MaxElements {
			l.errorf(e.Pos(), "%d is too large (the limit is %d)", v, MaxElements)
			return 0, false
		}
		return v, true
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
	if d.Int && len(d.Dims) > MaxIntRank {
		l.errorf(d.Dims[MaxIntRank].Pos(), "%s has rank %d; tensors of integers have at most rank %d", d.Name.Name, len(d.Dims), MaxIntRank)
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
		if v > MaxElements || s.Size()*v > MaxElements {
			l.errorf(e.Pos(), "%s would have more than %d elements", d.Name.Name, MaxElements)
			return nil, false
		}
		s = append(s, v)
	}
	return s, true
}

// MaxElements bounds the size of a tensor (2 GiB of float64s), which keeps
// sizes far from int overflow and within what Go arrays can hold.
const MaxElements = 1 << 28

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
	if c, ok := s.l.constDecls[d.Name.Name]; ok {
		s.error(d.Name.P, "%s %s has the name of const %s (declared on line %d)", d.Kind, d.Name.Name, d.Name.Name, c.P.Line)
		s.names[d.Name.Name] = &binding{kind: d.Kind, line: d.P.Line} // poisoned
		return nil, nil
	}
	if b, ok := s.names[d.Name.Name]; ok {
		s.error(d.Name.P, "%s redeclared (first declared on line %d)", d.Name.Name, b.line)
		return nil, nil
	}
	if d.Int && kind != Input {
		s.error(d.Name.P, "only an input can be an integer: input %s int", d.Name.Name)
		s.names[d.Name.Name] = &binding{kind: d.Kind, line: d.P.Line} // poisoned
		return nil, nil
	}
	shape, ok := s.l.shape(d)
	if !ok {
		s.names[d.Name.Name] = &binding{kind: d.Kind, line: d.P.Line} // poisoned
		return nil, nil
	}
	v := &Var{Name: d.Name.Name, Kind: kind, Shape: shape, Line: d.P.Line, Int: d.Int}
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
		old, nv, ok := s.broadcastBinary("+", st.P, b.node, v)
		if !ok {
			s.poison(st.Name)
			return
		}
		v = s.g.Add(old, nv)
	}
	s.bind(st.Name, v, "value")
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
	case !ok && l.loopNames["loss"] != "":
		l.errorf(md.P, "model %s binds loss only in %s, where it is local to one step: bind it before the loop (loss = 0) to carry it", m.Name, strings.TrimPrefix(l.loopNames["loss"], "bound only in "))
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
