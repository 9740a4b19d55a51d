package symbolic

import (
	"math"
	"testing"
)

// eval computes a scalar graph directly from the op table's Eval functions,
// independently of code generation.
func eval(t *testing.T, n *Node, env map[*Var]float64) float64 {
	t.Helper()
	memo := map[*Node]float64{}
	var rec func(n *Node) float64
	rec = func(n *Node) float64 {
		if v, ok := memo[n]; ok {
			return v
		}
		var v float64
		switch {
		case n.Op == opConst:
			v = n.Val
		case n.Op == opVar:
			v = env[n.Var]
		case n.Op == opAddN:
			for _, a := range n.Args {
				v += rec(a)
			}
		case n.Op.Eval != nil && n.IsScalar():
			args := make([]float64, len(n.Args))
			for i, a := range n.Args {
				args[i] = rec(a)
			}
			v = n.Op.Eval(args...)
		default:
			t.Fatalf("eval: op %s", n.Op.Name)
		}
		memo[n] = v
		return v
	}
	return rec(n)
}

func scalarVars(g *Graph, names ...string) ([]*Var, []*Node) {
	var vs []*Var
	var ns []*Node
	for _, name := range names {
		v := &Var{Name: name, Kind: Arg}
		vs, ns = append(vs, v), append(ns, g.VarNode(v))
	}
	return vs, ns
}

// The worked example of the notes: f = (x+y)·z at (−2, 5, −4).
func TestWorkedExample(t *testing.T) {
	g := NewGraph()
	vs, x := scalarVars(g, "x", "y", "z")
	f := g.Mul(g.Add(x[0], x[1]), x[2])
	adj := Differentiate(g, f, g.Const(1), x)
	env := map[*Var]float64{vs[0]: -2, vs[1]: 5, vs[2]: -4}
	if v := eval(t, f, env); v != -12 {
		t.Errorf("f = %v, want -12", v)
	}
	for i, want := range []float64{-4, -4, 3} {
		if got := eval(t, adj[i], env); got != want {
			t.Errorf("∂f/∂%s = %v, want %v", vs[i].Name, got, want)
		}
	}
	// ∂f/∂x is z itself and ∂f/∂z is the shared node x+y: no new arithmetic.
	if adj[0] != x[2] || adj[2] != f.Args[0] {
		t.Errorf("derivative not simplified/shared: %v, %v", adj[0], adj[2])
	}
}

// sin(sin(...sin(x))) 200 deep: the derivative is the product of the cosines,
// and the graph grows by a constant number of nodes per level.
func TestNestedSinIsLinear(t *testing.T) {
	for _, depth := range []int{100, 200} {
		g := NewGraph()
		vs, x := scalarVars(g, "x")
		f := x[0]
		for range depth {
			f = g.Unary(opSin, f)
		}
		forward := len(g.Nodes)
		d := Differentiate(g, f, g.Const(1), x)[0]
		if total := len(g.Nodes); total > 4*forward {
			t.Errorf("depth %d: %d nodes after differentiation, %d before: not linear", depth, total, forward)
		}
		x0 := 0.7
		want, v := 1.0, x0
		for range depth {
			want *= math.Cos(v)
			v = math.Sin(v)
		}
		if got := eval(t, d, map[*Var]float64{vs[0]: x0}); math.Abs(got-want) > 1e-12*math.Abs(want) {
			t.Errorf("depth %d: derivative %v, want %v", depth, got, want)
		}
	}
}

// x1·x2·…·x50: ∂/∂xi is the product of the others, from O(n) nodes.
func TestProductIsLinear(t *testing.T) {
	const n = 50
	g := NewGraph()
	names := make([]string, n)
	for i := range names {
		names[i] = string(rune('a'+i%26)) + string(rune('0'+i/26))
	}
	vs, x := scalarVars(g, names...)
	f := x[0]
	for _, xi := range x[1:] {
		f = g.Mul(f, xi)
	}
	forward := len(g.Nodes)
	adj := Differentiate(g, f, g.Const(1), x)
	if total := len(g.Nodes); total > 4*forward {
		t.Errorf("%d nodes after differentiation, %d before", total, forward)
	}
	env := map[*Var]float64{}
	prod := 1.0
	for i, v := range vs {
		env[v] = 1 + float64(i)/n
		prod *= env[v]
	}
	for i, a := range adj {
		want := prod / env[vs[i]]
		if got := eval(t, a, env); math.Abs(got-want) > 1e-12*want {
			t.Errorf("∂f/∂%s = %v, want %v", vs[i].Name, got, want)
		}
	}
}

