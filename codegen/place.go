package codegen

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
)

// ix is one index of an element access: a variable (a loop variable, or an
// integer input such as in.K) plus a constant offset, or, when v is empty,
// the constant off. Codegen builds indices and prints them; it never parses
// them back.
type ix struct {
	v   string
	off int
	// deps are the loop variables v reads when it is an element of an
	// integer tensor (in.Labels[t]), space-separated: used where x is.
	deps string
}

func cix(c int) ix         { return ix{off: c} }
func vix(v string) ix      { return ix{v: v} }
func (x ix) plus(k int) ix { return ix{x.v, x.off + k, x.deps} }

func (x ix) String() string {
	switch {
	case x.v == "":
		return strconv.Itoa(x.off)
	case x.off > 0:
		return x.v + "+" + strconv.Itoa(x.off)
	case x.off < 0:
		return x.v + strconv.Itoa(x.off)
	}
	return x.v
}

// elemKey is a map key for element idx (all its indices) of the
// variable base: "ws.h[t+1][i]".
func elemKey(base string, idx []ix) string {
	b := make([]byte, 0, len(base)+8*len(idx))
	b = append(b, base...)
	for _, x := range idx {
		b = x.appendIndex(b)
	}
	return string(b)
}

// hasPrefix reports whether idx starts with prefix.
func hasPrefix(idx, prefix []ix) bool {
	return len(idx) >= len(prefix) && slices.Equal(idx[:len(prefix)], prefix)
}

// place is where a value lives: a Go variable or field (path is its
// selector, outermost first: ["ws", "h"]; a local is one name), indexed
// first by pre (which step of a per-step array holds this value) and then
// by the element's own index.
type place struct {
	path []string
	key  string // the path joined by dots: the variable's identity
	pre  []ix
}

// localPlace is a local variable of the function being emitted.
func localPlace(name string) place { return place{path: []string{name}, key: name} }

// fieldPlace is field of the struct that the pointer named recv points to.
func fieldPlace(recv, field string) place {
	return place{path: []string{recv, field}, key: recv + "." + field}
}

// name is the last part of p's path: "h" for ws.h.
func (p place) name() string { return p.path[len(p.path)-1] }

// base is the key of p's variable or field, for the fusion checks.
func (p place) base() string { return p.key }

// at returns the place of p's sub-value at idx.
func (p place) at(idx ...ix) place {
	return place{path: p.path, key: p.key, pre: append(slices.Clone(p.pre), idx...)}
}

// code prints p's element idx: ws.h[t+1][i]. It is one jennifer token
// (gofmt spaces it as it would the tokens): a function of a large model
// reads hundreds of thousands of elements.
func (p place) code(idx []ix) *jen.Statement {
	var b strings.Builder
	b.Grow(len(p.key) + 8*(len(p.pre)+len(idx)))
	b.WriteString(p.key)
	var buf [24]byte
	for _, xs := range [2][]ix{p.pre, idx} {
		for _, x := range xs {
			b.Write(x.appendIndex(buf[:0]))
		}
	}
	return jen.Id(b.String())
}

// appendIndex appends [x] to b.
func (x ix) appendIndex(b []byte) []byte {
	b = append(b, '[')
	if x.v != "" {
		b = append(b, x.v...)
		if x.off > 0 {
			b = append(b, '+')
		}
		if x.off != 0 {
			b = strconv.AppendInt(b, int64(x.off), 10)
		}
	} else {
		b = strconv.AppendInt(b, int64(x.off), 10)
	}
	return append(b, ']')
}

// Go operator precedences, to parenthesize only where needed (jennifer's Op
// adds no parentheses of its own).
const (
	precAdd     = 4
	precMul     = 5
	precUnary   = 6
	precPrimary = 7
)

// gexpr is a Go expression and the precedence of its outermost operator.
// A literal is marked konst with its value: Go evaluates an operation
// between two untyped constants exactly, not in float64 (1/2 is 0), so
// codegen never emits one; it computes it itself (infix, elementwise).
type gexpr struct {
	c     *jen.Statement
	prec  int
	konst bool
	val   float64
	local string // the local variable the expression is, if it is one
}

