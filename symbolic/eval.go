package symbolic

import (
	"fmt"
	"math"
)

// Eval returns the values of roots (each flat row-major, len = Shape.Size())
// given the values of the graph's leaves: env maps each *Var (params,
// inputs, fn args) to its flat values; an integer input's value is given as
// a float64 in a 1-element slice.
//
// It is an interpreter of the IR, independent of code generation, for
// testing: it runs loops step by step (a reverse loop from To-1 down to
// From), and evaluates the body of a loop's derivative at each step with
// the forward loop's state at that step, as generated code reads it from
// its saves.
func Eval(roots []*Node, env map[*Var][]float64) (vals [][]float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			vals, err = nil, fmt.Errorf("symbolic.Eval: %v", r)
		}
	}()
	ev := &evaluator{env: env, deps: map[*Node]map[*Node]bool{}}
	top := newFrame(nil)
	for _, r := range roots {
		vals = append(vals, append([]float64(nil), ev.value(r, top)...))
	}
	return vals, nil
}

type evaluator struct {
	env map[*Var][]float64
	// deps[n] holds the index and state leaves n's value depends on, but
	// for those bound inside n (a loop binds its own).
	deps map[*Node]map[*Node]bool
}

// frame is one step of a loop: the leaves it binds (the loop's index and
// state, and for a reverse loop its forward loop's state at that step) and
// the values computed during it that depend on them. The top frame binds
// nothing and holds every value outside loops.
type frame struct {
	parent *frame
	bound  map[*Node][]float64
	vals   map[*Node][]float64
	runs   map[*Node]*loopRun
}

func newFrame(parent *frame) *frame {
	return &frame{parent: parent, bound: map[*Node][]float64{}, vals: map[*Node][]float64{}, runs: map[*Node]*loopRun{}}
}

// loopRun is a loop's result: its final state, and its state at the start
// of each step, indexed by step - From, which its derivative reads (with,
// for a derivative's derivative, the states its own forward loop had).
type loopRun struct {
	loop   *Loop
	fwd    *loopRun // the run of loop.Fwd
	final  [][]float64
	states [][][]float64
}

// depsOf computes deps[n].
func (ev *evaluator) depsOf(n *Node) map[*Node]bool {
	if d, ok := ev.deps[n]; ok {
		return d
	}
	d := map[*Node]bool{}
	add := func(m *Node) {
		for x := range ev.depsOf(m) {
			d[x] = true
		}
	}
	switch {
	case n.Op == opVar && (n.Var.Kind == Index || n.Var.Kind == State):
		d[n] = true
	case n.Op == opLoop:
		l := n.Loop
		for _, a := range n.Args {
			add(a)
		}
		for _, x := range l.Next {
			add(x)
		}
		delete(d, l.Index)
		for _, s := range l.State {
			delete(d, s)
		}
		for fl := l.Fwd; fl != nil; fl = fl.Fwd {
			delete(d, fl.Index)
			for _, s := range fl.State {
				delete(d, s)
			}
		}
		if l.Fwd != nil {
			add(l.Fwd.Node)
		}
	default:
		for _, a := range n.Args {
			add(a)
		}
	}
	ev.deps[n] = d
	return d
}

// home is the frame n's value belongs to: the innermost one binding a leaf
// it depends on, or the top frame.
func (ev *evaluator) home(n *Node, f *frame) *frame {
	d := ev.depsOf(n)
	for ; f.parent != nil; f = f.parent {
		if len(d) == 0 {
			continue
		}
		for x := range f.bound {
			if d[x] {
				return f
			}
		}
	}
	return f
}

// value is n's value in frame f.
func (ev *evaluator) value(n *Node, f *frame) []float64 {
	f = ev.home(n, f)
	if v, ok := f.vals[n]; ok {
		return v
	}
	v := ev.compute(n, f)
	if n.Op.Kind != LoopK && len(v) != n.Shape.Size() {
		panic(fmt.Sprintf("%v (node %d) has %d values, want %d for shape %v", n, n.ID, len(v), n.Shape.Size(), n.Shape))
	}
	f.vals[n] = v
	return v
}

