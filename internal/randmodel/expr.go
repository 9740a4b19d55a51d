package randmodel

import (
	"math"
	"slices"
)

// expr returns an expression of the given shape and a bound on its
// magnitude, of nesting up to depth.
func (g *gen) expr(shape []int, depth int) (Expr, float64) {
	x, b := g.expr1(shape, depth)
	if b > Limit {
		return g.squash(x, Limit), 1.6
	}
	return x, b
}

func (g *gen) expr1(shape []int, depth int) (Expr, float64) {
	if depth <= 0 || g.pct(15) {
		return g.leaf(shape)
	}
	d := depth - 1
	rank := len(shape)
	if rank >= 1 && rank <= 3 && g.layers.Intn(100) < layerPct {
		return g.layer(shape, d)
	}
	if rank >= 1 && rank <= 3 && g.inFn == nil && g.moves.Intn(100) < 1 {
		return g.gather(shape, d)
	}
	if rank == 0 && len(g.fns) > 0 && g.pct(12) {
		return g.call(d)
	}
	switch n := g.r.Intn(100); {
	case n < 22:
		return g.unary(shape, d)
	case n < 45:
		return g.binary(shape, d)
	case n < 52:
		return g.minmaxPow(shape, d)
	case n < 55:
		x, b := g.expr(shape, d)
		return &Neg{X: x}, b
	case n < 57 && g.stopGrad:
		x, b := g.expr(shape, d)
		return &Call{F: "stop_gradient", Args: []Expr{x}}, b
	case n < 61:
		x, b := g.expr(shape, d)
		slope, sb := Expr(&Num{V: []float64{0.1, 0.01, 0.2, 1.5}[g.r.Intn(4)]}), 1.5
		if g.pct(30) {
			s, _ := g.expr(nil, d)
			slope, sb = g.squash(s, 1), 0.8
		}
		return &Call{F: "leaky_relu", Args: []Expr{x, slope}}, b * math.Max(1, sb)
	case n < 70 && rank < 3:
		return g.matmul(shape, d)
	case n < 77 && rank < 3:
		return g.indexExpr(shape, d)
	case n < 80:
		return g.axisExpr(shape, d)
	case n < 90:
		switch rank {
		case 0:
			return g.reduction(d)
		case 1:
			x, b := g.expr(shape, d)
			if g.pct(50) {
				return &Call{F: "softmax", Args: []Expr{x}}, 1
			}
			return &Call{F: "log_softmax", Args: []Expr{x}}, 2*b + math.Log(float64(shape[0]))
		case 2:
			x, b := g.expr([]int{shape[1], shape[0]}, d)
			return &Call{F: "transpose", Args: []Expr{x}}, b
		}
	}
	return g.leaf(shape)
}

// leaf is a name, an indexed name, a new declaration or a constant.
func (g *gen) leaf(shape []int) (Expr, float64) {
	var same []*value
	for _, v := range g.vals {
		if slices.Equal(v.shape, shape) {
			same = append(same, v)
		}
	}
	switch n := g.r.Intn(100); {
	case n < 45 && len(same) > 0:
		v := same[g.r.Intn(len(same))]
		return &Name{N: v.name}, v.bound
	case n < 70 && len(shape) < 3:
		if x, ok := g.indexedLeaf(shape); ok {
			return x, 1
		}
	case n < 80:
		return g.constant(shape)
	}
	if g.inFn != nil && len(g.inFn.Args) >= 5 {
		if len(same) > 0 {
			return &Name{N: same[0].name}, same[0].bound
		}
		return g.constant(shape)
	}
	kind := "param"
	if g.pct(40) {
		kind = "input"
	}
	v := g.newDecl(kind, shape)
	return &Name{N: v.name}, 1
}

func (g *gen) constant(shape []int) (Expr, float64) {
	c := []float64{0.5, 1, 2, 0.25, 1.5, 3, 0.1, 1e-3}[g.r.Intn(8)]
	var x Expr = &Num{V: c}
	if g.pct(25) {
		x = &Neg{X: x}
	}
	if len(shape) == 0 {
		return x, c
	}
	if g.pct(20) {
		return filled("zeros", g.dims(shape)), 0
	}
	ones := filled("ones", g.dims(shape))
	if c == 1 && g.pct(50) {
		return ones, 1
	}
	return &Bin{Op: "*", X: x, Y: ones}, c
}

