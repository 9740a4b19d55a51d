package symbolic

import (
	"fmt"
	"slices"
	"strings"

	"github.com/backpropgen/backpropgen/parser"
)

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
			what, use := "an integer input", id.Name
			switch {
			case b.node.Var.Kind == Index:
				what = "a loop variable"
			case len(b.node.Var.Shape) > 0:
				what, use = "a tensor of integer inputs", id.Name+"["+strings.Repeat("0, ", len(b.node.Var.Shape)-1)+"0]"
			}
			s.error(id.P, "%s is %s: it can only index a tensor, as in x[%s]", id.Name, what, use)
			return nil
		}
		return b.node // nil for a poisoned name
	}
	if v, ok := s.l.consts[id.Name]; ok {
		return s.g.Const(float64(v))
	}
	if s.l.badConsts[id.Name] {
		return nil
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
	if where, ok := s.l.loopNames[id.Name]; ok {
		s.error(id.P, "%s is %s, and exists only inside it", id.Name, where)
		return
	}
	msg := "undefined: " + id.Name
	if near := nearest(id.Name, names); near != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", near)
	}
	s.error(id.P, "%s", msg)
}

// binaryOps are the elementwise operators of the language: the op each
// lowers to (by code, as the op table is filled in by init) and the
// message for operands whose shapes do not match (%[1]v the left shape,
// %[2]v the right). @ is lowered by matmul.
var binaryOps = map[string]struct {
	op       OpCode
	mismatch string
}{
	"+": {OpAdd, "cannot add %[1]v and %[2]v"},
	"-": {OpSub, "cannot subtract %[2]v from %[1]v"},
	"*": {OpMul, "cannot multiply %[1]v by %[2]v elementwise (use @ for a matrix product)"},
	"/": {OpDiv, "cannot divide %[1]v by %[2]v"},
	"^": {OpPow, "cannot raise %[1]v to the power %[2]v"},
}

func (s *scope) binary(e *parser.Binary) *Node {
	a, b := s.expr(e.X), s.expr(e.Y)
	if a == nil || b == nil {
		return nil
	}
	if e.Op == "@" {
		return s.matmul(e, a, b)
	}
	a, b, ok := s.broadcastBinary(e.Op, e.P, a, b)
	if !ok {
		return nil
	}
	return s.g.Binary(opTable[binaryOps[e.Op].op], a, b)
}

// broadcastBinary repeats the operand of lower rank of an elementwise
// operator along the other's leading axes (BroadcastShapes), or reports
// operands whose shapes do not broadcast.
func (s *scope) broadcastBinary(op string, pos parser.Pos, a, b *Node) (*Node, *Node, bool) {
	shape, why := BroadcastShapes(a.Shape, b.Shape)
	if why != "" {
		s.error(pos, binaryOps[op].mismatch+": %[3]s", a.Shape, b.Shape, why)
		return nil, nil, false
	}
	return s.g.BroadcastTo(a, shape), s.g.BroadcastTo(b, shape), true
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
	return s.indexNode(x, exprText(e.X), e.Indexes, e.P)
}

// indexNode indexes x (xText in messages) by constant integers, integer
// inputs, loop variables plus constants, slices, or gathers its rows by a
// whole tensor of integer inputs.
func (s *scope) indexNode(x *Node, xText string, indexes []parser.Expr, pos parser.Pos) *Node {
	if len(indexes) > len(x.Shape) {
		s.error(pos, "too many indices: %d for a value of shape %v", len(indexes), x.Shape)
		return nil
	}
	for _, ie := range indexes {
		if v := s.intVar(ie); v != nil && len(v.Shape) > 0 {
			if len(indexes) > 1 {
				s.error(ie.Pos(), "%s is a tensor of integer inputs, which gathers rows by itself (%s[%s]) or indexes by one of its elements (%s[%s[%s0]])",
					v.Var.Name, xText, v.Var.Name, xText, v.Var.Name, strings.Repeat("0, ", len(v.Shape)-1))
				return nil
			}
			return s.gatherNode(x, v, xText, ie.Pos())
		}
	}
	for _, ie := range indexes {
		if _, ok := ie.(*parser.Slice); ok {
			return s.sliceNode(x, xText, indexes)
		}
	}
	ints := make([]int, len(indexes))
	var dyn []*Node
	for i, ie := range indexes {
		v, ok := s.position(ie, x.Shape, i, xText, indexes)
		if !ok {
			return nil
		}
		if v != nil {
			ints[i] = -1
			dyn = append(dyn, v)
			continue
		}
		c, ok := s.l.constIntQuiet(s, ie)
		if !ok {
			return nil
		}
		if c < 0 || c >= x.Shape[i] {
			s.error(ie.Pos(), "index %d out of range for dimension %d of shape %v", c, i+1, x.Shape)
			return nil
		}
		ints[i] = c
	}
	return s.g.Index(x, ints, dyn...)
}

