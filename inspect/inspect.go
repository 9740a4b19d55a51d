// Package inspect describes a differentiated model for people. It reads a
// checked symbolic.Program and its Gradients (the output of
// backpropgen.Check and Program.Differentiate) and produces the forward and
// backward graphs as Graphviz DOT or Mermaid (Graph), each derivative as
// readable math (Explain), and counts of numbers, bytes and floating-point
// operations (Stats). It never changes the IR.
package inspect

import (
	"cmp"
	"slices"

	"github.com/backpropgen/backpropgen/symbolic"
)

// Unit is one differentiated function of a program: a fn, or the model.
type Unit struct {
	Fn     *symbolic.Func  // nil for the model
	Model  *symbolic.Model // nil for a fn
	Name   string
	Line   int
	Graph  *symbolic.Graph
	Split  int            // nodes from here on are derivative nodes
	Result *symbolic.Node // the fn's value or the model's loss
	// Wrt are the args or params the result is differentiated with
	// respect to, WrtNodes their leaves and Adjoints their derivatives (nil
	// where identically zero).
	Wrt      []*symbolic.Var
	WrtNodes []*symbolic.Node
	Adjoints []*symbolic.Node
}

// Units lists the fns and the model of prog, in the order of their lines.
func Units(prog *symbolic.Program, gs *symbolic.Gradients) []*Unit {
	var us []*Unit
	for _, fn := range prog.Fns {
		g := gs.Fns[fn]
		us = append(us, &Unit{Fn: fn, Name: fn.Name, Line: fn.Line, Graph: fn.Graph, Split: g.Split,
			Result: fn.Result, Wrt: fn.Args, WrtNodes: fn.ArgNodes, Adjoints: g.Adjoints})
	}
	if m := prog.Model; m != nil {
		g := gs.Model
		us = append(us, &Unit{Model: m, Name: m.Name, Line: m.Line, Graph: m.Graph, Split: g.Split,
			Result: m.Loss, Wrt: m.Params, WrtNodes: m.ParamNodes, Adjoints: g.Adjoints})
	}
	slices.SortStableFunc(us, func(a, b *Unit) int { return cmp.Compare(a.Line, b.Line) })
	return us
}

// ResultName is how the result is called in math: the fn's name, or L for
// a model's loss.
func (u *Unit) ResultName() string {
	if u.Model != nil {
		return "L"
	}
	return u.Name
}

// Kind is "fn" or "model".
func (u *Unit) Kind() string {
	if u.Model != nil {
		return "model"
	}
	return "fn"
}

// forwardRoots are the values a forward pass computes: the result and the
// outputs.
func (u *Unit) forwardRoots() []*symbolic.Node {
	roots := []*symbolic.Node{u.Result}
	if u.Model != nil {
		for _, o := range u.Model.Outputs {
			roots = append(roots, o.Node)
		}
	}
	return roots
}

// backwardRoots are the derivatives the backward pass computes.
func (u *Unit) backwardRoots() []*symbolic.Node {
	var roots []*symbolic.Node
	for _, a := range u.Adjoints {
		if a != nil {
			roots = append(roots, a)
		}
	}
	return roots
}

// IsBackward reports whether n was made by differentiation.
func (u *Unit) IsBackward(n *symbolic.Node) bool { return n.ID >= u.Split }

// reach lists, in ID order, the nodes roots depend on, looking into the
// bodies of loops (which a loop node's arguments do not reach: its body is
// its Next values) for the states the roots need (symbolic.LiveStates):
// what the generated code computes.
func reach(roots []*symbolic.Node) []*symbolic.Node {
	live := symbolic.LiveStates(roots)
	seen := map[*symbolic.Node]bool{}
	var out []*symbolic.Node
	var visit func(n *symbolic.Node)
	visit = func(n *symbolic.Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		out = append(out, n)
		for j, a := range n.Args {
			if l := n.Loop; l != nil && j < len(l.State) && (live[l] == nil || !live[l][j]) {
				continue // the initial value of a state nothing needs
			}
			visit(a)
		}
		if l := n.Loop; l != nil {
			for k := range l.State {
				if live[l] != nil && live[l][k] {
					visit(l.State[k])
					visit(l.Next[k])
				}
			}
		}
	}
	for _, r := range roots {
		visit(r)
	}
	slices.SortFunc(out, func(a, b *symbolic.Node) int { return a.ID - b.ID })
	return out
}

// loopOf is the loop a loop node or a loopout node stands for, or nil.
func loopOf(n *symbolic.Node) *symbolic.Loop {
	if n.Loop != nil {
		return n.Loop
	}
	if n.Op.Code == symbolic.OpLoopOut {
		return n.Args[0].Loop
	}
	return nil
}
