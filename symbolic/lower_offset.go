package symbolic

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/backpropgen/backpropgen/parser"
)

// Indices and slice bounds that move with a loop: xs[t-1], W[i+2, 0],
// x[t-3:t], X[t:t+K, :]. A position is the loop variable plus a constant
// (Shift); a slice whose bounds move is a slide from such a position
// (sliceNode). Both are checked at compile time over the loop's whole
// range, so that the generated code needs no check.
//
// A slide rather than a window of every position the slice takes (one row
// per step) indexed by the step: the window would do for the value, but
// its adjoint would be a [steps, length, ...] array summed over the loop
// and added into x's gradient after it, length times x's gradient in size;
// the slide's adjoint adds each step's rows into x's gradient in place.

// offsetOf reads e, which uses a loop variable, as that variable plus a
// constant: t-1, t + 2*K, 1 + t, t - W + 1. It reports anything else (2*t,
// t*t, -t, t - t, t + k for an integer input k) and returns ok false.
func (s *scope) offsetOf(e parser.Expr) (v *Node, c int, ok bool) {
	v, coef, c, ok := s.linear(e)
	if !ok {
		return nil, 0, false
	}
	if coef != 1 {
		s.error(e.Pos(), "an index is a constant, an integer input, or a loop variable plus or minus a constant: %s is not", exprText(e))
		return nil, 0, false
	}
	return v, c, true
}

// linear reads e as coef·v + c for a loop variable v (nil if e uses
// none).
func (s *scope) linear(e parser.Expr) (v *Node, coef, c int, ok bool) {
	iv := s.intVarIn(e)
	if iv == nil {
		c, ok := s.l.constIntQuiet(s, e)
		return nil, 0, c, ok
	}
	if iv.Var.Kind != Index {
		s.error(e.Pos(), "an index is a constant, an integer input, or a loop variable plus or minus a constant: arithmetic on integer input %s is not supported", iv.Var.Name)
		return nil, 0, 0, false
	}
	bad := func() (*Node, int, int, bool) {
		s.error(e.Pos(), "an index is a constant, an integer input, or a loop variable plus or minus a constant: %s is not", exprText(e))
		return nil, 0, 0, false
	}
	switch e := e.(type) {
	case *parser.Ident:
		return s.intVar(e), 1, 0, true
	case *parser.Unary:
		v, k, c, ok := s.linear(e.X)
		return v, -k, -c, ok
	case *parser.Binary:
		if e.Op != "+" && e.Op != "-" && e.Op != "*" {
			return bad()
		}
		va, ka, ca, ok1 := s.linear(e.X)
		if !ok1 {
			return nil, 0, 0, false
		}
		vb, kb, cb, ok2 := s.linear(e.Y)
		if !ok2 {
			return nil, 0, 0, false
		}
		if va != nil && vb != nil && va != vb {
			return bad()
		}
		v := va
		if v == nil {
			v = vb
		}
		switch e.Op {
		case "+":
			return v, ka + kb, ca + cb, true
		case "-":
			return v, ka - kb, ca - cb, true
		}
		if va != nil && vb != nil { // t*t
			return bad()
		}
		return v, ka*cb + kb*ca, ca * cb, true
	}
	return bad()
}

// loopRange is the first and last value of loop variable v.
func loopRange(v *Node) (from, last int) { return v.Scope.From, v.Scope.To - 1 }

// offsetIndex lowers index e of axis i of x (its text xText, all its
// indices indexes), which uses a loop variable: the position v + c, checked
// over v's whole range.
func (s *scope) offsetIndex(e parser.Expr, xText string, indexes []parser.Expr, shape Shape, i int) (*Node, bool) {
	v, c, ok := s.offsetOf(e)
	if !ok {
		return nil, false
	}
	from, last := loopRange(v)
	for _, t := range []int{from, last} {
		if p := t + c; p < 0 || p >= shape[i] {
			s.outOfRange(e.Pos(), xText, indexes, i, strconv.Itoa(p), v, t, shape)
			return nil, false
		}
	}
	return s.g.Shift(v, c), true
}

// outOfRange reports an index or slice (index i of indexes) that reads
// outside dimension i of shape when loop variable v is t: x[t-3:t] reads
// x[-3] when t = 0: t runs 0..24 over dimension 1 of shape [25].
func (s *scope) outOfRange(pos parser.Pos, xText string, indexes []parser.Expr, i int, read string, v *Node, t int, shape Shape) {
	parts := make([]string, len(indexes))
	for k, ie := range indexes {
		parts[k] = exprText(ie)
	}
	written := xText + "[" + strings.Join(parts, ", ") + "]"
	parts[i] = read
	from, last := loopRange(v)
	name := v.Var.Name
	s.error(pos, "%s reads %s[%s] when %s = %d: %s runs %d..%d over dimension %d of shape %v",
		written, xText, strings.Join(parts, ", "), name, t, name, from, last, i+1, shape)
}

