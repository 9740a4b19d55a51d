package randmodel

import (
	"math"
	"slices"
)

// layerPct is the chance, in percent, that an expression of rank 1 to 3
// is a layer.
const layerPct = 12

// layer is a call of a built-in layer whose value has the given shape:
// flatten or layer_norm for a vector, conv1d, attention or layer_norm for
// a matrix,
// conv2d, max_pool2d, avg_pool2d or layer_norm for a rank-3 tensor.
func (g *gen) layer(shape []int, d int) (Expr, float64) {
	switch n := g.r.Intn(100); {
	case n < 12:
		return g.slice(shape, d)
	case n < 20:
		return g.concat(shape, d)
	case n < 26:
		return g.reshape(shape, d)
	}
	switch len(shape) {
	case 1:
		if g.pct(30) {
			return g.layerNorm(shape, d)
		}
		return g.flatten(shape[0], d)
	case 2:
		switch n := g.r.Intn(100); {
		case n < 30:
			return g.layerNorm(shape, d)
		case n < 60:
			return g.attention(shape, d)
		}
		return g.conv(shape, d)
	case 3:
		switch n := g.r.Intn(100); {
		case n < 15:
			return g.layerNorm(shape, d)
		case n < 40:
			return g.pool("max_pool2d", shape, d)
		case n < 60:
			return g.pool("avg_pool2d", shape, d)
		}
		return g.conv(shape, d)
	}
	return g.leaf(shape)
}

// slice is x[...] with at least one slice lo:hi, of the given shape: each
// of its axes a slice (or, after the indices, left whole) of an axis of x,
// with up to one axis of x before, between or after them picked by a
// constant index.
func (g *gen) slice(shape []int, d int) (Expr, float64) {
	drop := -1 // the position among x's axes of the one indexed
	if len(shape) < 3 && g.pct(50) {
		// Before the first slice half the time (x[2, 1:3], a row's part):
		// the form a model writes most.
		drop = g.r.Intn(2 * (len(shape) + 1))
		if drop > len(shape) {
			drop = 0
		}
	}
	var xs []int
	var idx []Idx
	moving := false
	for k := 0; k <= len(shape); k++ {
		if k == drop {
			n := 1 + g.r.Intn(3)
			xs = append(xs, n)
			idx = append(idx, Idx{V: g.r.Intn(n)})
		}
		if k == len(shape) {
			break
		}
		lo, extra := g.r.Intn(3), g.r.Intn(3)
		if g.pct(30) {
			lo, extra = 0, 0
		}
		n := lo + shape[k] + extra
		ix := Idx{Slice: true, Lo: lo, Hi: lo + shape[k]}
		if lo == 0 && g.pct(50) {
			ix.Lo = -1
		}
		if extra == 0 && g.pct(50) {
			ix.Hi = -1
		}
		if len(g.idx) > 0 && drop < 0 && !moving && g.moves.Intn(100) < 70 {
			// t+c:t+c+len, over every step of loop variable t.
			t := g.idx[g.moves.Intn(len(g.idx))]
			c := -t.from + g.moves.Intn(t.from+2)
			ix = Idx{Slice: true, Name: t.name, Lo: c, Hi: c + shape[k]}
			n = t.limit - 1 + c + shape[k] + extra
			moving = true
		}
		xs = append(xs, n)
		idx = append(idx, ix)
	}
	// Trailing whole axes may be left out, but one slice stays.
	for len(idx) > 1 && idx[len(idx)-1].Slice && idx[len(idx)-1].Name == "" && idx[len(idx)-1].Lo <= 0 && idx[len(idx)-1].Hi == -1 && idx[len(idx)-2].Slice && g.pct(50) {
		idx = idx[:len(idx)-1]
	}
	x, b := g.expr(xs, d)
	return &Index{X: x, Idx: idx}, b
}

// concat is concat(a, b, axis) of the given shape, split along a random
// axis (written from the end half the time).
func (g *gen) concat(shape []int, d int) (Expr, float64) {
	axis := g.r.Intn(len(shape))
	if shape[axis] < 2 {
		return g.reshape(shape, d)
	}
	na := 1 + g.r.Intn(shape[axis]-1)
	as, bs := slices.Clone(shape), slices.Clone(shape)
	as[axis], bs[axis] = na, shape[axis]-na
	a, ab := g.expr(as, d)
	b, bb := g.expr(bs, d)
	ax := Expr(&Num{V: float64(axis)})
	if g.pct(50) {
		ax = &Neg{X: &Num{V: float64(len(shape) - axis)}}
	}
	return &Call{F: "concat", Args: []Expr{a, b, ax}}, math.Max(ab, bb)
}