func (ev *evaluator) compute(n *Node, f *frame) []float64 {
	switch n.Op.Kind {
	case Leaf:
		return ev.leaf(n, f)
	case Elementwise:
		return ev.elementwise(n, f)
	case View:
		return ev.view(n, f)
	case Reduce:
		return ev.reduce(n, f)
	case MatMul:
		if n.Op == opBMatMul {
			return evalBMatMul(n, ev.value(n.Args[0], f), ev.value(n.Args[1], f))
		}
		return matmulValues(n, ev.value(n.Args[0], f), ev.value(n.Args[1], f))
	case Outer:
		a, b := ev.value(n.Args[0], f), ev.value(n.Args[1], f)
		out := make([]float64, 0, len(a)*len(b))
		for _, x := range a {
			for _, y := range b {
				out = append(out, x*y)
			}
		}
		return out
	case Scatter:
		out := make([]float64, n.Shape.Size())
		x := ev.value(n.Args[0], f)
		off := ev.offset(n, n.Shape, f)
		copy(out[off*len(x):], x)
		return out
	case Partial:
		return ev.evalPartial(n, f)
	case ScatterAdd:
		switch n.Op {
		case opUnwindow:
			return ev.evalUnwindow(n, f)
		case opUngather:
			return ev.evalUngather(n, f)
		case opUnslide:
			return ev.evalUnslide(n, f)
		}
		return ev.evalPut(n, f)
	case Proj:
		return ev.run(n.Args[0], f).final[n.Ints[0]]
	case LoopK:
		ev.run(n, f)
		return []float64{}
	}
	panic(fmt.Sprintf("cannot evaluate op %s", n.Op.Name))
}

func (ev *evaluator) leaf(n *Node, f *frame) []float64 {
	if n.Op == opConst {
		return []float64{n.Val}
	}
	if n.Var.Kind == Index || n.Var.Kind == State {
		for ; f != nil; f = f.parent {
			if v, ok := f.bound[n]; ok {
				return v
			}
		}
		panic(fmt.Sprintf("%s (node %d) is read outside its loop", n.Var.Name, n.ID))
	}
	v, ok := ev.env[n.Var]
	if !ok {
		panic(fmt.Sprintf("no value for %s", n.Var.Name))
	}
	return v
}

func (ev *evaluator) elementwise(n *Node, f *frame) []float64 {
	if n.Op.Eval == nil {
		panic(fmt.Sprintf("op %s has no Eval", n.Op.Name))
	}
	args := make([][]float64, len(n.Args))
	for i, a := range n.Args {
		args[i] = ev.value(a, f)
		if !a.IsScalar() && len(args[i]) != n.Shape.Size() {
			panic(fmt.Sprintf("%s of shapes that do not broadcast to %v", n.Op.Name, n.Shape))
		}
	}
	out := make([]float64, n.Shape.Size())
	x := make([]float64, len(args))
	for i := range out {
		for j, a := range args {
			if n.Args[j].IsScalar() {
				x[j] = a[0]
			} else {
				x[j] = a[i]
			}
		}
		out[i] = n.Op.Eval(x...)
	}
	return out
}

// offset is the position, in units of the indexed block, that n's Ints
// (with -1 read from n.Args[1:]) select in a tensor of shape s.
func (ev *evaluator) offset(n *Node, s Shape, f *frame) int {
	off, dyn := 0, 1
	for k, i := range n.Ints {
		if i < 0 {
			v := ev.value(n.Args[dyn], f)[0]
			dyn++
			i = int(v)
			if float64(i) != v {
				panic(fmt.Sprintf("index %v is not an integer", v))
			}
		}
		if i < 0 || i >= s[k] {
			panic(fmt.Sprintf("index %d is outside dimension %d of %v", i, k+1, s))
		}
		off = off*s[k] + i
	}
	return off
}

