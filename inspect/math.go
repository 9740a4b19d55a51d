package inspect

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/backpropgen/backpropgen/symbolic"
)

// notation prints IR expressions as math, in plain text (Unicode) or
// LaTeX. Precedence: 1 sums, 2 products, 3 negation, 4 powers, 5 atoms.
type notation struct {
	tex bool
	// name returns the name a node is printed as, and whether it has one;
	// an unnamed node is printed as its expression.
	name func(n *symbolic.Node, c ctx) (string, int, bool)
}

// ctx is where an expression is printed: in the body of a loop, at step
// t+shift (names of the step get subscripts), or outside loops.
type ctx struct {
	loop  *symbolic.Loop // the reverse loop whose step is printed, or nil
	shift int
	def   bool // printing the right-hand side of the node's own equation
}

// step is the subscript of a value of the step at offset off (0 for a
// value the step computes, -1 for a state it reads).
func (c ctx) step(off int) string {
	if c.loop == nil {
		return ""
	}
	t := c.loop.Index.Var.Name
	switch k := c.shift + off; {
	case k > 0:
		return t + "+" + strconv.Itoa(k)
	case k < 0:
		return t + "−" + strconv.Itoa(-k)
	}
	return t
}

// in reports whether n belongs to the step printed.
func (c ctx) in(n *symbolic.Node) bool {
	return c.loop != nil && n.Scope != nil && (n.Scope == c.loop || n.Scope == c.loop.Fwd)
}

func (m *notation) paren(s string, p, min int) string {
	if p >= min {
		return s
	}
	if m.tex {
		return `\left(` + s + `\right)`
	}
	return "(" + s + ")"
}

// ident prints a model name; in LaTeX, W1 is W_{1} and logits is
// \mathrm{logits}.
func (m *notation) ident(s string) string {
	if !m.tex {
		return s
	}
	base := strings.TrimRight(s, "0123456789")
	digits := s[len(base):]
	if base == "" {
		base, digits = s, ""
	}
	base = strings.ReplaceAll(base, "_", `\_`)
	if len(base) > 1 {
		base = `\mathrm{` + base + `}`
	}
	if digits != "" {
		return base + "_{" + digits + "}"
	}
	return base
}

// sub attaches a step subscript to a printed name.
func (m *notation) sub(s, step string) string {
	if step == "" {
		return s
	}
	if m.tex {
		step = strings.ReplaceAll(step, "−", "-")
		if strings.HasSuffix(s, "}") && strings.Contains(s, "_{") {
			return `{` + s + `}_{` + step + `}`
		}
		return s + "_{" + step + "}"
	}
	if strings.ContainsAny(step, "+−") {
		return s + "_{" + step + "}"
	}
	return s + "_" + step
}

func (m *notation) delta(name string) string {
	if m.tex {
		return `\delta ` + m.ident(name)
	}
	return "δ" + name
}

// partial is ∂f/∂x.
func (m *notation) partial(f, x string) string {
	if m.tex {
		return `\frac{\partial ` + m.ident(f) + `}{\partial ` + m.ident(x) + `}`
	}
	return "∂" + f + "/∂" + x
}

func (m *notation) number(v float64) (string, int) {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if m.tex && strings.Contains(s, "e") {
		mant, exp, _ := strings.Cut(s, "e")
		s = mant + `\times 10^{` + strings.TrimPrefix(exp, "+") + `}`
	}
	if v < 0 || strings.HasPrefix(s, "-") {
		if !m.tex {
			s = "−" + s[1:]
		}
		return s, 3
	}
	return s, 5
}

func (m *notation) transpose(s string, p int) string {
	if m.tex {
		return m.paren(s, p, 5) + `^{\top}`
	}
	return m.paren(s, p, 5) + "ᵀ"
}

