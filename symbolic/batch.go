package symbolic

import (
	"fmt"
	"slices"
)

// Batched is a model vectorized over a tile of samples (Batch): the same
// parameters, an input per input of the original with a last axis of Tile
// samples, and a loss that is the sum of the samples' losses, so that its
// gradient is the sum of theirs.
type Batched struct {
	*Model
	Tile int
	// Inputs[i] of the embedded Model is the tile of Of.Inputs[i].
	Of *Model
	// Outputs[i] of the embedded Model holds Of.Outputs[i] of every
	// sample, the sample axis last.
}

// Batch returns m vectorized over tile samples. Every value computed from
// an input gains a last axis, one element per sample; values that depend
// on parameters and constants only are computed once for the tile. A
// matrix-vector product with a parameter matrix becomes a matrix product
// over the tile, a loop runs once per step for the whole tile, and the
// derivative of the batched loss, made as usual, sums each parameter's
// gradient over the tile: the weight gradient of a layer is one matrix
// product, δ Xᵀ, rather than one outer product per sample.
//
// The sample axis is the last so that indexing a batched tensor along its
// leading axes (xs[t] in a loop) is the language's own indexing, and each
// row of a batched value is one contiguous run of samples.
func (m *Model) Batch(tile int) *Batched {
	if tile < 1 {
		panic(fmt.Sprintf("batch: tile %d", tile))
	}
	bt := &batcher{g: NewGraph(), b: tile, memo: map[*Node]*Node{}, batched: map[*Node]bool{}}
	bm := &Model{Name: m.Name, Line: m.Line, Params: m.Params, Graph: bt.g}
	for _, p := range m.ParamNodes {
		bm.ParamNodes = append(bm.ParamNodes, bt.g.VarNode(p.Var))
	}
	for _, v := range m.Inputs {
		shape := append(slices.Clone(v.Shape), tile)
		bv := &Var{Name: v.Name, Kind: Input, Shape: shape, Line: v.Line, Int: v.Int, Range: v.Range}
		bm.Inputs = append(bm.Inputs, bv)
		bt.inputs = append(bt.inputs, [2]*Var{v, bv})
	}
	loss := bt.value(m.Loss)
	bt.g.Line = m.Loss.Line
	if bt.batched[m.Loss] {
		loss = bt.g.Sum(loss)
	} else { // the same loss for every sample
		loss = bt.g.Mul(bt.g.Const(float64(tile)), loss)
	}
	bm.Loss = loss
	for _, o := range m.Outputs {
		bt.g.Line = o.Line
		n := bt.lift(bt.value(o.Node), bt.batched[o.Node], o.Node.Shape)
		bm.Outputs = append(bm.Outputs, &Output{Name: o.Name, Node: n, Line: o.Line})
	}
	return &Batched{Model: bm, Tile: tile, Of: m}
}

// batcher is the state of one Batch: the batched graph, and for each node
// of the original the node that computes it for the tile.
type batcher struct {
	g    *Graph
	b    int
	memo map[*Node]*Node
	// batched says which nodes of the original have batched forms with a
	// sample axis. It is kept by original node, not by node of g: hash
	// consing may make one node of g of a value shared by the tile and of
	// a batched one that happen to be equal (a constant, or an expansion
	// the model itself wrote), which the sample axis tells apart.
	batched map[*Node]bool
	inputs  [][2]*Var // each input and its tile
	// made lists the memo entries made since the last mark, so that a
	// loop body built with a wrong guess of its states can be forgotten.
	made []*Node
}

// value returns the batched form of n.
func (bt *batcher) value(n *Node) *Node {
	if v, ok := bt.memo[n]; ok {
		return v
	}
	if n.Op == opLoop {
		bt.loop(n)
		return bt.memo[n]
	}
	args := make([]*Node, len(n.Args))
	ab := make([]bool, len(n.Args))
	any := false
	for i, a := range n.Args {
		args[i] = bt.value(a)
		ab[i] = bt.batched[a]
		any = any || ab[i]
	}
	if v, ok := bt.memo[n]; ok { // a loopout, made with its loop
		return v
	}
	bt.g.Line = n.Line
	var v *Node
	if !any || n.Op.Kind == Leaf || n.Op == opLoopOut {
		v = bt.same(n, args)
	} else {
		v = bt.vectorize(n, args, ab)
		bt.batched[n] = true
	}
	if v.Name == "" && n.Name != "" {
		v.Name = n.Name
	}
	bt.memo[n] = v
	bt.made = append(bt.made, n)
	return v
}