// indexedLeaf is X[i] or X[i, j] of a param, input or argument of higher
// rank, by constants, loop variables and integer inputs.
func (g *gen) indexedLeaf(shape []int) (Expr, bool) {
	extra := 1
	if len(shape) == 0 && g.pct(40) {
		extra = 2
	}
	lead := make([]int, extra)
	idx := make([]Idx, extra)
	for i := range lead {
		idx[i], lead[i] = g.index()
	}
	full := append(lead, shape...)
	var cands []*value
	for _, v := range g.vals {
		if v.kind != "value" && slices.Equal(v.shape, full) {
			cands = append(cands, v)
		}
	}
	var v *value
	switch {
	case len(cands) > 0 && g.pct(60):
		v = cands[g.r.Intn(len(cands))]
	case g.inFn != nil && len(g.inFn.Args) >= 5:
		return nil, false
	default:
		kind := "param"
		if g.pct(50) {
			kind = "input"
		}
		v = g.newDecl(kind, full)
	}
	return &Index{X: &Name{N: v.name}, Idx: idx}, true
}

// index picks an index and a dimension it can index: a loop variable, an
// integer input or a constant.
func (g *gen) index() (Idx, int) {
	n := g.r.Intn(100)
	if n < 45 && len(g.idx) > 0 {
		ix := g.idx[g.r.Intn(len(g.idx))]
		off := 0
		if g.moves.Intn(100) < 35 { // t-1 (when t starts at 1), t+1, t+2
			off = -ix.from + g.moves.Intn(ix.from+3)
		}
		return Idx{Name: ix.name, Off: off}, ix.limit + off + g.r.Intn(2)
	}
	if n < 58 && g.inFn == nil {
		return Idx{Name: g.intInput()}, g.size()
	}
	if n < 68 && g.inFn == nil {
		return g.intElem(), g.size()
	}
	d := g.size()
	return Idx{V: g.r.Intn(d)}, d
}

// indexExpr is (X)[i] for an expression X of higher rank.
func (g *gen) indexExpr(shape []int, d int) (Expr, float64) {
	ix, n := g.index()
	x, b := g.expr(append([]int{n}, shape...), d)
	return &Index{X: x, Idx: []Idx{ix}}, b
}

// positive is an expression bounded away from 0, and its bounds.
func (g *gen) positive(shape []int, d int) (Expr, float64, float64) {
	x, b := g.expr(shape, d)
	c := []float64{0.5, 1, 1.5, 2}[g.r.Intn(4)]
	switch g.r.Intn(6) {
	case 0:
		return &Bin{Op: "+", X: &Bin{Op: "*", X: x, Y: x}, Y: &Num{V: c}}, c, b*b + c
	case 1:
		return &Bin{Op: "+", X: &Call{F: "softplus", Args: []Expr{x}}, Y: &Num{V: c}}, c, b + 0.7 + c
	case 2:
		return &Bin{Op: "+", X: &Num{V: c}, Y: &Call{F: "sigmoid", Args: []Expr{x}}}, c, 1 + c
	case 3:
		if b > 1.5 {
			x, b = g.squash(x, 1.5), 1.6
		}
		return &Call{F: "exp", Args: []Expr{x}}, math.Exp(-b), math.Exp(b)
	case 4:
		return &Bin{Op: "+", X: &Num{V: c}, Y: &Call{F: "abs", Args: []Expr{x}}}, c, b + c
	}
	return &Bin{Op: "^", X: &Bin{Op: "+", X: &Bin{Op: "^", X: x, Y: &Num{V: 2}}, Y: &Num{V: c}}, Y: &Num{V: 0.5}}, math.Sqrt(c), math.Sqrt(b*b + c)
}

func (g *gen) unary(shape []int, d int) (Expr, float64) {
	call := func(f string, x Expr) Expr { return &Call{F: f, Args: []Expr{x}} }
	n := g.r.Intn(22)
	switch n {
	case 17, 18, 19, 20, 21:
		return g.unary2(shape, d)
	case 0:
		x, b := g.expr(shape, d)
		if b > 1.5 {
			x, b = g.squash(x, 1.5), 1.6
		}
		return call("exp", x), math.Exp(b)
	case 1:
		x, lo, hi := g.positive(shape, d)
		return call("log", x), math.Max(math.Abs(math.Log(lo)), math.Log(hi))
	case 2:
		x, _, hi := g.positive(shape, d)
		return call("log1p", x), math.Log1p(hi)
	case 3:
		x, _, hi := g.positive(shape, d)
		return call("sqrt", x), math.Sqrt(hi)
	case 4:
		x, b := g.expr(shape, d)
		if b > 1 {
			x = call("tanh", x)
		}
		return call("tan", x), math.Tan(1)
	case 5, 6:
		x, b := g.expr(shape, d)
		return call([]string{"abs", "relu"}[n-5], x), b
	case 7:
		x, b := g.expr(shape, d)
		return call("softplus", x), b + 0.7
	}
	x, _ := g.expr(shape, d)
	f := []string{"sin", "cos", "tanh", "atan", "erf", "norm_cdf", "sigmoid", "sin", "tanh"}[g.r.Intn(9)]
	return call(f, x), 1.6
}

