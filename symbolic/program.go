package symbolic

import "sync"

// Program is a checked .bp file: its fns and its model, each with its own graph.
type Program struct {
	File  string // the .bp file's base name, for the generated header
	Fns   []*Func
	Model *Model // nil for a file of fns only
	// Tile is the number of samples the batched model computes at once
	// (Gradients.Batch); 0 means ChooseTile's.
	Tile int
}

// Func is a fn: Result is a function of Args in Graph.
type Func struct {
	Name     string
	Args     []*Var
	ArgNodes []*Node
	Result   *Node
	Graph    *Graph
	Line     int

	gradOnce sync.Once
	grad     *Grad
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

	gradOnce sync.Once
	grad     *Grad

	batchOnce sync.Once
	batch     *Batched
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

// Gradients are the derivatives of a program: of its model's loss with
// respect to the parameters, and of each fn with respect to its arguments.
type Gradients struct {
	Model *Grad // nil for a file of fns only
	Fns   map[*Func]*Grad
	// Batch is the model vectorized over a tile of samples, differentiated
	// (Batch.Gradient()); nil for a file of fns only, and for a model too
	// large for a second copy of its code (BatchMaxNodes).
	Batch *Batched
}

// BatchMaxNodes is the largest model, in IR nodes, that gets a batched
// form. A larger one would double an already huge generated file; its
// batch methods run the samples one at a time. (A variable for the tests.)
var BatchMaxNodes = 20000

// DefaultTile is the tile of samples a batched model computes at once,
// unless Program.Tile says otherwise or the model is large (ChooseTile):
// 32 columns of a matrix product keep a block of the weights in registers
// and cache long enough to pay for loading it, and a tile of 32 of the
// shipped models' values fits in L2.
const DefaultTile = 32

// maxTileFloats bounds a tile's values: a model whose samples each need
// more than maxTileFloats/DefaultTile numbers (a long recurrence over wide
// states) gets a smaller tile, down to minTile, so that its batch
// workspace stays near 16 MiB.
const (
	maxTileFloats = 1 << 21
	minTile       = 4
)

// ChooseTile returns the tile for m: DefaultTile, halved while a tile of
// the numbers one sample's forward pass computes (each value of a loop
// body once per step, an upper bound on what the batch workspace keeps)
// exceeds maxTileFloats, but not below minTile.
func ChooseTile(m *Model) int {
	nodes := m.Graph.Nodes
	if m.grad != nil { // the forward pass's: the derivative's come after
		nodes = nodes[:m.grad.Split]
	}
	per := 0
	for _, n := range nodes {
		if n.Op.Kind == Leaf && (n.Var == nil || n.Var.Kind != Input) {
			continue
		}
		size := n.Shape.Size()
		for l := n.Scope; l != nil; l = l.Parent {
			size *= l.Len()
		}
		per += size
	}
	tile := DefaultTile
	for tile > minTile && tile*per > maxTileFloats {
		tile /= 2
	}
	return tile
}

// Differentiate is the pipeline's differentiation phase: it adds the
// derivatives of p's model and fns to their graphs and returns them. It
// runs once per program; later calls return the same derivatives, so that
// every phase after it sees one split between forward and derivative
// nodes. Code generation reads the graphs and never changes them.
func (p *Program) Differentiate() *Gradients {
	gs := &Gradients{Fns: map[*Func]*Grad{}}
	if p.Model != nil {
		gs.Model = p.Model.Gradient()
		gs.Batch = p.Model.batched(p.Tile)
	}
	for _, fn := range p.Fns {
		gs.Fns[fn] = fn.Gradient()
	}
	return gs
}

// batched returns m's batched form over tile samples (ChooseTile's if
// tile is 0), differentiated, made once; nil if m is larger than
// BatchMaxNodes.
func (m *Model) batched(tile int) *Batched {
	m.batchOnce.Do(func() {
		if len(m.Graph.Nodes) > BatchMaxNodes {
			return
		}
		if tile == 0 {
			tile = ChooseTile(m)
		}
		m.batch = m.Batch(tile)
		m.batch.Gradient()
	})
	return m.batch
}

// Gradient differentiates f with respect to all its arguments, the first
// time it is called; later calls return the same derivative.
func (f *Func) Gradient() *Grad {
	f.gradOnce.Do(func() {
		split := len(f.Graph.Nodes)
		f.grad = &Grad{Graph: f.Graph, Split: split, Adjoints: Differentiate(f.Graph, f.Result, f.Graph.Const(1), f.ArgNodes)}
	})
	return f.grad
}

// Gradient differentiates m's loss with respect to its parameters, the
// first time it is called; later calls return the same derivative.
func (m *Model) Gradient() *Grad {
	m.gradOnce.Do(func() {
		split := len(m.Graph.Nodes)
		m.grad = &Grad{Graph: m.Graph, Split: split, Adjoints: Differentiate(m.Graph, m.Loss, m.Graph.Const(1), m.ParamNodes)}
	})
	return m.grad
}