func TestSimplifications(t *testing.T) {
	g := NewGraph()
	_, x := scalarVars(g, "x", "y")
	one, zero := g.Const(1), g.Const(0)
	for _, c := range []struct {
		name string
		got  *Node
		want *Node
	}{
		{"x*1", g.Mul(x[0], one), x[0]},
		{"1*x", g.Mul(one, x[0]), x[0]},
		{"x+(-0)", g.Add(x[0], g.Const(math.Copysign(0, -1))), x[0]},
		{"x-0", g.Sub(x[0], zero), x[0]},
		{"x/1", g.Div(x[0], one), x[0]},
		{"-(-x)", g.Neg(g.Neg(x[0])), x[0]},
		{"2*3", g.Mul(g.Const(2), g.Const(3)), g.Const(6)},
		{"x+(-y)", g.Add(x[0], g.Neg(x[1])), g.Sub(x[0], x[1])},
		{"hash-consing", g.Unary(opSin, x[0]), g.Unary(opSin, x[0])},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	// 0·x is not 0 when x is NaN or ±Inf, so it must stay.
	if n := g.Mul(zero, x[0]); n.Op != opMul {
		t.Errorf("0*x was simplified to %v", n)
	}
	// x + 0 is not x when x is -0 (-0 + 0 = +0), so it must stay; and
	// 0 - x is not -x (0 - 0 = +0, -0 = -0).
	if n := g.Add(x[0], zero); n.Op != opAdd {
		t.Errorf("x+0 was simplified to %v", n)
	}
	if n := g.Sub(zero, x[0]); n.Op != opSub {
		t.Errorf("0-x was simplified to %v", n)
	}
	// Shapes are kept: x_vec + (-0) is x_vec, but 0_scalar + ... broadcast is not dropped.
	v := g.VarNode(&Var{Name: "v", Shape: Shape{3}})
	if n := g.Add(v, g.Const(math.Copysign(0, -1))); n != v {
		t.Errorf("v+(-0) = %v", n)
	}
	if n := g.Add(g.Const(2), v); !n.Shape.Equal(Shape{3}) {
		t.Errorf("2+v has shape %v", n.Shape)
	}
}

// The derivative is IR in the same graph, so it can be differentiated
// again: d²/dx² x³ = 6x and d²/dx² sin x = -sin x.
func TestSecondDerivative(t *testing.T) {
	g := NewGraph()
	vs, x := scalarVars(g, "x")
	cube := g.Binary(opPow, x[0], g.Const(3))
	sin := g.Unary(opSin, x[0])
	for _, c := range []struct {
		f    *Node
		want func(float64) float64
	}{
		{cube, func(v float64) float64 { return 6 * v }},
		{sin, func(v float64) float64 { return -math.Sin(v) }},
	} {
		d1 := Differentiate(g, c.f, g.Const(1), x)[0]
		d2 := Differentiate(g, d1, g.Const(1), x)[0]
		for _, v := range []float64{-1.5, 0.3, 2} {
			if got := eval(t, d2, map[*Var]float64{vs[0]: v}); math.Abs(got-c.want(v)) > 1e-12 {
				t.Errorf("second derivative at %v: %v, want %v", v, got, c.want(v))
			}
		}
	}
}

func TestNearest(t *testing.T) {
	names := []string{"W", "loss", "sigmoid", "softmax", "h", "logits"}
	for name, want := range map[string]string{
		"sigmod": "sigmoid", "los": "loss", "hh": "h", "logit": "logits",
		"y": "", "nope": "", "softmix": "softmax",
	} {
		if got := nearest(name, names); got != want {
			t.Errorf("nearest(%q) = %q, want %q", name, got, want)
		}
	}
}
