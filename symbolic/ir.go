// Package symbolic holds backpropgen's intermediate representation: checked,
// shape-typed tensor expressions, their simplification and their reverse-mode
// derivative.
//
// It reads a parser.File (Lower) and produces a Program: one Graph per fn and
// per model. A Graph is a hash-consed DAG of Nodes, so equal subexpressions
// are one node and the derivative, built with the same constructors, is more
// IR in the same graph (Differentiate). Package codegen turns graphs into Go.
package symbolic

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Shape is a tensor shape; an empty shape is a scalar.
type Shape []int

// Size is the number of elements.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether s and t are the same shape.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

func (s Shape) String() string {
	if len(s) == 0 {
		return "scalar"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// VarKind says where a leaf's value comes from.
type VarKind int

const (
	Param VarKind = iota // trained: the model's gradient is taken with respect to it
	Input                // data, given per sample
	Arg                  // an argument of a fn
	Index                // a loop variable
	State                // a value a loop carries from one step to the next
)

// Var is a leaf of a graph: a parameter, an input or a fn argument.
type Var struct {
	Name  string
	Kind  VarKind
	Shape Shape
	Line  int // declaring line in the .bp file
	// Int marks an integer input, which can only index tensors. Range is
	// the number of values it may take, 0..Range-1: the smallest dimension
	// it indexes.
	Int   bool
	Range int
}

// Node is one value of a graph. Nodes are immutable once made and numbered in
// creation order, so every node's arguments have smaller IDs than it has: ID
// order is a topological order, and emitting in it is deterministic.
type Node struct {
	ID    int
	Op    *Op
	Args  []*Node
	Shape Shape
	Val   float64 // the value of a constant
	Ints  []int   // index positions, for index and scatter; -1 where Args[1:] give it
	Var   *Var    // the leaf, for var
	Name  string  // a name from the model, used to name the generated variable
	Line  int     // the .bp line this node was made for, for comments
	// Scope is the innermost loop whose body this node is part of (it
	// depends on that loop's index or state), nil outside loops.
	Scope *Loop
	Loop  *Loop // for a loop node, the loop
}

func (n *Node) String() string {
	switch n.Op {
	case opConst:
		return strconv.FormatFloat(n.Val, 'g', -1, 64)
	case opVar:
		return n.Var.Name
	}
	var b strings.Builder
	b.WriteString(n.Op.Name)
	b.WriteByte('(')
	for i, a := range n.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%%%d", a.ID)
	}
	if len(n.Ints) > 0 {
		fmt.Fprintf(&b, "; %v", n.Ints)
	}
	b.WriteByte(')')
	return b.String()
}

// IsConst reports whether n is the scalar constant v.
func (n *Node) IsConst(v float64) bool { return n.Op == opConst && n.Val == v }

// Constant reports whether n is a constant, a scalar or a tensor of one
// value broadcast, and which.
func (n *Node) Constant() (float64, bool) {
	if n.Op == opBroadcast {
		n = n.Args[0]
	}
	return n.Val, n.Op == opConst
}

// IsScalar reports whether n has rank 0.
func (n *Node) IsScalar() bool { return len(n.Shape) == 0 }

// Graph owns the nodes of one fn or model and makes equal nodes once.
type Graph struct {
	Nodes  []*Node
	loops  int // loops made, to number them
	intern map[string]*Node
	// Line is stamped on every node made while it is set, so generated code
	// can say which .bp line each block comes from.
	Line int
}

// NewGraph returns an empty graph.
func NewGraph() *Graph { return &Graph{intern: map[string]*Node{}} }

// key identifies a node for hash-consing: equal keys, equal nodes. Each
// part is tagged, so that no two different nodes print the same.
func key(op *Op, args []*Node, val float64, ints []int, v *Var, shape Shape) string {
	b := make([]byte, 0, 64)
	b = append(b, op.Name...)
	for _, a := range args {
		b = append(b, " a"...)
		b = strconv.AppendInt(b, int64(a.ID), 10)
	}
	if op == opConst {
		b = append(b, " c"...)
		b = strconv.AppendFloat(b, val, 'g', -1, 64)
	}
	if v != nil {
		b = fmt.Appendf(b, " v%p", v)
	}
	for _, i := range ints {
		b = append(b, " i"...)
		b = strconv.AppendInt(b, int64(i), 10)
	}
	b = append(b, " s"...)
	for _, d := range shape {
		b = strconv.AppendInt(b, int64(d), 10)
		b = append(b, ',')
	}
	return string(b)
}

// node returns the node for op(args), after simplification, making it only if
// no equal node exists. It is the only place nodes are made.
func (g *Graph) node(op *Op, args []*Node, shape Shape, val float64, ints []int, v *Var) *Node {
	if r := simplify(g, op, args, shape, ints); r != nil {
		return r
	}
	k := key(op, args, val, ints, v, shape)
	if n, ok := g.intern[k]; ok {
		return n
	}
	n := &Node{ID: len(g.Nodes), Op: op, Args: args, Shape: shape, Val: val, Ints: ints, Var: v, Line: g.Line}
	for _, a := range args {
		n.Scope = inner(n.Scope, a.Scope)
	}
	g.Nodes = append(g.Nodes, n)
	g.intern[k] = n
	return n
}

// Walk calls f for every node reachable from roots, each once, arguments
// before their users (ascending ID). Every pass over a graph uses it.
func Walk(roots []*Node, f func(*Node)) { WalkStop(roots, nil, f) }

// WalkStop is Walk that does not look into the arguments of nodes for
// which stop is true (it still calls f for them).
func WalkStop(roots []*Node, stop func(*Node) bool, f func(*Node)) {
	seen := map[*Node]bool{}
	var order []*Node
	var visit func(n *Node)
	visit = func(n *Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		if stop == nil || !stop(n) {
			for _, a := range n.Args {
				visit(a)
			}
		}
		order = append(order, n)
	}
	for _, r := range roots {
		visit(r)
	}
	sortByID(order)
	for _, n := range order {
		f(n)
	}
}

func sortByID(ns []*Node) {
	slices.SortFunc(ns, func(a, b *Node) int { return a.ID - b.ID })
}
