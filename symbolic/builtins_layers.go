package symbolic

import (
	"strconv"
	"strings"

	"github.com/backpropgen/backpropgen/parser"
)

// The built-in layers' rows are in builtinList; these are their
// lowerings, which check shapes with messages at the argument at fault
// and build the compositions of layers.go.

// intArgs sets c.ints from the call's last len(names) arguments, integer
// constants.
func (c *call) intArgs(names []string) bool {
	first := len(c.expr.Args) - len(names)
	for i, name := range names {
		e := c.expr.Args[first+i]
		what := c.expr.Fun.Name + "'s " + name
		if id := c.intVarIn(e); id != nil {
			c.error(e.Pos(), "%s is an integer constant, not %s", what, id.Var.Name)
			return false
		}
		if id, ok := e.(*parser.Ident); ok && c.names[id.Name] != nil {
			c.error(e.Pos(), "%s is an integer constant, not %s", what, id.Name)
			return false
		}
		v, ok := c.l.constIntQuiet(c.scope, e)
		if !ok {
			return false
		}
		c.ints = append(c.ints, v)
	}
	return true
}

// spatial names the axes of a layer's input of sd spatial axes.
func spatial(sd int) string {
	if sd == 1 {
		return "length"
	}
	return "height, width"
}

// dims prints sizes as 3×3.
func dims(s []int) string {
	var b strings.Builder
	for i, d := range s {
		if i > 0 {
			b.WriteString("×")
		}
		b.WriteString(strconv.Itoa(d))
	}
	return b.String()
}

// conv lowers conv1d (sd = 1) and conv2d (sd = 2).
func (c *call) conv(sd int) *Node {
	name := c.expr.Fun.Name
	x, w := c.args[0], c.args[1]
	stride, pad := c.ints[0], c.ints[1]
	kernel := "K"
	if sd == 2 {
		kernel = "KH, KW"
	}
	switch {
	case len(x.Shape) != 1+sd:
		return c.errorf(0, "%s needs an input of shape [channels, %s], got %v", name, spatial(sd), x.Shape)
	case len(w.Shape) != 2+sd:
		return c.errorf(1, "%s needs kernels of shape [filters, channels, %s], got %v", name, kernel, w.Shape)
	case w.Shape[1] != x.Shape[0]:
		return c.errorf(1, "%s of an input of %d channels needs kernels [F, %d, %s], got %v", name, x.Shape[0], x.Shape[0], kernel, w.Shape)
	case stride < 1:
		return c.errorf(2, "the stride of %s must be positive, got %d", name, stride)
	case pad < 0:
		return c.errorf(3, "the padding of %s cannot be negative, got %d", name, pad)
	}
	for i := range sd {
		if ConvOut(x.Shape[1+i], w.Shape[2+i], stride, pad) == 0 {
			return c.errorf(1, "%s's kernel of %s does not fit in the input's %s padded by %d", name, dims(w.Shape[2:]), dims(x.Shape[1:]), pad)
		}
	}
	return c.g.Conv(x, w, stride, pad)
}

// pool lowers max_pool2d and avg_pool2d.
func (c *call) pool(max bool) *Node {
	name := c.expr.Fun.Name
	x, k := c.args[0], c.ints[0]
	switch {
	case len(x.Shape) != 3:
		return c.errorf(0, "%s needs an input of shape [channels, height, width], got %v", name, x.Shape)
	case k < 1:
		return c.errorf(1, "the window of %s must be positive, got %d", name, k)
	case k > x.Shape[1] || k > x.Shape[2]:
		return c.errorf(1, "%s's window of %d×%d does not fit in the input's %s", name, k, k, dims(x.Shape[1:]))
	}
	return c.g.Pool(x, k, max)
}

// layerNorm lowers layer_norm(x, gamma, beta).
func (c *call) layerNorm() *Node {
	x := c.args[0]
	if len(x.Shape) == 0 {
		return c.errorf(0, "layer_norm normalizes along the last axis of a tensor, got a scalar")
	}
	d := x.Shape[len(x.Shape)-1]
	for i, what := range []string{"gamma", "beta"} {
		if s := c.args[1+i].Shape; !s.Equal(Shape{d}) {
			return c.errorf(1+i, "layer_norm of %v needs %s of shape [%d], the size of its last axis, got %v", x.Shape, what, d, s)
		}
	}
	return c.g.LayerNorm(x, c.args[1], c.args[2])
}

// flagArg sets c.ints to the value of the call's flag argument e, an
// integer constant 0 or 1, or to 0 without one (e nil).
func (c *call) flagArg(name string, e parser.Expr) bool {
	if e == nil {
		c.ints = append(c.ints, 0)
		return true
	}
	what := c.expr.Fun.Name + "'s " + name + " flag"
	if id := c.intVarIn(e); id != nil {
		c.error(e.Pos(), "%s is an integer constant, 0 or 1, not %s", what, id.Var.Name)
		return false
	}
	if id, ok := e.(*parser.Ident); ok && c.names[id.Name] != nil {
		c.error(e.Pos(), "%s is an integer constant, 0 or 1, not %s", what, id.Name)
		return false
	}
	v, ok := c.l.constIntQuiet(c.scope, e)
	if !ok {
		return false
	}
	if v != 0 && v != 1 {
		c.error(e.Pos(), "%s is 0 or 1, got %d", what, v)
		return false
	}
	c.ints = append(c.ints, v)
	return true
}

// attention lowers attention(Q, K, V[, causal]).
func (c *call) attention() *Node {
	q, k, v := c.args[0], c.args[1], c.args[2]
	switch {
	case len(q.Shape) != 2:
		return c.errorf(0, "attention needs queries Q of shape [T, d], a matrix, got %v", q.Shape)
	case len(k.Shape) != 2:
		return c.errorf(1, "attention needs keys K of shape [S, d], a matrix, got %v", k.Shape)
	case k.Shape[1] != q.Shape[1]:
		return c.errorf(1, "attention of queries %v needs keys of shape [S, %d], got %v", q.Shape, q.Shape[1], k.Shape)
	case len(v.Shape) != 2:
		return c.errorf(2, "attention needs values V of shape [S, e], a matrix, got %v", v.Shape)
	case v.Shape[0] != k.Shape[0]:
		return c.errorf(2, "attention of %d keys needs values of shape [%d, e], one row per key, got %v", k.Shape[0], k.Shape[0], v.Shape)
	}
	return c.g.Attention(q, k, v, c.ints[0] == 1)
}