// ident is the local variable name.
func ident(name string) gexpr { return gexpr{c: jen.Id(name), prec: precPrimary, local: name} }

// lit prints v. Values that are not Go constants print as calls: NaN,
// ±Inf, and -0 (the Go constant -0 is +0).
func lit(v float64) gexpr {
	switch {
	case math.IsNaN(v):
		return gexpr{c: jen.Qual("math", "NaN").Call(), prec: precPrimary}
	case math.IsInf(v, 1):
		return gexpr{c: jen.Qual("math", "Inf").Call(jen.Lit(1)), prec: precPrimary}
	case math.IsInf(v, -1):
		return gexpr{c: jen.Qual("math", "Inf").Call(jen.Lit(-1)), prec: precPrimary}
	case v == 0 && math.Signbit(v):
		return gexpr{c: jen.Qual("math", "Copysign").Call(jen.Lit(0), jen.Lit(-1)), prec: precPrimary}
	}
	// Integral values print as integers (2, not 2.0): a literal is only
	// ever an operand beside a float64 operand, or defined with a
	// float64 conversion (define), so Go gives it type float64.
	text := strconv.FormatFloat(v, 'g', -1, 64)
	p := precPrimary
	if v < 0 {
		p = precUnary
	}
	return gexpr{c: jen.Op(text), prec: p, konst: true, val: v}
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
// + and * are not associative. Two literals are combined here, in float64;
// a division by a literal zero, which Go rejects, is the equal product with
// an infinity (x/0 and x·Inf agree for every x, NaN and ±0 included).
func infix(a gexpr, op string, b gexpr) gexpr {
	if a.konst && b.konst {
		return lit(infixOps[op].eval(a.val, b.val))
	}
	if op == "/" && b.konst && b.val == 0 {
		return infix(a, "*", lit(math.Inf(1)))
	}
	// Identities that hold for every float64, NaN and -0 included.
	switch {
	case op == "*" && a.konst && a.val == 1:
		return b
	case (op == "*" || op == "/") && b.konst && b.val == 1:
		return a
	case op == "+" && a.konst && a.val == 0 && math.Signbit(a.val):
		return b
	case op == "+" && b.konst && b.val == 0 && math.Signbit(b.val),
		op == "-" && b.konst && b.val == 0 && !math.Signbit(b.val):
		return a
	}
	p := infixOps[op].prec
	// The operands' statements are nested, not copied: codegen never
	// changes a statement once it is an operand. The operator's is shared.
	return gexpr{c: &jen.Statement{wrap(a, p), infixOps[op].tok, wrap(b, p+1)}, prec: p}
}

// infixOps are the Go binary operators codegen prints: their precedence,
// their token, and what they compute on float64s, for folding literals.
// The tokens are made once and shared by every expression (a jennifer
// token costs three allocations; a large model has hundreds of thousands
// of operators). Rendering only reads them.
var infixOps = map[string]struct {
	prec int
	tok  *jen.Statement
	eval func(a, b float64) float64
}{
	"+": {precAdd, jen.Op("+"), func(a, b float64) float64 { return a + b }},
	"-": {precAdd, jen.Op("-"), func(a, b float64) float64 { return a - b }},
	"*": {precMul, jen.Op("*"), func(a, b float64) float64 { return a * b }},
	"/": {precMul, jen.Op("/"), func(a, b float64) float64 { return a / b }},
}

// negate builds -a.
func negate(a gexpr) gexpr {
	if a.konst {
		return lit(-a.val)
	}
	return gexpr{c: jen.Op("-").Add(wrap(a, precUnary+1)), prec: precUnary}
}

// define declares the local name with e's value, as a float64 even when e
// is a literal (name := 2 would make an int).
func define(name string, e gexpr) jen.Code {
	if e.konst {
		return jen.Id(name).Op(":=").Float64().Call(e.c)
	}
	return jen.Id(name).Op(":=").Add(e.c)
}