func (ev *evaluator) view(n *Node, f *frame) []float64 {
	x := ev.value(n.Args[0], f)
	switch n.Op {
	case opStopGrad:
		return x
	case opIndex:
		size := n.Shape.Size()
		off := ev.offset(n, n.Args[0].Shape, f)
		return x[off*size : (off+1)*size]
	case opTranspose:
		m, k := n.Args[0].Shape[0], n.Args[0].Shape[1]
		out := make([]float64, len(x))
		for i := range m {
			for j := range k {
				out[j*m+i] = x[i*k+j]
			}
		}
		return out
	case opExpand:
		return ev.evalExpand(n, x)
	case opTake:
		return ev.evalTake(n, f)
	case opWindow:
		return ev.evalWindow(n, x)
	case opShift:
		return []float64{x[0] + float64(n.Ints[0])}
	case opGather:
		return ev.evalGather(n, x, f)
	case opSlide:
		return ev.evalSlide(n, x, f)
	case opBroadcast:
		out := make([]float64, n.Shape.Size())
		for i := range out {
			out[i] = x[0]
		}
		return out
	}
	panic(fmt.Sprintf("cannot evaluate view %s", n.Op.Name))
}

func (ev *evaluator) reduce(n *Node, f *frame) []float64 {
	x := ev.value(n.Args[0], f)
	switch n.Op {
	case opSum:
		s := 0.0
		for _, v := range x {
			s += v
		}
		return []float64{s}
	case opMaxAll:
		m := math.Inf(-1)
		for _, v := range x {
			m = max(m, v)
		}
		return []float64{m}
	}
	panic(fmt.Sprintf("cannot evaluate reduction %s", n.Op.Name))
}

// matmulValues is a @ b for the shapes of n's arguments.
func matmulValues(n *Node, a, b []float64) []float64 {
	as, bs := n.Args[0].Shape, n.Args[1].Shape
	var m, k, c int // a is [m, k] and b is [k, c], vectors being a row or a column
	switch {
	case len(as) == 2 && len(bs) == 1:
		m, k, c = as[0], as[1], 1
	case len(as) == 1 && len(bs) == 2:
		m, k, c = 1, as[0], bs[1]
	case len(as) == 2 && len(bs) == 2:
		m, k, c = as[0], as[1], bs[1]
	case len(as) == 1 && len(bs) == 1:
		m, k, c = 1, as[0], 1
	default:
		panic(fmt.Sprintf("matmul of %v and %v", as, bs))
	}
	if len(a) != m*k || len(b) != k*c {
		panic(fmt.Sprintf("matmul of %v and %v: %d and %d values", as, bs, len(a), len(b)))
	}
	out := make([]float64, m*c)
	for i := range m {
		for j := range c {
			s := 0.0
			for p := range k {
				s += a[i*k+p] * b[p*c+j]
			}
			out[i*c+j] = s
		}
	}
	return out
}

// run runs the loop of loop node n, once per frame it belongs to.
func (ev *evaluator) run(n *Node, f *frame) *loopRun {
	f = ev.home(n, f)
	if r, ok := f.runs[n]; ok {
		return r
	}
	l := n.Loop
	if l == nil {
		panic(fmt.Sprintf("node %d is not a loop", n.ID))
	}
	k := len(l.State)
	state := make([][]float64, k)
	for i := range k {
		state[i] = ev.value(n.Args[i], f)
	}
	var fwd *loopRun
	if l.Fwd != nil {
		fwd = ev.run(l.Fwd.Node, f)
		if len(fwd.states) != l.Len() {
			panic(fmt.Sprintf("loop %d runs %d steps, its forward loop %d", l.ID, l.Len(), len(fwd.states)))
		}
	}
	r := &loopRun{loop: l, fwd: fwd, states: make([][][]float64, l.Len())}
	for s := range l.Len() {
		t := l.From + s
		if l.Reverse {
			t = l.To - 1 - s
		}
		r.states[t-l.From] = state
		step := newFrame(f)
		step.bound[l.Index] = []float64{float64(t)}
		for i, st := range l.State {
			step.bound[st] = state[i]
		}
		for fr := fwd; fr != nil; fr = fr.fwd { // a derivative of a derivative reads both
			step.bound[fr.loop.Index] = []float64{float64(t)}
			for i, st := range fr.loop.State {
				step.bound[st] = fr.states[t-l.From][i]
			}
		}
		next := make([][]float64, k)
		for i, x := range l.Next {
			next[i] = ev.value(x, step)
		}
		state = next
	}
	r.final = state
	f.runs[n] = r
	return r
}