// unary2 is one of the built-ins added in the second round (cosh to
// clip), with its argument kept in its domain and a bound on its value.
func (g *gen) unary2(shape []int, d int) (Expr, float64) {
	call := func(f string, x ...Expr) Expr { return &Call{F: f, Args: x} }
	small := func() (Expr, float64) { // |x| <= 1.6
		x, b := g.expr(shape, d)
		if b > 1.5 {
			return g.squash(x, 1.5), 1.6
		}
		return x, b
	}
	switch n := g.r.Intn(11); n {
	case 0, 1:
		x, b := small()
		return call([]string{"cosh", "sinh"}[n], x), math.Cosh(b)
	case 2:
		x, _ := g.expr(shape, d)
		return call([]string{"asin", "acos"}[g.r.Intn(2)], g.squash(x, 1)), math.Pi
	case 3:
		x, b := small()
		return call("expm1", x), math.Exp(b)
	case 4:
		x, lo, hi := g.positive(shape, d)
		return call([]string{"log2", "log10"}[g.r.Intn(2)], x), math.Max(math.Abs(math.Log2(lo)), math.Log2(hi))
	case 5:
		x, lo, _ := g.positive(shape, d)
		return call("rsqrt", x), 1 / math.Sqrt(lo)
	case 6:
		x, b := small()
		return call("square", x), b * b
	case 7:
		x, b := g.expr(shape, d)
		return call([]string{"gelu", "silu", "softsign"}[g.r.Intn(3)], x), b
	case 8:
		x, b := g.expr(shape, d)
		alpha, ab := Expr(&Num{V: []float64{1, 0.5, 1.5}[g.r.Intn(3)]}), 1.5
		if g.pct(30) {
			a, _ := g.expr(nil, d)
			alpha, ab = g.squash(a, 1), 0.8
		}
		return call("elu", x, alpha), math.Max(b, ab)
	case 9:
		a, ab, b, bb := g.operands(shape, d)
		delta, _, hi := g.positive(nil, d)
		return call("huber", a, b, delta), (ab + bb) * hi
	}
	x, b := g.expr(shape, d)
	lo, hi := Expr(&Neg{X: &Num{V: 1}}), Expr(&Num{V: 0.5})
	if g.pct(40) {
		l, _ := g.expr(nil, d)
		h, _ := g.expr(shape, d)
		lo, hi = g.squash(l, 1), g.squash(h, 1)
	}
	return call("clip", x, lo, hi), math.Min(b, 1)
}

// operands returns two expressions for an elementwise op of shape, one of
// them sometimes a scalar that is broadcast.
func (g *gen) operands(shape []int, d int) (Expr, float64, Expr, float64) {
	sa, sb := shape, shape
	if len(shape) > 1 && g.pct(25) { // one is repeated along the other's leading axes
		tail := shape[1+g.r.Intn(len(shape)-1):]
		if g.pct(50) {
			sa = tail
		} else {
			sb = tail
		}
	} else if len(shape) > 0 && g.pct(30) {
		if g.pct(50) {
			sa = nil
		} else {
			sb = nil
		}
	}
	a, ab := g.expr(sa, d)
	b, bb := g.expr(sb, d)
	return a, ab, b, bb
}

