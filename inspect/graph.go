package inspect

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/backpropgen/backpropgen/symbolic"
)

// GraphOptions say what Graph draws.
type GraphOptions struct {
	Forward bool             // the forward graph alone
	File    string           // the .bp file's base name, for cluster labels
	Source  func(int) string // the text of a .bp line
}

// A picture is a graph laid out for either format: nodes in clusters, and
// edges. It is built once (build) and printed as DOT or Mermaid.
type picture struct {
	top   *cluster
	edges []*edge
}

// kind is what a picture node stands for, which sets its shape and colour.
type kind int

const (
	opNode    kind = iota // an operation
	paramNode             // a param: the gradient is taken with respect to it
	inputNode             // an input or a fn argument
	constNode             // a constant
	stateNode             // a loop's index or carried value
)

type pnode struct {
	id       string
	label    []string // lines
	kind     kind
	backward bool
	result   bool // the loss or the fn's value
	output   bool // a model output
	gradient bool // a derivative the backward pass returns
}

type edge struct {
	from, to string
	label    string
	backward bool
	back     bool // a loop's next-step edge, drawn against the flow
}

type cluster struct {
	id       string
	label    string
	backward bool
	loop     bool
	nodes    []*pnode
	subs     []*cluster
}

// builder makes the picture of one program.
type builder struct {
	o        GraphOptions
	pic      *picture
	clusters map[string]*cluster
	nconst   int
}

func (b *builder) sub(parent *cluster, key, label string, backward, loop bool) *cluster {
	if c, ok := b.clusters[key]; ok {
		return c
	}
	c := &cluster{id: "cluster_" + strconv.Itoa(len(b.clusters)), label: label, backward: backward, loop: loop}
	b.clusters[key] = c
	parent.subs = append(parent.subs, c)
	return c
}

// where is the line text "xor.bp:12: h = tanh(W1 @ x + b1)".
func (b *builder) where(line int) string {
	text := ""
	if b.o.Source != nil {
		text = strings.TrimSpace(b.o.Source(line))
	}
	if text == "" {
		return fmt.Sprintf("%s:%d", b.o.File, line)
	}
	return fmt.Sprintf("%s:%d: %s", b.o.File, line, text)
}

func build(units []*Unit, o GraphOptions) *picture {
	b := &builder{o: o, pic: &picture{top: &cluster{}}, clusters: map[string]*cluster{}}
	for i, u := range units {
		c := b.pic.top
		if len(units) > 1 {
			c = b.sub(c, "unit"+strconv.Itoa(i), fmt.Sprintf("%s %s (%s:%d)", u.Kind(), u.Name, o.File, u.Line), false, false)
		}
		b.unit(u, "u"+strconv.Itoa(i), c)
	}
	return b.pic
}

