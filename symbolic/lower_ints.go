package symbolic

import (
	"strings"

	"github.com/backpropgen/backpropgen/parser"
)

// Integer inputs are scalars (input k int) or tensors (input labels[T]
// int). Either indexes: a scalar by itself (x[k]), a tensor by one of its
// elements (x[labels[t]], E[tokens[2]]), which is an index node of the
// input's leaf that only ever appears as a position of another index (and
// of the scatters, takes and puts made from it).

// IntSource is the integer input or loop variable whose value the
// position n (a leaf, or an element of an integer tensor) is.
func IntSource(n *Node) *Var {
	if n.Op == opIndex {
		return n.Args[0].Var
	}
	return n.Var
}

// intIndex returns the node of an integer position e names: an integer
// input, a loop variable or an element of a tensor of integer inputs; nil
// for anything else (a constant, or an error reported later). ok is false
// after an error it reports.
func (s *scope) intIndex(e parser.Expr) (n *Node, ok bool) {
	if v := s.intVar(e); v != nil {
		if len(v.Shape) > 0 {
			s.error(e.Pos(), "%s is a tensor of integer inputs: an index is one of its elements, as in %s[%s0]", v.Var.Name, v.Var.Name, strings.Repeat("0, ", len(v.Shape)-1))
			return nil, false
		}
		return v, true
	}
	ie, isIndex := e.(*parser.Index)
	if !isIndex {
		return nil, true
	}
	t := s.intVar(ie.X)
	if t == nil {
		return nil, true
	}
	for _, i := range ie.Indexes {
		if _, ok := i.(*parser.Slice); ok {
			s.error(i.Pos(), "an index is one element of %s, not a slice of it", t.Var.Name)
			return nil, false
		}
		if v := s.intVarIn(i); v != nil && v.Var.Kind != Index {
			s.error(i.Pos(), "an element of %s is picked by constants and loop variables, not by integer input %s", t.Var.Name, v.Var.Name)
			return nil, false
		}
	}
	if len(ie.Indexes) < len(t.Shape) {
		s.error(ie.P, "%s has shape %v: an index is one of its elements, with %d indices", t.Var.Name, t.Shape, len(t.Shape))
		return nil, false
	}
	n = s.indexNode(t, t.Var.Name, ie.Indexes, ie.P)
	return n, n != nil
}

// crossEntropyRows lowers cross_entropy(logits, labels) for a matrix of
// logits, one row per sample of a vector of integer inputs: the sum over
// the rows r of logsumexp(logits[r]) - logits[r, labels[r]].
func crossEntropyRows(s *scope, e *parser.Call, logits *Node) *Node {
	rows := logits.Shape[0]
	labels := s.intVar(e.Args[1])
	if labels == nil || !labels.Shape.Equal(Shape{rows}) {
		got := "something else"
		if labels != nil {
			got = labels.Shape.String()
		}
		s.error(e.Args[1].Pos(), "cross_entropy of %v logits needs a vector of %d integer inputs, one label per row, got %s", logits.Shape, rows, got)
		return nil
	}
	g := s.g
	lse := g.LogSumExpAxis(logits, 1)
	terms := make([]*Node, rows)
	for r := range rows {
		label := g.Index(labels, []int{r})
		picked := g.Index(logits, []int{r, -1}, label)
		terms[r] = g.Sub(g.Index(lse, []int{r}), picked)
	}
	if r := labels.Var.Range; r == 0 || logits.Shape[1] < r {
		labels.Var.Range = logits.Shape[1]
	}
	return g.AddN(terms)
}