// same rebuilds n on args for a value shared by the tile (or a leaf).
func (bt *batcher) same(n *Node, args []*Node) *Node {
	if n.Op == opVar {
		if n.Var.Kind == Input {
			for _, io := range bt.inputs {
				if io[0] == n.Var {
					bt.batched[n] = true
					return bt.g.VarNode(io[1])
				}
			}
		}
		if n.Var.Kind == Index || n.Var.Kind == State {
			panic(fmt.Sprintf("batch: %s read outside its loop", n.Var.Name))
		}
		return bt.g.VarNode(n.Var)
	}
	if n.Op == opLoopOut {
		panic("batch: loopout before its loop")
	}
	return bt.g.node(n.Op, args, n.Shape, n.Val, n.Ints, n.Var)
}

// lift gives x, the batched form of a value of shape s, a sample axis if
// it has none (batched is false): the value repeated for every sample.
func (bt *batcher) lift(x *Node, batched bool, s Shape) *Node {
	if batched {
		return x
	}
	axes := make([]int, len(s))
	for i := range axes {
		axes[i] = i
	}
	return bt.g.Expand(x, bt.tile(s), axes)
}

// tile is s with the sample axis appended.
func (bt *batcher) tile(s Shape) Shape { return append(slices.Clone(s), bt.b) }

// spread repeats y, a batched scalar ([B]), over the per-sample shape s.
func (bt *batcher) spread(y *Node, s Shape) *Node {
	if len(s) == 0 {
		return y
	}
	return bt.g.Expand(y, bt.tile(s), []int{len(s)})
}

// vectorize builds n's batched form from args, of which those marked in
// ab are batched.
func (bt *batcher) vectorize(n *Node, args []*Node, ab []bool) *Node {
	g := bt.g
	switch n.Op.Kind {
	case Elementwise:
		for i, a := range args {
			switch {
			case ab[i] && len(n.Args[i].Shape) < len(n.Shape):
				args[i] = bt.spread(a, n.Shape) // a scalar per sample
			case !ab[i] && len(a.Shape) > 0:
				args[i] = bt.lift(a, false, a.Shape)
			}
		}
		if n.Op == opAddN {
			return g.AddN(args)
		}
		return g.node(n.Op, args, bt.tile(n.Shape), 0, nil, nil)
	case View:
		return bt.view(n, args, ab)
	case Reduce:
		keep := []int{len(n.Args[0].Shape)}
		if n.Op == opMaxAll {
			return g.ReduceMax(args[0], keep)
		}
		return g.ReduceSum(args[0], keep)
	case Partial: // reducesum, reducemax, amax: the sample axis is kept
		keep := append(slices.Clone(n.Ints), len(n.Args[0].Shape))
		switch n.Op {
		case opReduceSum:
			return g.ReduceSum(args[0], keep)
		case opReduceMax:
			return g.ReduceMax(args[0], keep)
		}
		return g.AMax(args[0], keep)
	case MatMul:
		return bt.matmul(n, args, ab)
	case Outer:
		m, k := n.Shape[0], n.Shape[1]
		return bt.contract(args, ab, Shape{m, k}, [][]int{{0}, {1}}, []int{0, 1})
	case ScatterAdd:
		if n.Op == opUnwindow {
			return bt.batchWindow(n, args[0])
		}
	}
	panic(fmt.Sprintf("batch: no batched form of %s", n.Op.Name))
}

func (bt *batcher) view(n *Node, args []*Node, ab []bool) *Node {
	g, x := bt.g, args[0]
	switch n.Op {
	case opStopGrad:
		return g.StopGrad(x)
	case opTranspose: // x is [m, k, B]
		return g.Expand(x, bt.tile(n.Shape), []int{1, 0, 2})
	case opBroadcast: // x is a scalar per sample
		return bt.spread(x, n.Shape)
	case opWindow:
		return bt.batchWindow(n, x)
	case opGather:
		return bt.batchGather(n, args, ab)
	case opSlide: // the sample axis stays last; the position is shared
		return g.Slide(x, args[1], n.Ints[0], n.Ints[1])
	case opExpand: // the sample axis stays last
		return g.Expand(x, bt.tile(n.Shape), append(slices.Clone(n.Ints), len(n.Shape)))
	case opIndex:
		perSample := false
		for _, b := range ab[1:] {
			perSample = perSample || b
		}
		if !perSample { // x[t] of a batched x: its leading axes, as for one sample
			return g.Index(x, n.Ints, args[1:]...)
		}
		return g.Take(x, n.Ints, ab[0], args[1:]...)
	}
	panic(fmt.Sprintf("batch: no batched form of %s", n.Op.Name))
}

