package symbolic

import (
	"fmt"

	"github.com/backpropgen/backpropgen/parser"
)

// forLoop lowers "for VAR in FROM..TO { BODY }". A name the body assigns
// that is bound before the loop is carried from step to step; a name first
// bound in the body is local to one step.
func (s *scope) forLoop(st *parser.For) {
	from, ok1 := s.l.constIntQuiet(s, st.From)
	to, ok2 := s.l.constIntQuiet(s, st.To)
	if !ok1 || !ok2 {
		return
	}
	if to-from > MaxElements {
		s.error(st.From.Pos(), "loop %s in %d..%d has more than %d steps", st.Var.Name, from, to, MaxElements)
		return
	}
	if from < 0 {
		s.error(st.From.Pos(), "loop %s in %d..%d starts below 0: a loop variable indexes tensors, so it counts from 0 or more", st.Var.Name, from, to)
		return
	}
	if to <= from {
		s.error(st.From.Pos(), "loop %s in %d..%d runs no step (the range is FROM..TO, TO excluded)", st.Var.Name, from, to)
		return
	}
	if b, ok := s.names[st.Var.Name]; ok {
		s.error(st.Var.P, "loop variable %s shadows %s %s (line %d): give it another name", st.Var.Name, b.kind, st.Var.Name, b.line)
		return
	}
	if c, ok := s.l.constDecls[st.Var.Name]; ok {
		s.error(st.Var.P, "loop variable %s shadows const %s (line %d): give it another name", st.Var.Name, st.Var.Name, c.P.Line)
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
	s.forget(body, st)
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

// forget records the names that ended with the loop st (its variable and
// the values first bound in its body), for the messages about using them
// after it.
func (s *scope) forget(body *scope, st *parser.For) {
	for name := range body.names {
		if _, ok := s.names[name]; !ok {
			where := fmt.Sprintf("bound only in the loop on line %d", st.P.Line)
			if name == st.Var.Name {
				where = fmt.Sprintf("the variable of the loop on line %d", st.P.Line)
			}
			s.l.loopNames[name] = where
		}
	}
}
