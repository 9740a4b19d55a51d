package inspect

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/backpropgen/backpropgen/symbolic"
)

// ExplainOptions say how Explain prints.
type ExplainOptions struct {
	LaTeX  bool
	File   string           // the .bp file's base name
	Source func(int) string // the text of a .bp line
}

// Explain prints the derivatives of units as math, grouped by the .bp
// line they come from, in the order the backward pass computes them. It
// prints the derivative IR as it is (simplified only as far as the IR
// is): each derivative the IR names after a binding of the model (dh, the
// adjoint of h) is an equation δh = …, and the gradients are ∂L/∂W = …. A
// loop's derivative is printed once, as its recurrence over the steps
// (backpropagation through time): δh_t in terms of values of step t+1.
func Explain(units []*Unit, o ExplainOptions) []byte {
	var b bytes.Buffer
	if o.LaTeX {
		fmt.Fprintf(&b, "%% Derivatives of %s, printed by backpropgen explain -latex.\n", o.File)
		b.WriteString("% Needs amsmath and amssymb.\n")
	}
	for i, u := range units {
		if i > 0 {
			b.WriteString("\n")
		}
		e := &explainer{u: u, o: o, out: &b}
		e.run()
	}
	return b.Bytes()
}

type explainer struct {
	u   *Unit
	o   ExplainOptions
	out *bytes.Buffer
	m   *notation
	// defined are the derivative nodes printed as equations of their own,
	// by the name printed on their left.
	defined map[*symbolic.Node]string
	rev     map[*symbolic.Loop]*symbolic.Loop // forward loop → its derivative
	// carried[leaf] is the next value of a reverse loop's state that
	// carries an adjoint back one step.
	carried map[*symbolic.Node]*symbolic.Node
	live    map[*symbolic.Loop][]bool
	// recurrent are the carried states whose next value reads a carried
	// state through values printed inline: they are printed by name, with
	// their recurrence (δh_t in terms of δh_{t+1}).
	recurrent map[*symbolic.Node]string
	line      int // the line whose header was printed last
	depth     int
}

func (e *explainer) run() {
	u := e.u
	e.m = &notation{tex: e.o.LaTeX}
	e.m.name = e.name
	e.defined = map[*symbolic.Node]string{}
	e.rev = map[*symbolic.Loop]*symbolic.Loop{}
	e.carried = map[*symbolic.Node]*symbolic.Node{}
	e.live = symbolic.LiveStates([]*symbolic.Node{u.Result})
	nodes := reach(u.backwardRoots())
	accs := map[*symbolic.Node]bool{} // accumulator states and their next values
	for _, n := range nodes {
		l := n.Loop
		if l == nil || !l.Reverse {
			continue
		}
		e.rev[l.Fwd] = l
		for k, st := range l.State {
			if k < e.seeds(l) {
				e.carried[st] = l.Next[k]
			} else {
				accs[st], accs[l.Next[k]] = true, true
			}
		}
	}
	carriedNext := map[*symbolic.Node]bool{}
	for _, next := range e.carried {
		carriedNext[next] = true
	}
	used := map[*symbolic.Node]bool{}
	for _, n := range nodes {
		for _, a := range n.Args {
			used[a] = true
		}
		if l := n.Loop; l != nil {
			for _, x := range l.Next {
				used[x] = true
			}
		}
	}
	gradient := map[*symbolic.Node]bool{} // named after the param it is the gradient of
	for i, a := range u.Adjoints {
		if a != nil && a.Name == "d"+u.Wrt[i].Name {
			gradient[a] = true
		}
	}
	for _, n := range nodes {
		if gradient[n] && !used[n] {
			continue // printed as ∂L/∂W = …
		}
		if !u.IsBackward(n) || n.Name == "" || n.Op.Kind == symbolic.Leaf || n.Loop != nil ||
			n.Op.Code == symbolic.OpLoopOut || carriedNext[n] || accs[n] || !strings.HasPrefix(n.Name, "d") {
			continue
		}
		e.defined[n] = n.Name[1:]
	}
	e.recurrent = map[*symbolic.Node]string{}
	for leaf, next := range e.carried {
		if next != leaf && e.reaches(next, e.carried) {
			name := strings.TrimPrefix(leaf.Var.Name, "d")
			for _, d := range e.defined {
				if d == name {
					name += "′"
					break
				}
			}
			e.recurrent[leaf] = name
		}
	}
	title := fmt.Sprintf("%s %s (%s:%d): derivatives of %s", u.Kind(), u.Name, e.o.File, u.Line, u.ResultName())
	if u.Model != nil {
		title = fmt.Sprintf("model %s (%s:%d): derivatives of the loss L", u.Name, e.o.File, u.Line)
	}
	if e.o.LaTeX {
		fmt.Fprintf(e.out, "%% %s\n\\begin{align*}\n", title)
	} else {
		fmt.Fprintf(e.out, "%s\n", title)
	}
	e.scope(nil, nodes)
	if e.o.LaTeX {
		e.out.WriteString("\\end{align*}\n")
	}
}