// matmul is a @ b over the tile. A shared matrix times a batched vector is
// a matrix product, W X, the tile's columns being the samples; a batched
// vector times a shared matrix is Wᵀ X. A product of a shared matrix and a
// batched one (a sample of rows) is a bmatmul (batchmm.go). Other
// combinations (two batched operands, a batched matrix times a vector)
// are written as products of expanded operands summed over the shared
// axis.
func (bt *batcher) matmul(n *Node, args []*Node, ab []bool) *Node {
	g := bt.g
	a, b := n.Args[0], n.Args[1]
	if c, ok := bt.sharedTimesRows(n, args, ab); ok {
		return c
	}
	switch {
	case !ab[0] && len(a.Shape) == 2 && len(b.Shape) == 1:
		return g.MatMul(args[0], args[1])
	case !ab[1] && len(a.Shape) == 1 && len(b.Shape) == 2:
		return g.MatMul(g.Transpose(args[1]), args[0])
	case len(a.Shape) == 2 && len(b.Shape) == 1: // y[i] = A[i,k] x[k], over [i, k]
		return bt.contract(args, ab, Shape{a.Shape[0], a.Shape[1]}, [][]int{{0, 1}, {1}}, []int{0})
	case len(a.Shape) == 1: // y[j] = v[k] B[k,j], over [k, j]
		return bt.contract(args, ab, Shape{b.Shape[0], b.Shape[1]}, [][]int{{0}, {0, 1}}, []int{1})
	default: // C[i,j] = A[i,k] B[k,j], over [i, k, j]
		return bt.contract(args, ab, Shape{a.Shape[0], a.Shape[1], b.Shape[1]}, [][]int{{0, 1}, {1, 2}}, []int{0, 2})
	}
}

// contract multiplies args, each expanded into space (with the sample
// axis appended) along axes[i], and sums over the axes not in keep.
func (bt *batcher) contract(args []*Node, ab []bool, space Shape, axes [][]int, keep []int) *Node {
	g := bt.g
	full := bt.tile(space)
	prod := (*Node)(nil)
	for i, x := range args {
		ax := slices.Clone(axes[i])
		if ab[i] {
			ax = append(ax, len(space))
		}
		e := g.Expand(x, full, ax)
		if prod == nil {
			prod = e
		} else {
			prod = g.Mul(prod, e)
		}
	}
	return g.ReduceSum(prod, append(slices.Clone(keep), len(space)))
}

// loop builds the batched form of loop node n. A state has a sample axis
// if its initial value or its next value has one; which next values do is
// known only once the body is built, so the body is built again with more
// states batched until the guess holds.
func (bt *batcher) loop(n *Node) {
	l := n.Loop
	k := len(l.State)
	inits := make([]*Node, k)
	batched := make([]bool, k)
	for i := range k {
		inits[i] = bt.value(n.Args[i])
		batched[i] = bt.batched[n.Args[i]]
	}
	var parent *Loop
	if l.Parent != nil {
		parent = bt.memo[l.Parent.Index].Scope
	}
	for {
		mark := len(bt.made)
		nl := bt.g.NewLoop(parent, l.Index.Var.Name, l.From, l.To)
		bt.memo[l.Index] = nl.Index
		for i, st := range l.State {
			shape := st.Shape
			if batched[i] {
				shape = bt.tile(shape)
			}
			s := bt.g.AddState(nl, l.Names[i], shape)
			bt.memo[st] = s
			bt.batched[st] = batched[i]
		}
		next := make([]*Node, k)
		nextB := make([]bool, k)
		again := false
		for i, x := range l.Next {
			next[i] = bt.value(x)
			nextB[i] = bt.batched[x]
			if nextB[i] && !batched[i] {
				batched[i], again = true, true
			}
		}
		if again { // forget the body and build it again
			for _, x := range bt.made[mark:] {
				delete(bt.memo, x)
				delete(bt.batched, x)
			}
			bt.made = bt.made[:mark]
			continue
		}
		bt.g.Line = n.Line
		ins := make([]*Node, k)
		for i := range k {
			ins[i] = inits[i]
			if batched[i] {
				ins[i] = bt.lift(inits[i], bt.batched[n.Args[i]], l.State[i].Shape)
				next[i] = bt.lift(next[i], nextB[i], l.State[i].Shape)
			}
		}
		outs := bt.g.Close(nl, ins, next)
		bt.memo[n] = nl.Node
		bt.made = append(bt.made, n)
		for i, o := range l.Outs {
			bt.memo[o] = outs[i]
			bt.batched[o] = batched[i]
			bt.made = append(bt.made, o)
		}
		return
	}
}