// position returns the node of index ie of axis i, if it is given at run
// time: an integer input, an element of a tensor of them, or a loop
// variable plus a constant, checked against the axis; nil for a constant.
func (s *scope) position(ie parser.Expr, shape Shape, i int, xText string, indexes []parser.Expr) (*Node, bool) {
	v, ok := s.intIndex(ie)
	if !ok {
		return nil, false
	}
	if v == nil {
		if s.intVarIn(ie) == nil {
			return nil, true
		}
		return s.offsetIndex(ie, xText, indexes, shape, i)
	}
	src := IntSource(v)
	if src.Kind == Index {
		if src.Range > shape[i] {
			s.error(ie.Pos(), "%s runs to %d, outside dimension %d of shape %v", src.Name, src.Range-1, i+1, shape)
			return nil, false
		}
	} else if r := src.Range; r == 0 || shape[i] < r {
		src.Range = shape[i]
	}
	return v, true
}

// sliceNode lowers an index with slices (x[2:5], W[:, 0], x[t-3:t]). A
// slice whose bounds move with a loop variable is a slide of x along its
// axis, which then counts as kept whole. The rest is one window that
// keeps the range of each sliced axis, reads each axis indexed by a
// constant at that index, and keeps the axes after the indices whole;
// then an index by the integer inputs and loop variables among the
// indices, which must come before every slice.
func (s *scope) sliceNode(x *Node, xText string, indexes []parser.Expr) *Node {
	type bounds struct{ lo, hi int }
	sliceAt := map[int]bounds{}
	for i, ie := range indexes {
		if sl, ok := ie.(*parser.Slice); ok {
			v, lo, hi, ok := s.movingBounds(sl, xText, indexes, x.Shape, i)
			if !ok {
				return nil
			}
			if v != nil {
				x = s.g.Slide(x, s.g.Shift(v, lo), i, hi-lo)
				lo, hi = 0, hi-lo
			}
			sliceAt[i] = bounds{lo, hi}
		}
	}
	var spec []windowAxis
	var shape Shape
	var dyn []*Node
	sliced := false
	for i, ie := range indexes {
		if b, ok := sliceAt[i]; ok {
			spec = append(spec, windowAxis{offset: b.lo, terms: axisTerm(len(shape))})
			shape = append(shape, b.hi-b.lo)
			sliced = true
			continue
		}
		v, ok := s.position(ie, x.Shape, i, xText, indexes)
		if !ok {
			return nil
		}
		if v != nil {
			if sliced {
				s.error(ie.Pos(), "an integer input or loop variable index comes before every slice, as in x[i, 2:5]")
				return nil
			}
			dyn = append(dyn, v)
			spec = append(spec, windowAxis{terms: axisTerm(len(shape))})
			shape = append(shape, x.Shape[i])
			continue
		}
		c, ok := s.l.constIntQuiet(s, ie)
		if !ok {
			return nil
		}
		if c < 0 || c >= x.Shape[i] {
			s.error(ie.Pos(), "index %d out of range for dimension %d of shape %v", c, i+1, x.Shape)
			return nil
		}
		spec = append(spec, windowAxis{offset: c})
	}
	for a := len(indexes); a < len(x.Shape); a++ {
		spec = append(spec, windowAxis{terms: axisTerm(len(shape))})
		shape = append(shape, x.Shape[a])
	}
	w := x
	if !identityWindow(spec, shape, x.Shape) { // x[t-3:t] is its slide alone
		w = s.g.Window(x, encodeWindow(spec), shape)
	}
	if len(dyn) == 0 {
		return w
	}
	ints := make([]int, len(dyn))
	for i := range ints {
		ints[i] = -1
	}
	return s.g.Index(w, ints, dyn...)
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

// intVarIn returns an integer input or loop variable e uses, or nil.
func (s *scope) intVarIn(e parser.Expr) *Node {
	var found *Node
	parser.Inspect(e, func(n parser.Node) bool {
		if id, ok := n.(*parser.Ident); ok && found == nil {
			found = s.intVar(id)
		}
		return found == nil
	})
	return found
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
	b, isBuiltin := builtins[name]
	fd, isFn := s.l.fns[name]
	if !isBuiltin && !isFn {
		s.undefinedFn(e.Fun)
		return nil
	}
	want := -1
	if isBuiltin {
		want = b.nargs
	} else {
		want = len(fd.Args)
	}
	var axis parser.Expr // the optional axis of a reduction or normalizer
	var flag parser.Expr // the optional flag of a built-in with one
	switch {
	case isBuiltin && b.axis != "" && len(e.Args) == want+1:
		axis = e.Args[want]
	case isBuiltin && b.axis != "" && len(e.Args) != want:
		s.error(e.P, "%s takes %d argument%s and an optional axis, got %d", name, want, plural(want), len(e.Args))
		return nil
	case isBuiltin && b.flag != "" && len(e.Args) == want+1:
		flag = e.Args[want]
	case isBuiltin && b.flag != "" && len(e.Args) != want:
		s.error(e.P, "%s takes %d argument%s and an optional %s flag, got %d", name, want, plural(want), b.flag, len(e.Args))
		return nil
	case want >= 0 && len(e.Args) != want:
		s.error(e.P, "%s takes %d argument%s, got %d", name, want, plural(want), len(e.Args))
		return nil
	}
	if isBuiltin && b.syntax != nil {
		return b.syntax(s, e)
	}
	args := make([]*Node, len(e.Args))
	for i, a := range e.Args {
		if a == axis || a == flag || isBuiltin && i >= len(e.Args)-len(b.ints) {
			args = args[:i]
			break
		}
		if args[i] = s.expr(a); args[i] == nil {
			return nil
		}
	}
	if isBuiltin {
		c := &call{scope: s, expr: e, args: args}
		if b.axis != "" && !c.axisArg(b.axis, axis) || !c.intArgs(b.ints) || b.flag != "" && !c.flagArg(b.flag, flag) {
			return nil
		}
		return b.lower(c)
	}
	return s.inline(e, fd, args)
}

// undefinedFn reports a call of a name that is neither a built-in nor a
// fn, with the nearest of those names.
func (s *scope) undefinedFn(id *parser.Ident) {
	var names []string
	for n := range builtins {
		names = append(names, n)
	}
	for n := range s.l.fns {
		names = append(names, n)
	}
	msg := "undefined function: " + id.Name
	if near := nearest(id.Name, names); near != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", near)
	}
	s.error(id.P, "%s", msg)
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
func crossEntropy(s *scope, e *parser.Call) *Node {
	logits := s.expr(e.Args[0])
	if logits == nil {
		return nil
	}
	if len(logits.Shape) == 2 {
		return crossEntropyRows(s, e, logits)
	}
	if len(logits.Shape) != 1 {
		s.error(e.Args[0].Pos(), "cross_entropy needs a vector of logits, or a matrix of them, one row per label, got %v", logits.Shape)
		return nil
	}
	picked := s.indexNode(logits, exprText(e.Args[0]), e.Args[1:], e.Args[1].Pos())
	if picked == nil {
		return nil
	}
	return s.g.Sub(s.g.LogSumExp(logits), picked)
}

// filled lowers zeros(dims...) and ones(dims...), tensors of v.
func filled(v float64) func(s *scope, e *parser.Call) *Node {
	return func(s *scope, e *parser.Call) *Node {
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
			if shape.Size()*d > MaxElements {
				s.error(a.Pos(), "%s(...) would have more than %d elements", e.Fun.Name, MaxElements)
				return nil
			}
			shape = append(shape, d)
		}
		return s.g.Broadcast(s.g.Const(v), shape)
	}
}

