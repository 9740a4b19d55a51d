package symbolic

// Program is a checked .bp file: its fns and its model, each with its own graph.
type Program struct {
	File  string // the .bp file's base name, for the generated header
	Fns   []*Func
	Model *Model // nil for a file of fns only
}

// Func is a fn: Result is a function of Args in Graph.
type Func struct {
	Name     string
	Args     []*Var
	ArgNodes []*Node
	Result   *Node
	Graph    *Graph
	Line     int
}

// Model is a model: Loss is a scalar function of Params and Inputs.
type Model struct {
	Name       string
	Line       int
	Params     []*Var
	ParamNodes []*Node
	Inputs     []*Var
	Loss       *Node
	Outputs    []*Output
	Graph      *Graph
}

// Output is a value the model exposes to its caller.
type Output struct {
	Name string
	Node *Node
	Line int
}

// Grad is a derivative made by Differentiate for a Func or a Model.
type Grad struct {
	Graph *Graph
	// Split is the number of nodes the graph had before differentiation:
	// nodes with smaller IDs are forward values.
	Split int
	// Adjoints[i] is the derivative with respect to the i-th argument or
	// parameter; nil where it is identically zero.
	Adjoints []*Node
}

// Gradient differentiates f with respect to all its arguments.
func (f *Func) Gradient() *Grad {
	split := len(f.Graph.Nodes)
	return &Grad{Graph: f.Graph, Split: split, Adjoints: Differentiate(f.Graph, f.Result, f.Graph.Const(1), f.ArgNodes)}
}

// Gradient differentiates m's loss with respect to its parameters.
func (m *Model) Gradient() *Grad {
	split := len(m.Graph.Nodes)
	return &Grad{Graph: m.Graph, Split: split, Adjoints: Differentiate(m.Graph, m.Loss, m.Graph.Const(1), m.ParamNodes)}
}