// reaches reports whether x reads one of the carried states through
// values printed inline.
func (e *explainer) reaches(x *symbolic.Node, carried map[*symbolic.Node]*symbolic.Node) bool {
	seen := map[*symbolic.Node]bool{}
	var visit func(n *symbolic.Node) bool
	visit = func(n *symbolic.Node) bool {
		if seen[n] {
			return false
		}
		seen[n] = true
		if _, ok := carried[n]; ok {
			return true
		}
		if _, ok := e.defined[n]; ok || n.Loop != nil || n.Op.Code == symbolic.OpLoopOut {
			return false
		}
		for _, a := range n.Args {
			if visit(a) {
				return true
			}
		}
		return false
	}
	return visit(x)
}

// seeds is the number of states of a reverse loop that carry adjoints of
// the forward loop's states: one per state of the forward loop the result
// needs (symbolic.LiveStates, as Differentiate computes them), listed
// before the accumulators of the gradients of outside values.
func (e *explainer) seeds(l *symbolic.Loop) int {
	n := 0
	for _, ok := range e.live[l.Fwd] {
		if ok {
			n++
		}
	}
	return n
}

// effective is the scope a derivative node is printed in: a derivative
// node that reads only a forward loop's step is computed in its reverse
// loop.
func (e *explainer) effective(n *symbolic.Node) *symbolic.Loop {
	s := n.Scope
	if l := loopOf(n); l != nil {
		s = l.Parent
	}
	if s != nil && !s.Reverse && e.rev[s] != nil && e.u.IsBackward(n) {
		return e.rev[s]
	}
	if s != nil && s.Reverse && s.Parent != nil && e.rev[s.Parent] != nil {
		return s // nested reverse loops keep their own scope
	}
	return s
}

// scope prints the equations of one scope (nil: outside loops) and the
// loops in it, in the order the backward pass computes them.
func (e *explainer) scope(l *symbolic.Loop, nodes []*symbolic.Node) {
	c := ctx{loop: l}
	for _, n := range nodes {
		if n.Loop != nil && n.Loop.Reverse && e.parentOf(n.Loop) == l {
			e.loop(n.Loop, nodes)
			continue
		}
		if name, ok := e.defined[n]; ok && e.effective(n) == l {
			e.header(n.Line)
			lhs := e.m.sub(e.m.delta(name), c.step(0))
			rhs, _ := e.m.expr(n, ctx{loop: l, shift: 0, def: true})
			e.emit(e.m.equation(lhs, rhs))
		}
		if l == nil {
			e.gradients(n)
		}
	}
	if l == nil && e.u.Split > 0 {
		// gradients that are forward values or leaves (∂f/∂x = z)
		for i, a := range e.u.Adjoints {
			if a != nil && !e.u.IsBackward(a) {
				e.header(e.u.Line)
				e.gradient(i, a)
			}
		}
	}
}

// gradients prints the gradients whose adjoint is n, after n.
func (e *explainer) gradients(n *symbolic.Node) {
	if !e.u.IsBackward(n) {
		return
	}
	for i, a := range e.u.Adjoints {
		if a == n {
			e.header(n.Line)
			e.gradient(i, a)
		}
	}
}

func (e *explainer) gradient(i int, a *symbolic.Node) {
	rhs, _ := e.m.expr(a, ctx{})
	e.emit(e.m.equation(e.m.partial(e.u.ResultName(), e.u.Wrt[i].Name), rhs))
}

func (e *explainer) parentOf(l *symbolic.Loop) *symbolic.Loop {
	p := l.Parent
	if p != nil && !p.Reverse && e.rev[p] != nil {
		return e.rev[p]
	}
	return p
}

// loop prints a reverse loop: its steps' equations, indented, and what
// its carried adjoints start from.
func (e *explainer) loop(l *symbolic.Loop, nodes []*symbolic.Node) {
	t := l.Index.Var.Name
	where := e.where(l.Node.Line)
	var text string
	if e.o.LaTeX {
		text = fmt.Sprintf(`\intertext{backward of %s, for $%s = %d, \dots, %d$ (backpropagation through time):}`, texttt(where), t, l.To-1, l.From)
	} else {
		text = fmt.Sprintf("%s\n%s  backward, for %s = %d down to %d (backpropagation through time):", where, strings.Repeat("  ", e.depth), t, l.To-1, l.From)
	}
	e.emitRaw(text)
	e.line = -1
	e.depth++
	e.scope(l, nodes)
	for k, st := range l.State {
		next, ok := e.carried[st]
		if !ok || next == st || !slices.Contains(nodes, st) {
			continue
		}
		init, _ := e.m.expr(l.Node.Args[k], ctx{})
		if name, ok := e.recurrent[st]; ok {
			lhs := e.m.sub(e.m.delta(name), ctx{loop: l}.step(0))
			rhs, _ := e.m.expr(next, ctx{loop: l, shift: 1})
			last := e.m.sub(e.m.delta(name), strconv.Itoa(l.To-1))
			if e.o.LaTeX {
				e.emitRaw(`\intertext{carried from step $` + t + `+1$:}`)
				e.emit(e.m.equation(lhs, rhs))
				e.emit(e.m.equation(last, init))
			} else {
				e.emit(fmt.Sprintf("where %s = %s, carried from step %s+1, and %s = %s", lhs, rhs, t, last, init))
			}
			continue
		}
		carried, _ := e.m.expr(next, ctx{loop: l, shift: 1})
		if e.o.LaTeX {
			e.emitRaw(fmt.Sprintf(`\intertext{where $%s = %s$ at $%s = %d$.}`, carried, init, t, l.To-1))
		} else {
			e.emit(fmt.Sprintf("where %s = %s at %s = %d", carried, init, t, l.To-1))
		}
	}
	e.depth--
	e.line = -1
}