// reshape lowers reshape(x, dims...): x's elements as a tensor of the
// dimensions given, constants whose product is x's number of elements.
func reshape(s *scope, e *parser.Call) *Node {
	if len(e.Args) < 2 {
		s.error(e.P, "reshape takes a tensor and at least one dimension, got %d argument%s", len(e.Args), plural(len(e.Args)))
		return nil
	}
	x := s.expr(e.Args[0])
	if x == nil {
		return nil
	}
	shape := Shape{}
	for _, a := range e.Args[1:] {
		if id := s.intVarIn(a); id != nil {
			s.error(a.Pos(), "a dimension of reshape is an integer constant, not %s", id.Var.Name)
			return nil
		}
		d, ok := s.l.constIntQuiet(s, a)
		if !ok {
			return nil
		}
		if d <= 0 {
			s.error(a.Pos(), "dimension must be positive, got %d", d)
			return nil
		}
		if shape.Size()*d > MaxElements {
			s.error(a.Pos(), "reshape(...) would have more than %d elements", MaxElements)
			return nil
		}
		shape = append(shape, d)
	}
	if shape.Size() != x.Shape.Size() {
		s.error(e.P, "reshape of %v (%d elements) to %v (%d elements): the numbers of elements differ", x.Shape, x.Shape.Size(), shape, shape.Size())
		return nil
	}
	return s.g.Reshape(x, shape)
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
