package randmodel

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
)

// Limit is the magnitude the generator keeps values under (by its own
// worst-case estimate): parameters and inputs are filled from [-1, 1], and
// any expression whose bound exceeds Limit is squashed (tanh, sin, atan...),
// so that the model's values and derivatives are moderate and 1e-12
// relative comparisons mean something.
const Limit = 6

// Generate returns a random valid model with fns, determined by seed.
func Generate(seed int64) *File {
	g := &gen{r: rand.New(rand.NewSource(seed)), f: &File{Layout: seed}, layers: rand.New(rand.NewSource(seed ^ 0x1a7e45)),
		moves: rand.New(rand.NewSource(seed ^ 0x0ff5e7)),
		rows:  rand.New(rand.NewSource(seed ^ 0x5a3b1e))}
	g.file()
	return g.f
}

type value struct {
	name  string
	shape []int
	bound float64
	kind  string // "param", "input", "arg", "value"
}

// indexer is a loop variable or an integer input: limit is the smallest
// dimension it may index (0 for an integer input, which indexes any).
type indexer struct {
	name  string
	limit int
	from  int // a loop variable's first value
}

type fnInfo struct {
	fn    *Fn
	bound float64
}

type gen struct {
	r *rand.Rand
	f *File
	// layers decides where a built-in layer goes, from a stream of its
	// own: a model without one is the model the seed gave before they
	// were added, so the seeds keep covering what they covered.
	layers *rand.Rand
	// moves decides, from a stream of its own for the same reason, where
	// an index or a slice moves with a loop variable (t-1, t:t+2) and
	// where a whole tensor of integers gathers rows (E[ks]).
	moves *rand.Rand
	// rows decides which matrix products multiply a sample's rows by a
	// parameter matrix (rows.go), from a stream of its own for the same
	// reason.
	rows *rand.Rand

	vals    []*value
	idx     []indexer
	fns     []*fnInfo // callable from here
	inFn    *Fn       // the fn being generated, whose args grow on demand
	loops   int       // loop nesting at this point
	counter int
	params  int
	// stopGrad allows stop_gradient, in some models only: central
	// differences cannot check a model that has it.
	stopGrad bool
}

func (g *gen) pct(p int) bool { return g.r.Intn(100) < p }

func (g *gen) fresh(prefix string) string {
	g.counter++
	return fmt.Sprintf("%s%d", prefix, g.counter)
}

// size picks a dimension: mostly 1 to 4, sometimes 5 to 9 (8 or more
// elements take the long-reduction paths).
func (g *gen) size() int {
	switch n := g.r.Intn(100); {
	case n < 20:
		return 1
	case n < 45:
		return 2
	case n < 70:
		return 3
	case n < 85:
		return 4
	}
	return 5 + g.r.Intn(5)
}

// dim writes d, sometimes as a const or an expression of one.
func (g *gen) dim(d int) Dim {
	for _, c := range g.f.Consts {
		switch {
		case c.V == d && g.pct(60):
			return Dim{V: d, Text: c.Name}
		case 2*c.V == d && g.pct(50):
			return Dim{V: d, Text: "2*" + c.Name}
		case c.V+1 == d && g.pct(50):
			return Dim{V: d, Text: c.Name + " + 1"}
		}
	}
	return Dim{V: d}
}

func (g *gen) dims(shape []int) []Dim {
	var ds []Dim
	for _, d := range shape {
		ds = append(ds, g.dim(d))
	}
	return ds
}

var modelNames = []string{"net", "toy", "fit", "prob", "seq", "mlp", "rnn"}

func (g *gen) file() {
	f := g.f
	f.Model = modelNames[g.r.Intn(len(modelNames))]
	g.stopGrad = g.pct(10)
	for i := range g.r.Intn(3) {
		f.Consts = append(f.Consts, &Const{Name: []string{"N", "H", "K"}[i], V: 1 + g.r.Intn(4)})
	}
	for range g.r.Intn(4) {
		g.fn()
	}
	g.model()
	if g.params == 0 {
		// A model needs a param: add one to the loss.
		w := g.newDecl("param", []int{g.size()})
		g.f.Body = append(g.f.Body, &Assign{Name: "loss", Op: "+=", X: &Bin{Op: "*", X: &Num{V: 0.5}, Y: &Call{F: "sum", Args: []Expr{&Bin{Op: "*", X: &Name{N: w.name}, Y: &Name{N: w.name}}}}}})
	}
}