// name is how a node is printed inside an expression: the model's name
// for a named forward value or leaf, δname for a derivative printed as an
// equation of its own; a carried adjoint as its value one step later.
func (e *explainer) name(n *symbolic.Node, c ctx) (string, int, bool) {
	m := e.m
	if c.def { // the right-hand side of n's own equation
		c.def = false
		return "", 0, false
	}
	if v, ok := n.Constant(); ok && n.Op.Kind != symbolic.Leaf || n.Op.Code == symbolic.OpConst {
		s, p := m.number(v)
		return s, p, true
	}
	if v := n.Var; v != nil {
		switch {
		case v.Kind == symbolic.Index:
			if c.in(n) {
				return c.step(0), 5, true
			}
			return v.Name, 5, true
		case v.Kind == symbolic.State && n.Scope.Reverse:
			if name, ok := e.recurrent[n]; ok {
				return m.sub(m.delta(name), c.step(0)), 5, true
			}
			if next, ok := e.carried[n]; ok {
				l := n.Scope
				if next == n || c.shift > 0 {
					// constant over the steps: its initial value
					s, p := m.expr(l.Node.Args[slices.Index(l.State, n)], ctx{})
					if next == n {
						return s, p, true
					}
				}
				s, p := m.expr(next, ctx{loop: c.loop, shift: c.shift + 1})
				return s, p, true
			}
			return m.sub(m.delta(strings.TrimPrefix(v.Name, "d")), "acc"), 5, true
		case v.Kind == symbolic.State:
			if c.in(n) {
				return m.sub(m.ident(v.Name), c.step(-1)), 5, true
			}
			return m.ident(v.Name), 5, true
		}
		return m.ident(v.Name), 5, true
	}
	if name, ok := e.defined[n]; ok {
		if c.in(n) || c.loop != nil && e.effective(n) == c.loop {
			return m.sub(m.delta(name), c.step(0)), 5, true
		}
		return m.delta(name), 5, true
	}
	if n.Op.Code == symbolic.OpLoopOut {
		l := loopOf(n)
		k := n.Ints[0]
		if l.Reverse {
			if _, carried := e.carried[l.State[k]]; !carried {
				// an accumulator: the sum of what each step adds
				next := l.Next[k]
				term := next
				if next.Op.Code == symbolic.OpAdd && next.Args[0] == l.State[k] {
					term = next.Args[1]
				}
				s, p := m.expr(term, ctx{loop: l})
				t := l.Index.Var.Name
				if m.tex {
					return `\sum_{` + t + `} ` + m.paren(s, p, 2), 1, true
				}
				return "Σ_" + t + " " + m.paren(s, p, 2), 1, true
			}
		}
		if l.Reverse {
			// the adjoint of the value the loop starts from
			return m.delta(strings.TrimPrefix(n.Name, "d")), 5, true
		}
		return m.ident(n.Name), 5, true
	}
	if !e.u.IsBackward(n) && n.Name != "" {
		if c.in(n) {
			return m.sub(m.ident(n.Name), c.step(0)), 5, true
		}
		return m.ident(n.Name), 5, true
	}
	return "", 0, false
}

func (e *explainer) where(line int) string {
	text := ""
	if e.o.Source != nil {
		text = strings.TrimSpace(e.o.Source(line))
	}
	if text == "" {
		return fmt.Sprintf("%s:%d", e.o.File, line)
	}
	return fmt.Sprintf("%s:%d: %s", e.o.File, line, text)
}

// header prints the .bp line of the equations that follow, when it changes.
func (e *explainer) header(line int) {
	if line == e.line {
		return
	}
	e.line = line
	if e.o.LaTeX {
		e.emitRaw(`\intertext{` + texttt(e.where(line)) + `}`)
		return
	}
	e.emitRaw(strings.Repeat("  ", e.depth) + e.where(line))
}

func (e *explainer) emit(s string) {
	if e.o.LaTeX {
		e.out.WriteString(s + "\n")
		return
	}
	e.out.WriteString(strings.Repeat("  ", e.depth+1) + s + "\n")
}

func (e *explainer) emitRaw(s string) { e.out.WriteString(s + "\n") }

// texttt sets s in typewriter type, escaping LaTeX's special characters.
func texttt(s string) string {
	r := strings.NewReplacer(`\`, `\textbackslash{}`, "{", `\{`, "}", `\}`, "$", `\$`, "&", `\&`, "#", `\#`,
		"^", `\^{}`, "_", `\_`, "%", `\%`, "~", `\~{}`)
	return `\texttt{` + r.Replace(s) + `}`
}