// movingBounds returns the bounds of slice sl of axis i, each a constant
// or the same loop variable v plus a constant (v nil if both are
// constants), and checks them: hi − lo a positive constant, and every
// position read inside the axis for every value of v.
func (s *scope) movingBounds(sl *parser.Slice, xText string, indexes []parser.Expr, shape Shape, i int) (v *Node, lo, hi int, ok bool) {
	lo, hi = 0, shape[i]
	var vars [2]*Node
	for k, b := range []parser.Expr{sl.Lo, sl.Hi} {
		if b == nil {
			continue
		}
		var c int
		if iv := s.intVarIn(b); iv != nil && iv.Var.Kind != Index {
			s.error(b.Pos(), "a slice's bounds are constants, or a loop variable plus or minus constants: %s is an integer input", iv.Var.Name)
			return nil, 0, 0, false
		}
		if s.intVarIn(b) == nil {
			if c, ok = s.l.constIntQuiet(s, b); !ok {
				return nil, 0, 0, false
			}
		} else if vars[k], c, ok = s.offsetOf(b); !ok {
			return nil, 0, 0, false
		}
		if k == 0 {
			lo = c
		} else {
			hi = c
		}
	}
	text := exprText(sl)
	if vars[0] != vars[1] {
		moving := vars[0]
		if moving == nil {
			moving = vars[1]
		}
		s.error(sl.P, "slice %s of dimension %d of shape %v: its length would change with %s; both bounds move with it, as in x[%s-3:%s]",
			text, i+1, shape, moving.Var.Name, moving.Var.Name, moving.Var.Name)
		return nil, 0, 0, false
	}
	v = vars[0]
	if v == nil {
		switch {
		case lo < 0 || hi > shape[i]:
			s.error(sl.P, "slice %d:%d out of range for dimension %d of shape %v", lo, hi, i+1, shape)
			return nil, 0, 0, false
		case lo >= hi:
			s.error(sl.P, "slice %d:%d of dimension %d of shape %v is empty", lo, hi, i+1, shape)
			return nil, 0, 0, false
		}
		return nil, lo, hi, true
	}
	if lo >= hi {
		s.error(sl.P, "slice %s of dimension %d of shape %v is empty", text, i+1, shape)
		return nil, 0, 0, false
	}
	from, last := loopRange(v)
	switch {
	case from+lo < 0:
		s.outOfRange(sl.P, xText, indexes, i, strconv.Itoa(from+lo), v, from, shape)
		return nil, 0, 0, false
	case last+hi > shape[i]:
		s.outOfRange(sl.P, xText, indexes, i, strconv.Itoa(last+hi-1), v, last, shape)
		return nil, 0, 0, false
	}
	return v, lo, hi, true
}

// identityWindow reports whether a window of shape reads all of a tensor
// of shape big as it is.
func identityWindow(spec []windowAxis, shape, big Shape) bool {
	if !shape.Equal(big) {
		return false
	}
	for a, w := range spec {
		if w.offset != 0 || len(w.terms) != 1 || w.terms[0] != (windowTerm{a, 1}) {
			return false
		}
	}
	return true
}

// gatherNode lowers x[idx] for a tensor idx of integer inputs: the rows
// of x the integers pick, [idx's shape..., x's other axes...]. The result
// has rank 3 at most, so that its batched form (a sample axis more) stays
// within the ranks the batch methods handle.
func (s *scope) gatherNode(x, idx *Node, xText string, pos parser.Pos) *Node {
	shape := gatherShape(x.Shape, idx.Shape, []int{0, 0})
	if len(shape) > 3 {
		s.error(pos, "%s[%s] gathers the rows of %v by integers of shape %v: the result %v would have rank %d; at most 3",
			xText, idx.Var.Name, x.Shape, idx.Shape, shape, len(shape))
		return nil
	}
	if shape.Size() > MaxElements {
		s.error(pos, "%s[%s] would have more than %d elements", xText, idx.Var.Name, MaxElements)
		return nil
	}
	if r := idx.Var.Range; r == 0 || x.Shape[0] < r {
		idx.Var.Range = x.Shape[0]
	}
	return s.g.Gather(x, idx, []int{0, 0})
}

// exprText prints an index expression for a message, compactly as the
// messages write indices: t-3, 2*K, labels[t], 1:4.
func exprText(e parser.Expr) string {
	switch e := e.(type) {
	case nil:
		return ""
	case *parser.Number:
		return e.Text
	case *parser.Ident:
		return e.Name
	case *parser.Unary:
		return e.Op + operandText(e.X, 4)
	case *parser.Binary:
		p := precOf(e.Op)
		return operandText(e.X, p) + e.Op + operandText(e.Y, p+1)
	case *parser.Slice:
		return exprText(e.Lo) + ":" + exprText(e.Hi)
	case *parser.Index:
		parts := make([]string, len(e.Indexes))
		for i, ie := range e.Indexes {
			parts[i] = exprText(ie)
		}
		return operandText(e.X, 5) + "[" + strings.Join(parts, ", ") + "]"
	case *parser.Call:
		parts := make([]string, len(e.Args))
		for i, a := range e.Args {
			parts[i] = exprText(a)
		}
		return e.Fun.Name + "(" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Sprintf("%T", e)
}

// precOf is the binding strength of a binary operator (LANGUAGE.md's
// table): + - 1, * / @ 2, ^ 4.
func precOf(op string) int {
	switch op {
	case "+", "-":
		return 1
	case "^":
		return 4
	}
	return 2
}

// operandText is e printed as an operand of an operator of precedence p,
// parenthesized if it binds more loosely.
func operandText(e parser.Expr, p int) string {
	q := 5
	switch e := e.(type) {
	case *parser.Binary:
		q = precOf(e.Op)
	case *parser.Unary:
		q = 3
	}
	if q < p {
		return "(" + exprText(e) + ")"
	}
	return exprText(e)
}