// fn generates a fn with a scalar result, which may call the fns before it.
func (g *gen) fn() {
	fn := &Fn{Name: g.fresh("f")}
	saved := g.vals
	g.vals, g.inFn = nil, fn
	// Declare some arguments up front, so fns have vector and matrix args.
	for range 1 + g.r.Intn(2) {
		var shape []int
		switch g.r.Intn(4) {
		case 1, 2:
			shape = []int{g.size()}
		case 3:
			shape = []int{g.size(), g.size()}
		}
		g.newDecl("arg", shape)
	}
	for range g.r.Intn(3) {
		shape := g.shape(2)
		x, b := g.expr(shape, 2)
		name := g.fresh("v")
		fn.Body = append(fn.Body, &Assign{Name: name, Op: "=", X: x})
		g.vals = append(g.vals, &value{name: name, shape: shape, bound: b, kind: "value"})
	}
	ret, b := g.expr(nil, 3)
	fn.Ret = ret
	g.vals, g.inFn = saved, nil
	g.fns = append(g.fns, &fnInfo{fn: fn, bound: b})
	g.f.Fns = append(g.f.Fns, fn)
	g.f.FnFirst = append(g.f.FnFirst, g.pct(50))
}

// shape picks a shape of rank up to maxRank (scalars and vectors most).
func (g *gen) shape(maxRank int) []int {
	rank := 0
	switch n := g.r.Intn(100); {
	case n < 35:
		rank = 0
	case n < 75:
		rank = 1
	case n < 95:
		rank = 2
	default:
		rank = 3
	}
	rank = min(rank, maxRank)
	shape := make([]int, rank)
	for i := range shape {
		shape[i] = g.size()
	}
	return shape
}

// newDecl declares a param, an input or (in a fn) an argument.
func (g *gen) newDecl(kind string, shape []int) *value {
	if g.inFn != nil {
		kind = "arg"
	}
	prefix := map[string]string{"param": "w", "input": "x", "arg": "a"}[kind]
	v := &value{name: g.fresh(prefix), shape: shape, bound: 1, kind: kind}
	d := &Decl{Kind: kind, Name: v.name, Dims: g.dims(shape)}
	if kind == "arg" {
		g.inFn.Args = append(g.inFn.Args, d)
	} else {
		g.f.Decls = append(g.f.Decls, d)
	}
	if kind == "param" {
		g.params++
	}
	g.vals = append(g.vals, v)
	return v
}

// intInput returns an integer input, new or existing.
func (g *gen) intInput() string {
	for _, d := range g.f.Decls {
		if d.Int && len(d.Dims) == 0 && g.pct(60) {
			return d.Name
		}
	}
	name := g.fresh("k")
	g.f.Decls = append(g.f.Decls, &Decl{Kind: "input", Name: name, Int: true})
	return name
}

// model generates the model's statements: bindings, loops, outputs, loss.
func (g *gen) model() {
	var body []Stmt
	for range 1 + g.r.Intn(3) {
		body = append(body, g.binding()...)
	}
	lossSet := false
	if g.pct(70) {
		if g.pct(50) {
			body = append(body, &Assign{Name: "loss", Op: "=", X: &Num{V: 0}})
			lossSet = true
		}
		body = append(body, g.loop(lossSet)...)
		if g.pct(30) {
			body = append(body, g.loop(lossSet)...)
		}
	}
	for range g.r.Intn(3) {
		body = append(body, g.binding()...)
	}
	// The loss reads a few of the values, so that they matter.
	var terms []Expr
	live := g.liveValues()
	g.r.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
	for _, v := range live[:min(len(live), 1+g.r.Intn(3))] {
		terms = append(terms, g.scalarize(v))
	}
	x, _ := g.expr(nil, 2)
	terms = append(terms, x)
	loss := terms[0]
	for _, t := range terms[1:] {
		loss = &Bin{Op: []string{"+", "-", "+"}[g.r.Intn(3)], X: loss, Y: t}
	}
	if lossSet {
		body = append(body, &Assign{Name: "loss", Op: "+=", X: loss})
	} else {
		body = append(body, &Assign{Name: "loss", Op: "=", X: loss})
	}
	if g.pct(20) {
		body = append(body, &Output{Name: "loss"})
	}
	g.f.Body = body
}

func (g *gen) liveValues() []*value {
	var out []*value
	for _, v := range g.vals {
		if v.kind == "value" {
			out = append(out, v)
		}
	}
	return out
}

// scalarize reads a value as a moderate scalar.
func (g *gen) scalarize(v *value) Expr {
	x := Expr(&Name{N: v.name})
	if len(v.shape) == 0 {
		if v.bound > Limit {
			return &Call{F: "tanh", Args: []Expr{x}}
		}
		return x
	}
	switch g.r.Intn(4) {
	case 0:
		return &Call{F: "mean", Args: []Expr{x}}
	case 1:
		var idx []Idx
		for _, d := range v.shape {
			idx = append(idx, Idx{V: g.r.Intn(d)})
		}
		return &Index{X: x, Idx: idx}
	case 2:
		return &Call{F: "mean", Args: []Expr{&Call{F: "sin", Args: []Expr{x}}}}
	}
	return &Call{F: "sum", Args: []Expr{&Bin{Op: "*", X: x, Y: x}}}
}