func (g *gen) binary(shape []int, d int) (Expr, float64) {
	switch n := g.r.Intn(100); {
	case n < 30:
		a, ab, b, bb := g.operands(shape, d)
		return &Bin{Op: "+", X: a, Y: b}, ab + bb
	case n < 50:
		a, ab, b, bb := g.operands(shape, d)
		return &Bin{Op: "-", X: a, Y: b}, ab + bb
	case n < 75:
		a, ab, b, bb := g.operands(shape, d)
		return &Bin{Op: "*", X: a, Y: b}, ab * bb
	case n < 90:
		sa, sb := shape, shape
		if len(shape) > 0 && g.pct(30) {
			sb = nil
		}
		a, ab := g.expr(sa, d)
		den, lo, _ := g.positive(sb, d)
		if g.pct(30) {
			den = &Neg{X: den}
		}
		return &Bin{Op: "/", X: a, Y: den}, ab / lo
	}
	a, ab := g.expr(shape, d)
	c := []float64{2, 0.5, 3}[g.r.Intn(3)]
	return &Bin{Op: "/", X: a, Y: &Num{V: c}}, ab / c
}

// minmaxPow is min, max, pow or ^.
func (g *gen) minmaxPow(shape []int, d int) (Expr, float64) {
	switch g.r.Intn(5) {
	case 0, 1:
		a, ab, b, bb := g.operands(shape, d)
		return &Call{F: []string{"min", "max"}[g.r.Intn(2)], Args: []Expr{a, b}}, math.Max(ab, bb)
	case 2:
		// An integer power of anything.
		x, b := g.expr(shape, d)
		if b > 2 {
			x, b = g.squash(x, 2), 1.6
		}
		k := float64(2 + g.r.Intn(2))
		return &Bin{Op: "^", X: x, Y: &Num{V: k}}, math.Pow(b, k)
	case 3:
		// 2^x or 0.5^x.
		x, b := g.expr(shape, d)
		if b > 2 {
			x, b = g.squash(x, 2), 1.6
		}
		if g.pct(50) {
			return &Bin{Op: "^", X: &Num{V: 2}, Y: x}, math.Pow(2, b)
		}
		return &Bin{Op: "^", X: &Num{V: 2}, Y: &Neg{X: x}}, math.Pow(2, b)
	}
	// A positive base to a bounded power.
	sa, sb := shape, shape
	if len(shape) > 0 && g.pct(40) {
		sb = nil
	}
	base, lo, hi := g.positive(sa, d)
	var e Expr
	eb := 0.0
	if g.pct(50) {
		c := []float64{0.5, 1.5, 2, 3}[g.r.Intn(4)]
		e, eb = &Num{V: c}, c
		if g.pct(20) {
			e = &Neg{X: e}
		}
	} else {
		x, _ := g.expr(sb, d)
		e, eb = g.squash(x, 1), 1
	}
	bound := math.Max(math.Pow(hi, eb), math.Pow(lo, -eb))
	if g.pct(50) {
		return &Call{F: "pow", Args: []Expr{base, e}}, bound
	}
	return &Bin{Op: "^", X: base, Y: e}, bound
}

// matmul is a matrix product of the given result shape (rank 0 to 2).
func (g *gen) matmul(shape []int, d int) (Expr, float64) {
	k := g.size()
	var sa, sb []int
	switch len(shape) {
	case 0:
		sa, sb = []int{k}, []int{k}
	case 1:
		if g.pct(60) {
			sa, sb = []int{shape[0], k}, []int{k}
		} else {
			sa, sb = []int{k}, []int{k, shape[0]}
		}
	case 2:
		if g.rows.Intn(100) < rowsPct {
			return g.rowsProduct(shape)
		}
		sa, sb = []int{shape[0], k}, []int{k, shape[1]}
	}
	a, ab := g.expr(sa, d)
	b, bb := g.expr(sb, d)
	return &Bin{Op: "@", X: a, Y: b}, float64(k) * ab * bb
}