// reshape is reshape(x, dims...) of the given shape, x of as many
// elements in another shape of rank 0 to 3.
func (g *gen) reshape(shape []int, d int) (Expr, float64) {
	n := 1
	for _, s := range shape {
		n *= s
	}
	var divs []int
	for a := 1; a <= n; a++ {
		if n%a == 0 {
			divs = append(divs, a)
		}
	}
	xs := []int{n}
	switch a := divs[g.r.Intn(len(divs))]; {
	case n == 1 && g.pct(50):
		xs = nil
	case g.pct(40):
	case g.pct(50) || len(divs) < 3:
		xs = []int{a, n / a}
	default:
		b := divs[g.r.Intn(len(divs))]
		if (n/a)%b == 0 {
			xs = []int{a, b, n / a / b}
		} else {
			xs = []int{a, n / a}
		}
	}
	x, b := g.expr(xs, d)
	args := []Expr{x}
	for _, s := range shape {
		args = append(args, &Num{V: float64(s)})
	}
	return &Call{F: "reshape", Args: args}, b
}

// flatten is flatten(x) of a matrix or rank-3 tensor of n elements.
func (g *gen) flatten(n, d int) (Expr, float64) {
	var divs []int
	for a := 1; a <= n; a++ {
		if n%a == 0 {
			divs = append(divs, a)
		}
	}
	a := divs[g.r.Intn(len(divs))]
	xs := []int{a, n / a}
	if b := xs[1]; g.pct(60) {
		for c := 2; c <= b; c++ {
			if b%c == 0 {
				xs = []int{a, c, b / c}
				break
			}
		}
	}
	var x Expr
	var b float64
	if len(xs) == 3 && g.pct(80) { // the features of a convolution or pooling
		x, b = g.layer(xs, d)
	} else {
		x, b = g.expr(xs, d)
	}
	return &Call{F: "flatten", Args: []Expr{x}}, b
}

// layerNorm is layer_norm(x, gamma, beta) of x of the given shape.
func (g *gen) layerNorm(shape []int, d int) (Expr, float64) {
	x, _ := g.expr(shape, d)
	n := []int{shape[len(shape)-1]}
	gamma, gb := g.expr(n, d)
	beta, bb := g.expr(n, d)
	// |x̂| ≤ √n: the normalized row has mean 0 and variance below 1.
	return &Call{F: "layer_norm", Args: []Expr{x, gamma, beta}}, math.Sqrt(float64(n[0]))*gb + bb
}

// conv is conv1d or conv2d whose value has the given shape [F, O...]: a
// kernel of 1 to 3 along each axis, stride 1 or 2, zero padding 0 to 2,
// and an input long enough, sometimes with a remainder the stride skips.
func (g *gen) conv(shape []int, d int) (Expr, float64) {
	sd := len(shape) - 1
	c := min(g.size(), 3)
	stride := 1
	if g.pct(40) {
		stride = 2
	}
	pad := []int{0, 0, 1, 1, 2}[g.r.Intn(5)]
	k := make([]int, sd)
	in := []int{c}
	for i := range sd {
		k[i] = 1 + g.r.Intn(3)
		in = append(in, (shape[1+i]-1)*stride+k[i]+g.r.Intn(stride))
	}
	for i := range sd {
		if in[1+i]-2*pad < 1 {
			pad = 0
		}
	}
	for i := range sd {
		in[1+i] -= 2 * pad
	}
	x, xb := g.expr(in, d)
	w, wb := g.expr(append([]int{shape[0], c}, k...), min(d, 1))
	f := "conv1d"
	if sd == 2 {
		f = "conv2d"
	}
	terms := float64(c)
	for _, n := range k {
		terms *= float64(n)
	}
	return &Call{F: f, Args: []Expr{x, w, &Num{V: float64(stride)}, &Num{V: float64(pad)}}}, terms * xb * wb
}

// pool is max_pool2d or avg_pool2d whose value has the given shape, of an
// input whose height and width may leave a remainder.
func (g *gen) pool(f string, shape []int, d int) (Expr, float64) {
	k := 1 + g.r.Intn(3)
	in := []int{shape[0], shape[1]*k + g.r.Intn(k), shape[2]*k + g.r.Intn(k)}
	x, b := g.expr(in, d)
	return &Call{F: f, Args: []Expr{x, &Num{V: float64(k)}}}, b
}

// attention is attention(Q, K, V) of the value shape [T, e], half the
// time causal, with S keys of d features, S below, equal to or above T.
// Its rows are convex combinations of V's, so V's bound is its bound.
func (g *gen) attention(shape []int, d int) (Expr, float64) {
	s, f := g.size(), min(g.size(), 3)
	q, _ := g.expr([]int{shape[0], f}, d)
	k, _ := g.expr([]int{s, f}, d)
	v, vb := g.expr([]int{s, shape[1]}, d)
	args := []Expr{q, k, v}
	if g.pct(50) {
		args = append(args, &Num{V: 1})
	}
	return &Call{F: "attention", Args: args}, vb
}