func (b *builder) unit(u *Unit, prefix string, top *cluster) {
	nodes := reach(u.forwardRoots())
	if !b.o.Forward {
		nodes = reach(append(u.forwardRoots(), u.backwardRoots()...))
	}
	id := func(n *symbolic.Node) string { return prefix + "n" + strconv.Itoa(n.ID) }
	outputs := map[*symbolic.Node]bool{}
	if u.Model != nil {
		for _, out := range u.Model.Outputs {
			outputs[out.Node] = true
		}
	}
	// A derivative node that reads only a forward loop's step has that
	// loop as its scope, but it is computed in the backward loop, with the
	// rest of the step's derivative: draw it there.
	rev := map[*symbolic.Loop]*symbolic.Loop{}
	for _, n := range nodes {
		if n.Loop != nil && n.Loop.Reverse {
			rev[n.Loop.Fwd] = n.Loop
		}
	}
	backScope := func(l *symbolic.Loop) *symbolic.Loop {
		if r := rev[l]; r != nil {
			return r
		}
		return l
	}
	// clusterOf is the cluster a node is drawn in: its loops, outermost
	// first, then its line (forward or backward).
	var loopCluster func(l *symbolic.Loop) *cluster
	loopCluster = func(l *symbolic.Loop) *cluster {
		if l == nil {
			return top
		}
		parent := l.Parent
		if l.Reverse {
			parent = backScope(parent)
		}
		parentCluster := loopCluster(parent)
		line := l.Node.Line
		label := b.where(line) + fmt.Sprintf("  (%d steps)", l.Len())
		if l.Reverse {
			label = "backward of " + b.where(line) + fmt.Sprintf("  (%s = %d down to %d)", l.Index.Var.Name, l.To-1, l.From)
		}
		return b.sub(parentCluster, fmt.Sprintf("%s loop %d", prefix, l.ID), label, l.Reverse, true)
	}
	clusterOf := func(n *symbolic.Node) *cluster {
		if n.Op.Code == symbolic.OpVar {
			return loopCluster(n.Scope)
		}
		bwd := u.IsBackward(n)
		scope := n.Scope
		if l := loopOf(n); l != nil {
			scope = l.Parent
		}
		if bwd {
			scope = backScope(scope)
		}
		c := loopCluster(scope)
		label := b.where(n.Line)
		key := fmt.Sprintf("%s %s line %d", prefix, c.id, n.Line)
		if bwd {
			label, key = "backward of "+label, key+" bwd"
		}
		return b.sub(c, key, label, bwd, false)
	}
	// constant draws a scalar constant argument as a node of its own for
	// each use, so that a 1 or a 2 does not pull edges across the picture.
	constant := func(a *symbolic.Node, c *cluster) string {
		b.nconst++
		cid := prefix + "c" + strconv.Itoa(b.nconst)
		c.nodes = append(c.nodes, &pnode{id: cid, label: []string{a.String()}, kind: constNode})
		return cid
	}
	addEdge := func(from *symbolic.Node, to *symbolic.Node, toID, label string, back bool) {
		e := &edge{from: id(from), to: toID, label: label, backward: u.IsBackward(to), back: back}
		if from.Op.Code == symbolic.OpConst {
			e.from = constant(from, clusterOf(to))
		}
		b.pic.edges = append(b.pic.edges, e)
	}
	for _, n := range nodes {
		if n.Op.Code == symbolic.OpLoop || n.Op.Code == symbolic.OpConst && n.IsScalar() {
			continue
		}
		p := &pnode{id: id(n), backward: u.IsBackward(n), result: n == u.Result, output: outputs[n]}
		switch {
		case n.Op.Code == symbolic.OpVar:
			v := n.Var
			switch v.Kind {
			case symbolic.Param:
				p.kind = paramNode
			case symbolic.Input, symbolic.Arg:
				p.kind = inputNode
			default:
				p.kind = stateNode
			}
			name := v.Name
			if v.Kind == symbolic.State && n.Scope != nil && n.Scope.Reverse {
				name = "δ" + strings.TrimPrefix(name, "d")
			}
			p.label = []string{name, varDesc(v)}
		default:
			op := n.Op.Name
			switch n.Op.Code {
			case symbolic.OpLoopOut:
				op = "final " + n.Name
			case symbolic.OpIndex, symbolic.OpScatter:
				op += " " + indexText(n)
			}
			name := displayName(u, n)
			if n == u.Result && u.Fn != nil {
				name = u.Name
			}
			if name != "" && n.Op.Code != symbolic.OpLoopOut {
				op = name + " = " + op
			}
			p.label = []string{op, n.Shape.String()}
		}
		c := clusterOf(n)
		c.nodes = append(c.nodes, p)
		switch {
		case n.Op.Code == symbolic.OpLoopOut:
			l := loopOf(n)
			addEdge(l.Next[n.Ints[0]], n, p.id, "final", false)
		case n.Op.Code == symbolic.OpVar && n.Var.Kind == symbolic.State:
			l := n.Scope
			k := slices.Index(l.State, n)
			addEdge(l.Node.Args[k], n, p.id, "init", false)
			addEdge(l.Next[k], n, p.id, "next", true)
		default:
			for _, a := range n.Args {
				addEdge(a, n, p.id, "", false)
			}
		}
	}
	if b.o.Forward {
		return
	}
	// The gradients the backward pass returns, each a node of its own:
	// one adjoint may serve several (∂f/∂x = ∂f/∂y = z) or be a forward
	// value (∂f/∂z = x + y).
	for i, a := range u.Adjoints {
		if a == nil {
			continue
		}
		v := u.Wrt[i]
		p := &pnode{id: prefix + "g" + strconv.Itoa(i), kind: opNode, backward: true, gradient: true,
			label: []string{"∂" + u.ResultName() + "/∂" + v.Name, v.Shape.String()}}
		top.nodes = append(top.nodes, p)
		b.pic.edges = append(b.pic.edges, &edge{from: id(a), to: p.id, backward: true})
		if a.Op.Code == symbolic.OpConst {
			b.pic.edges[len(b.pic.edges)-1].from = constant(a, top)
		}
	}
}

// displayName is the model's name for n: a binding's name for a forward
// value, δname for a derivative the IR named after one.
func displayName(u *Unit, n *symbolic.Node) string {
	if n.Name == "" {
		return ""
	}
	if u.IsBackward(n) && strings.HasPrefix(n.Name, "d") {
		return "δ" + n.Name[1:]
	}
	return n.Name
}

func varDesc(v *symbolic.Var) string {
	switch v.Kind {
	case symbolic.Param:
		return "param " + v.Shape.String()
	case symbolic.Input:
		if v.Int {
			return "input int"
		}
		return "input " + v.Shape.String()
	case symbolic.Arg:
		return "arg " + v.Shape.String()
	case symbolic.Index:
		return "loop index"
	}
	return "state " + v.Shape.String()
}

// indexText is the index of an index or scatter node: [0], [t], [label, 3].
func indexText(n *symbolic.Node) string {
	var parts []string
	k := 1
	for _, i := range n.Ints {
		if i >= 0 {
			parts = append(parts, strconv.Itoa(i))
			continue
		}
		parts = append(parts, nodeName(n.Args[k])) // a loop index or an integer input
		k++
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// nodeName is a variable's or a named value's name, else its IR text.
func nodeName(n *symbolic.Node) string {
	if v, off := symbolic.ShiftOf(n); off != 0 { // t-1
		if off > 0 {
			return nodeName(v) + "+" + strconv.Itoa(off)
		}
		return nodeName(v) + strconv.Itoa(off)
	}
	if n.Var != nil {
		return n.Var.Name
	}
	if n.Name != "" {
		return n.Name
	}
	return n.String()
}