// reduction is a scalar from a tensor: sum, mean, dot, mse, logsumexp,
// cross_entropy, bce_with_logits.
func (g *gen) reduction(d int) (Expr, float64) {
	shape := g.shape(3)
	if len(shape) == 0 {
		shape = []int{g.size()}
	}
	size := 1.0
	for _, n := range shape {
		size *= float64(n)
	}
	switch g.r.Intn(10) {
	case 8:
		x, b := g.expr(shape, d)
		return &Call{F: "amax", Args: []Expr{x}}, b
	case 9:
		if g.inFn == nil {
			r, c := g.size(), g.size()
			x, b := g.expr([]int{r, c}, d)
			labels := g.intTensor(r)
			return &Call{F: "cross_entropy", Args: []Expr{x, &Name{N: labels}}}, float64(r) * (2*b + math.Log(float64(c)))
		}
		fallthrough
	case 0, 1:
		x, b := g.expr(shape, d)
		return &Call{F: "sum", Args: []Expr{x}}, size * b
	case 7:
		x, xb, t, tb := g.operands(shape, d)
		return &Call{F: "bce_with_logits", Args: []Expr{x, t}}, size * (xb*(1+tb) + math.Ln2)
	case 2:
		x, b := g.expr(shape, d)
		return &Call{F: "mean", Args: []Expr{x}}, b
	case 3:
		x, xb := g.expr(shape, d)
		y, yb := g.expr(shape, d)
		return &Call{F: "dot", Args: []Expr{x, y}}, size * xb * yb
	case 4:
		a, ab, b, bb := g.operands(shape, d)
		return &Call{F: "mse", Args: []Expr{a, b}}, (ab + bb) * (ab + bb)
	}
	v := []int{shape[0]}
	x, b := g.expr(v, d)
	if g.inFn == nil && g.pct(40) {
		return &Call{F: "cross_entropy", Args: []Expr{x, &Name{N: g.intInput()}}}, 2*b + math.Log(float64(v[0]))
	}
	return &Call{F: "logsumexp", Args: []Expr{x}}, b + math.Log(float64(v[0]))
}

// call calls one of the fns declared so far.
func (g *gen) call(d int) (Expr, float64) {
	fi := g.fns[g.r.Intn(len(g.fns))]
	var args []Expr
	for _, a := range fi.fn.Args {
		var shape []int
		for _, dm := range a.Dims {
			shape = append(shape, dm.V)
		}
		x, _ := g.exprLimited(shape, d, 2)
		args = append(args, x)
	}
	return &Call{F: fi.fn.Name, Args: args}, fi.bound
}

// axisExpr is a reduction along an axis of a tensor of one more axis than
// shape (sum, mean, amax, logsumexp), or a normalizer along an axis of a
// matrix or rank-3 tensor (softmax, log_softmax), the axis sometimes
// counted from the end and a last axis sometimes left to the default.
func (g *gen) axisExpr(shape []int, d int) (Expr, float64) {
	rank := len(shape)
	if rank >= 2 && g.pct(40) {
		a := g.r.Intn(rank)
		x, b := g.expr(shape, d)
		args := []Expr{x}
		if a < rank-1 || g.pct(50) {
			args = append(args, g.axisArg(a, rank))
		}
		if g.pct(50) {
			return &Call{F: "softmax", Args: args}, 1
		}
		return &Call{F: "log_softmax", Args: args}, 2*b + math.Log(float64(shape[a]))
	}
	if rank >= 3 {
		return g.leaf(shape)
	}
	a := g.r.Intn(rank + 1)
	m := g.size()
	xs := append(append(append([]int{}, shape[:a]...), m), shape[a:]...)
	x, b := g.expr(xs, d)
	args := []Expr{x, g.axisArg(a, rank+1)}
	switch g.r.Intn(4) {
	case 0:
		return &Call{F: "sum", Args: args}, float64(m) * b
	case 1:
		return &Call{F: "mean", Args: args}, b
	case 2:
		return &Call{F: "amax", Args: args}, b
	}
	if a == rank && g.pct(50) {
		args = args[:1] // logsumexp's default axis is the last
	}
	return &Call{F: "logsumexp", Args: args}, b + math.Log(float64(m))
}

// axisArg writes axis a of a tensor of the given rank, sometimes counted
// from the end (-1 is the last).
func (g *gen) axisArg(a, rank int) Expr {
	if g.pct(25) {
		return &Neg{X: &Num{V: float64(rank - a)}}
	}
	return &Num{V: float64(a)}
}

// gather is X[ks] of the given shape: the rows of X that a tensor of
// integer inputs ks picks, ks a vector of shape[0] integers or, for a
// result of rank 2 or 3, sometimes a matrix [shape[0], shape[1]].
func (g *gen) gather(shape []int, d int) (Expr, float64) {
	k := 1
	if len(shape) >= 2 && g.moves.Intn(2) == 0 {
		k = 2
	}
	rows := 1 + g.moves.Intn(5)
	x, b := g.expr(append([]int{rows}, shape[k:]...), d)
	var ks string
	if k == 1 {
		ks = g.intTensor(shape[0])
	} else {
		ks = g.fresh("ks")
		g.f.Decls = append(g.f.Decls, &Decl{Kind: "input", Name: ks, Dims: []Dim{g.dim(shape[0]), g.dim(shape[1])}, Int: true})
	}
	return &Index{X: x, Idx: []Idx{{Name: ks}}}, b
}
