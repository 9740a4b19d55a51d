package randmodel

import "math"

// layerPct is the chance, in percent, that an expression of rank 1 to 3
// is a layer.
const layerPct = 12

// layer is a call of a built-in layer whose value has the given shape:
// flatten or layer_norm for a vector, conv1d, attention or layer_norm for
// a matrix,
// conv2d, max_pool2d, avg_pool2d or layer_norm for a rank-3 tensor.
func (g *gen) layer(shape []int, d int) (Expr, float64) {
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