// binding is "h = X", a reassignment "h = f(h)", "h += X", or an output.
func (g *gen) binding() []Stmt {
	live := g.liveValues()
	switch n := g.r.Intn(100); {
	case n < 15 && len(live) > 0:
		v := live[g.r.Intn(len(live))]
		x, b := g.exprLimited(v.shape, 2, Limit)
		v.bound = b
		return []Stmt{&Assign{Name: v.name, Op: "=", X: x}}
	case n < 25 && len(live) > 0:
		v := live[g.r.Intn(len(live))]
		x, b := g.exprLimited(v.shape, 2, 1)
		v.bound += b
		return []Stmt{&Assign{Name: v.name, Op: "+=", X: x}}
	case n < 35:
		shape := g.shape(3)
		x, b := g.exprLimited(shape, 2, Limit)
		name := g.fresh("o")
		g.vals = append(g.vals, &value{name: name, shape: shape, bound: b, kind: "value"})
		return []Stmt{&Output{Name: name, X: x}}
	}
	shape := g.shape(3)
	x, b := g.exprLimited(shape, 3, Limit)
	if g.inFn == nil && g.pct(12) {
		// A param matrix of 8 rows times a long vector, which codegen
		// computes four rows per pass (matvec4); with 32 or more columns
		// its gradient δ vᵀ is added four rows per pass too
		// (accumulateOuter4). (No extra draw: the models that were are.)
		shape = []int{8}
		k := 16 + g.r.Intn(9)
		if k%2 == 0 {
			k *= 2
		}
		w := g.newDecl("param", []int{8, k})
		v, _ := g.exprLimited([]int{k}, 2, Limit)
		x, b = &Call{F: "tanh", Args: []Expr{&Bin{Op: "@", X: &Name{N: w.name}, Y: v}}}, 1
	}
	if g.inFn == nil && g.rows.Intn(100) < rowsBindingPct {
		// A layer over a sample's rows, of a size whose batched products
		// are kernel calls.
		shape = []int{2 + g.rows.Intn(5), 2 + g.rows.Intn(5)}
		p, _ := g.rowsProduct(shape)
		x, b = &Call{F: "tanh", Args: []Expr{p}}, 1
	}
	name := g.fresh("h")
	g.vals = append(g.vals, &value{name: name, shape: shape, bound: b, kind: "value"})
	out := []Stmt{&Assign{Name: name, Op: "=", X: x}}
	if g.pct(20) {
		out = append(out, &Output{Name: name})
	}
	return out
}

var loopVars = []string{"t", "i", "j", "l", "u"}

// loop generates a for loop with carried state, read after it, and (if
// addLoss) loss += ... in its body. It returns the state's initial
// bindings and the loop.
func (g *gen) loop(addLoss bool) []Stmt {
	var pre []Stmt
	// Carried state: existing values or new ones bound just before.
	var states []*value
	for range 1 + g.r.Intn(3) {
		live := g.liveValues()
		if len(live) > 0 && g.pct(30) {
			v := live[g.r.Intn(len(live))]
			if !slices.Contains(states, v) {
				states = append(states, v)
			}
			continue
		}
		shape := g.shape(2)
		var x Expr
		b := 0.0
		switch g.r.Intn(3) {
		case 0:
			if len(shape) == 0 {
				x = &Num{V: 0}
			} else {
				x = filled("zeros", g.dims(shape))
			}
		default:
			x, b = g.exprLimited(shape, 1, Limit)
		}
		v := &value{name: g.fresh("s"), shape: shape, bound: b, kind: "value"}
		g.vals = append(g.vals, v)
		pre = append(pre, &Assign{Name: v.name, Op: "=", X: x})
		states = append(states, v)
	}
	for _, s := range states {
		s.bound = Limit // what a step may leave in it
	}
	st := g.loopBody(states, addLoss)
	return append(pre, st)
}

func filled(f string, ds []Dim) Expr {
	var args []Expr
	for _, d := range ds {
		args = append(args, &DimExpr{D: d})
	}
	return &Call{F: f, Args: args}
}