// expr prints n at precedence level p.
func (m *notation) expr(n *symbolic.Node, c ctx) (string, int) {
	if s, p, ok := m.name(n, c); ok {
		return s, p
	}
	c.def = false
	a := func(i, min int) string {
		s, p := m.expr(n.Args[i], c)
		return m.paren(s, p, min)
	}
	op := func(text, tex string) string {
		if m.tex {
			return " " + tex + " "
		}
		return " " + text + " "
	}
	fn := func(name, tex string) (string, int) {
		var args []string
		for i := range n.Args {
			s, _ := m.expr(n.Args[i], c)
			args = append(args, s)
		}
		if m.tex {
			return tex + `\left(` + strings.Join(args, ", ") + `\right)`, 5
		}
		return name + "(" + strings.Join(args, ", ") + ")", 5
	}
	switch n.Op.Code {
	case symbolic.OpConst:
		return m.number(n.Val)
	case symbolic.OpBroadcast, symbolic.OpStopGrad:
		if n.Op.Code == symbolic.OpStopGrad {
			return fn("stop_gradient", `\operatorname{sg}`)
		}
		return m.expr(n.Args[0], c)
	case symbolic.OpAdd:
		return a(0, 1) + op("+", "+") + a(1, 2), 1
	case symbolic.OpAddN:
		var terms []string
		for i := range n.Args {
			terms = append(terms, a(i, 1))
		}
		return strings.Join(terms, op("+", "+")), 1
	case symbolic.OpSub:
		return a(0, 1) + op("−", "-") + a(1, 2), 1
	case symbolic.OpNeg:
		if m.tex {
			return "-" + a(0, 3), 3
		}
		return "−" + a(0, 3), 3
	case symbolic.OpMul:
		if n.Args[0].IsScalar() || n.Args[1].IsScalar() {
			return a(0, 2) + op("·", `\cdot`) + a(1, 3), 2
		}
		return a(0, 2) + op("⊙", `\odot`) + a(1, 3), 2
	case symbolic.OpDiv:
		if m.tex {
			x, _ := m.expr(n.Args[0], c)
			y, _ := m.expr(n.Args[1], c)
			return `\frac{` + x + `}{` + y + `}`, 5
		}
		return a(0, 2) + " / " + a(1, 3), 2
	case symbolic.OpPow:
		if m.tex {
			y, _ := m.expr(n.Args[1], c)
			return a(0, 5) + "^{" + y + "}", 4
		}
		return a(0, 5) + "^" + a(1, 4), 4
	case symbolic.OpMatMul:
		x, y := n.Args[0], n.Args[1]
		switch {
		case len(x.Shape) == 1 && len(y.Shape) == 2: // v B = Bᵀ v
			s, p := m.expr(y, c)
			return m.transpose(s, p) + " " + a(0, 3), 2
		case len(x.Shape) == 1 && len(y.Shape) == 1:
			s, p := m.expr(x, c)
			return m.transpose(s, p) + " " + a(1, 3), 2
		}
		return a(0, 2) + " " + a(1, 3), 2
	case symbolic.OpOuter:
		s, p := m.expr(n.Args[1], c)
		return a(0, 2) + " " + m.transpose(s, p), 2
	case symbolic.OpTranspose:
		s, p := m.expr(n.Args[0], c)
		return m.transpose(s, p), 5
	case symbolic.OpSum:
		if m.tex {
			return `\textstyle\sum ` + a(0, 5), 1
		}
		return "Σ " + a(0, 5), 1
	case symbolic.OpMaxAll:
		return fn("max", `\max`)
	case symbolic.OpStep:
		return m.indicator(a(0, 2), ">", "0"), 5
	case symbolic.OpGE:
		return m.indicator(a(0, 2), "≥", a(1, 2)), 5
	case symbolic.OpGT:
		return m.indicator(a(0, 2), ">", a(1, 2)), 5
	case symbolic.OpSigmoid:
		return fn("σ", `\sigma`)
	case symbolic.OpIndex:
		return a(0, 5) + m.index(n, c), 5
	case symbolic.OpShift: // a position: t-1
		v, off := symbolic.ShiftOf(n)
		if c.in(v) {
			return strings.ReplaceAll(c.step(off), "−", "-"), 5
		}
		s, _ := m.expr(v, c)
		if off > 0 {
			return s + "+" + strconv.Itoa(off), 1
		}
		return s + strconv.Itoa(off), 1
	case symbolic.OpScatter:
		e := "e" + m.index(n, c)
		if m.tex {
			e = "e_{" + strings.Trim(m.index(n, c), "[]") + "}"
		}
		if n.Args[0].IsScalar() {
			return a(0, 2) + op("·", `\cdot`) + e, 2
		}
		return e + op("⊗", `\otimes`) + a(0, 3), 2
	case symbolic.OpLoopOut:
		return m.expr(n.Args[0], c) // not reached: loopouts are named
	}
	tex := `\operatorname{` + strings.ReplaceAll(n.Op.Name, "_", `\_`) + `}`
	switch n.Op.Code {
	case symbolic.OpExp, symbolic.OpLog, symbolic.OpSin, symbolic.OpCos, symbolic.OpTan, symbolic.OpTanh,
		symbolic.OpCosh, symbolic.OpSinh:
		tex = `\` + n.Op.Name
	case symbolic.OpSqrt:
		s, _ := m.expr(n.Args[0], c)
		if m.tex {
			return `\sqrt{` + s + `}`, 5
		}
		return "√(" + s + ")", 5
	case symbolic.OpAbs:
		s, _ := m.expr(n.Args[0], c)
		if m.tex {
			return `\left|` + s + `\right|`, 5
		}
		return "|" + s + "|", 5
	}
	return fn(n.Op.Name, tex)
}

// indicator is 1[a op b]: 1 where the comparison holds, else 0.
func (m *notation) indicator(a, op, b string) string {
	if m.tex {
		if op == "≥" {
			op = `\ge`
		}
		return `\mathbb{1}[` + a + " " + op + " " + b + `]`
	}
	return "1[" + a + " " + op + " " + b + "]"
}

// index prints the index of an index or scatter node: [0], [t], [label].
func (m *notation) index(n *symbolic.Node, c ctx) string {
	var parts []string
	k := 1
	for _, i := range n.Ints {
		if i >= 0 {
			parts = append(parts, strconv.Itoa(i))
			continue
		}
		d := n.Args[k]
		k++
		if v, off := symbolic.ShiftOf(d); off != 0 && c.in(v) { // t-1
			parts = append(parts, strings.ReplaceAll(c.step(off), "−", "-"))
			continue
		}
		if d.Var != nil && d.Var.Kind == symbolic.Index && c.in(d) {
			parts = append(parts, strings.ReplaceAll(c.step(0), "−", "-"))
			continue
		}
		s, _ := m.expr(d, c)
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// equation prints lhs = rhs.
func (m *notation) equation(lhs, rhs string) string {
	if m.tex {
		return lhs + " &= " + rhs + ` \\`
	}
	return lhs + " = " + rhs
}

var _ = fmt.Sprint