func (g *gen) loopBody(states []*value, addLoss bool) *For {
	used := map[string]bool{}
	for _, ix := range g.idx {
		used[ix.name] = true
	}
	name := "t"
	for _, n := range loopVars {
		if !used[n] {
			name = n
			break
		}
	}
	from := 0
	if g.pct(20) {
		from = 1
	}
	to := from + 1 + g.r.Intn(4)
	st := &For{Var: name, From: Dim{V: from}, To: g.dim(to)}
	g.idx = append(g.idx, indexer{name: name, limit: to, from: from})
	g.loops++
	savedVals := len(g.vals)
	updated := map[*value]bool{}
	update := func(s *value) {
		updated[s] = true
		if g.pct(20) {
			x, _ := g.exprLimited(s.shape, 2, 0.5)
			st.Body = append(st.Body, &Assign{Name: s.name, Op: "+=", X: &Bin{Op: "*", X: &Num{V: 0.25}, Y: x}})
			return
		}
		x, _ := g.exprLimited(s.shape, 3, Limit)
		if g.pct(50) {
			// Make sure the step reads the state.
			x = &Bin{Op: "+", X: &Bin{Op: "*", X: &Name{N: s.name}, Y: &Num{V: 0.5}}, Y: g.squash(x, 0.5*Limit)}
		}
		st.Body = append(st.Body, &Assign{Name: s.name, Op: "=", X: x})
	}
	for range 1 + g.r.Intn(4) {
		switch n := g.r.Intn(100); {
		case n < 30:
			shape := g.shape(2)
			x, b := g.exprLimited(shape, 2, Limit)
			v := &value{name: g.fresh("h"), shape: shape, bound: b, kind: "value"}
			st.Body = append(st.Body, &Assign{Name: v.name, Op: "=", X: x})
			g.vals = append(g.vals, v)
		case n < 45 && g.loops < 3:
			// A nested loop carries some of the outer state, and a value
			// local to the outer step.
			var inner []*value
			for _, s := range states {
				if g.pct(50) {
					inner = append(inner, s)
					updated[s] = true
				}
			}
			shape := g.shape(1)
			x, _ := g.exprLimited(shape, 1, Limit)
			v := &value{name: g.fresh("c"), shape: shape, bound: Limit, kind: "value"}
			g.vals = append(g.vals, v)
			st.Body = append(st.Body, &Assign{Name: v.name, Op: "=", X: x}, g.loopBody(append(inner, v), addLoss && g.pct(50)))
		case n < 60 && addLoss:
			x, _ := g.exprLimited(nil, 2, Limit)
			st.Body = append(st.Body, &Assign{Name: "loss", Op: "+=", X: x})
		default:
			update(states[g.r.Intn(len(states))])
		}
	}
	for _, s := range states {
		if !updated[s] {
			update(s)
		}
	}
	if addLoss && g.pct(60) {
		x, _ := g.exprLimited(nil, 2, Limit)
		st.Body = append(st.Body, &Assign{Name: "loss", Op: "+=", X: x})
	}
	g.vals = g.vals[:savedVals] // values first bound in the body are local
	g.idx = g.idx[:len(g.idx)-1]
	g.loops--
	return st
}

// exprLimited is expr squashed under limit.
func (g *gen) exprLimited(shape []int, depth int, limit float64) (Expr, float64) {
	x, b := g.expr(shape, depth)
	if b > limit {
		return g.squash(x, limit), math.Min(limit, 1)
	}
	return x, b
}

// squash bounds x by a bounded function (scaled under limit).
func (g *gen) squash(x Expr, limit float64) Expr {
	f := []string{"tanh", "sin", "atan", "sigmoid", "erf", "norm_cdf", "cos"}[g.r.Intn(7)]
	c := &Call{F: f, Args: []Expr{x}}
	if limit < 1.6 {
		return &Bin{Op: "*", X: &Num{V: 0.5}, Y: c}
	}
	return c
}

// intElem is an element of a tensor of integer inputs, picked by a loop
// variable or a constant.
func (g *gen) intElem() Idx {
	n := 1 + g.r.Intn(4)
	sub := Idx{V: g.r.Intn(n)}
	if len(g.idx) > 0 && g.pct(60) {
		ix := g.idx[g.r.Intn(len(g.idx))]
		sub = Idx{Name: ix.name}
		if g.moves.Intn(100) < 30 { // ks[t - 1], ks[t + 1]
			sub.Off = -ix.from + g.moves.Intn(ix.from+2)
		}
		n = max(n, ix.limit+sub.Off)
	}
	sub.Of = g.intTensor(n)
	return sub
}

// intTensor returns a vector of n integer inputs, new or existing.
func (g *gen) intTensor(n int) string {
	for _, d := range g.f.Decls {
		if d.Int && len(d.Dims) == 1 && d.Dims[0].V == n && g.pct(60) {
			return d.Name
		}
	}
	name := g.fresh("ks")
	g.f.Decls = append(g.f.Decls, &Decl{Kind: "input", Name: name, Dims: []Dim{g.dim(n)}, Int: true})
	return name
}
