package symbolic

import (
	"fmt"

	"github.com/backpropgen/backpropgen/parser"
)

// builtin is one row of the table of functions a model can call. Most
// lower to one op; the rest are compositions of ops, and their derivatives
// follow from the ops' rules, so a new composite needs one row and nothing
// else.
type builtin struct {
	name  string
	sig   string // how -h shows a call, if not by its name alone
	nargs int    // -1: any number
	doc   string
	lower func(c *call) *Node
	// syntax, if set, lowers the call from its syntax, for built-ins
	// whose arguments are not all values (zeros' dimensions,
	// cross_entropy's label); lower is then unused.
	syntax func(s *scope, e *parser.Call) *Node
	// axis, if set, lets a call give an axis after its nargs arguments
	// (sum(x, 1)); without one, "all" reduces every axis and "last" works
	// along the last (call.axis).
	axis string
	// ints names the arguments, the last ones, that are integer
	// constants rather than values (conv2d's stride and padding); a call
	// has them in call.ints.
	ints []string
	// flag, if set, lets a call give one more argument after its nargs
	// ones, an integer constant 0 or 1 (attention's causal), which the
	// call has in call.ints (0 without it).
	flag string
}

// call is a built-in call being lowered: its syntax, its scope, and its
// arguments once lowered.
type call struct {
	*scope
	expr *parser.Call
	args []*Node
	// axis is the axis of the first argument a call of a built-in with an
	// axis works along, from 0, or -1 for all of them.
	axis int
	// ints are the values of the integer constant arguments (builtin.ints).
	ints []int
}

// errorf reports an error at argument i (or at the call for i < 0).
func (c *call) errorf(i int, format string, a ...any) *Node {
	pos := c.expr.P
	if i >= 0 && i < len(c.expr.Args) {
		pos = c.expr.Args[i].Pos()
	}
	c.error(pos, format, a...)
	return nil
}

// axisArg sets c.axis from the call's axis argument e (nil if it has
// none; then the default is all axes, -1, or the last). An axis is an
// integer constant, counted from the end if negative (-1 is the last).
func (c *call) axisArg(def string, e parser.Expr) bool {
	name, x := c.expr.Fun.Name, c.args[0]
	rank := len(x.Shape)
	if def == "last" && rank == 0 {
		c.errorf(0, "%s needs a vector, matrix or rank-3 tensor, got a scalar", name)
		return false
	}
	switch {
	case e == nil && def == "last":
		c.axis = rank - 1
		return true
	case e == nil:
		c.axis = -1
		return true
	}
	if id := c.intVarIn(e); id != nil {
		c.error(e.Pos(), "the axis of %s is an integer constant, not %s", name, id.Var.Name)
		return false
	}
	if id, ok := e.(*parser.Ident); ok && c.names[id.Name] != nil {
		c.error(e.Pos(), "the axis of %s is an integer constant, not %s", name, id.Name)
		return false
	}
	a, ok := c.l.constIntQuiet(c.scope, e)
	if !ok {
		return false
	}
	switch {
	case rank == 0:
		c.error(e.Pos(), "%s along axis %d needs a tensor, got a scalar", name, a)
		return false
	case a < -rank || a >= rank:
		c.error(e.Pos(), "axis %d is out of range for %s of shape %v: its axes are 0 to %d (or -%d to -1 from the end)", a, name, x.Shape, rank-1, rank)
		return false
	case a < 0:
		a += rank
	}
	c.axis = a
	return true
}

// sameShape checks that arguments 0 and 1 have one shape.
func (c *call) sameShape() bool {
	a, b := c.args[0].Shape, c.args[1].Shape
	if !a.Equal(b) {
		c.errorf(1, "%s needs arguments of one shape, got %v and %v", c.expr.Fun.Name, a, b)
		return false
	}
	return true
}

// elementwise2 checks broadcasting of arguments 0 and 1.
func (c *call) elementwise2() bool { return c.elementwise(0, 1) }

// elementwise broadcasts arguments i and j (BroadcastShapes): the one of
// lower rank is repeated along the other's leading axes.
func (c *call) elementwise(i, j int) bool {
	shape, why := BroadcastShapes(c.args[i].Shape, c.args[j].Shape)
	if why != "" {
		c.errorf(j, "%s needs arguments that broadcast, got %v and %v: %s", c.expr.Fun.Name, c.args[i].Shape, c.args[j].Shape, why)
		return false
	}
	c.args[i], c.args[j] = c.g.BroadcastTo(c.args[i], shape), c.g.BroadcastTo(c.args[j], shape)
	return true
}

// scalar checks that argument i, called what, is a scalar.
func (c *call) scalar(i int, what string) bool {
	if !c.args[i].IsScalar() {
		c.errorf(i, "%s needs a scalar %s, got %v", c.expr.Fun.Name, what, c.args[i].Shape)
		return false
	}
	return true
}

// The ops are named by code because the op table is filled in by init,
// after this table is built.
func unaryBuiltin(name string, op OpCode, doc string) *builtin {
	return &builtin{name: name, nargs: 1, doc: doc, lower: func(c *call) *Node { return c.g.Unary(opTable[op], c.args[0]) }}
}

func binaryBuiltin(name string, op OpCode, doc string) *builtin {
	return &builtin{name: name, nargs: 2, doc: doc, lower: func(c *call) *Node {
		if !c.elementwise2() {
			return nil
		}
		return c.g.Binary(opTable[op], c.args[0], c.args[1])
	}}
}

// builtinList is the table of built-in functions, in the order -h and
// docs/LANGUAGE.md list them (TestLanguageDocListsEveryBuiltin).
var builtinList = []*builtin{
	unaryBuiltin("exp", OpExp, "eˣ"),
	unaryBuiltin("log", OpLog, "natural logarithm"),
	unaryBuiltin("log1p", OpLog1p, "log(1 + x), accurate near 0"),
	unaryBuiltin("sqrt", OpSqrt, "square root"),
	unaryBuiltin("sin", OpSin, "sine"),
	unaryBuiltin("cos", OpCos, "cosine"),
	unaryBuiltin("tan", OpTan, "tangent"),
	unaryBuiltin("tanh", OpTanh, "hyperbolic tangent"),
	unaryBuiltin("atan", OpAtan, "arc tangent"),
	unaryBuiltin("erf", OpErf, "error function"),
	unaryBuiltin("norm_cdf", OpNormCDF, "standard normal distribution function Φ"),
	unaryBuiltin("abs", OpAbs, "absolute value; subgradient 0 at 0"),
	unaryBuiltin("relu", OpRelu, "max(x, 0); subgradient 0 at 0"),
	{name: "leaky_relu", nargs: 2, doc: "x for x > 0, else slope·x (slope a scalar); subgradient slope at 0",
		lower: func(c *call) *Node {
			x, slope := c.args[0], c.args[1]
			if !c.scalar(1, "slope") {
				return nil
			}
			// relu(x) + slope·min(x, 0): exact, and min's tie rule makes the
			// derivative at 0 the slope.
			g := c.g
			return g.Add(g.Unary(opRelu, x), g.Mul(slope, g.Binary(opMin, x, g.Const(0))))
		}},
	unaryBuiltin("sigmoid", OpSigmoid, "1/(1+e⁻ˣ), stable for any x"),
	unaryBuiltin("softplus", OpSoftplus, "log(1+eˣ), stable for any x"),
	unaryBuiltin("cosh", OpCosh, "hyperbolic cosine"),
	unaryBuiltin("sinh", OpSinh, "hyperbolic sine"),
	unaryBuiltin("asin", OpAsin, "arc sine"),
	unaryBuiltin("acos", OpAcos, "arc cosine"),
	unaryBuiltin("expm1", OpExpm1, "eˣ - 1, accurate near 0"),
	unaryBuiltin("log2", OpLog2, "base-2 logarithm"),
	unaryBuiltin("log10", OpLog10, "base-10 logarithm"),
	unaryBuiltin("square", OpSquare, "x·x"),
	unaryBuiltin("rsqrt", OpRsqrt, "1/√x"),
	unaryBuiltin("gelu", OpGelu, "x·Φ(x), the exact GELU"),
	unaryBuiltin("silu", OpSilu, "x·sigmoid(x), stable for any x"),
	unaryBuiltin("softsign", OpSoftsign, "x/(1+|x|)"),
	{name: "elu", sig: "elu(x, alpha)", nargs: 2, doc: "x for x > 0, else alpha·(eˣ - 1) (alpha a scalar); subgradient alpha at 0",
		lower: func(c *call) *Node {
			if !c.scalar(1, "alpha") {
				return nil
			}
			return c.g.Binary(opElu, c.args[0], c.args[1])
		}},
	{name: "clip", sig: "clip(x, lo, hi)", nargs: 3, doc: "min(max(x, lo), hi); gradient 1 to x inside [lo, hi], else to the bound", lower: func(c *call) *Node {
		if !c.elementwise(0, 1) || !c.elementwise(0, 2) || !c.elementwise(1, 2) {
			return nil
		}
		return c.g.Binary(opMin, c.g.Binary(opMax, c.args[0], c.args[1]), c.args[2])
	}},
	binaryBuiltin("min", OpMin, "elementwise minimum; a tie sends the gradient to the first argument"),
	binaryBuiltin("max", OpMax, "elementwise maximum; a tie sends the gradient to the first argument"),
	binaryBuiltin("pow", OpPow, "pow(x, y) = x^y"),
	{name: "sum", sig: "sum(x[, axis])", nargs: 1, axis: "all", doc: "sum of all elements, or along an axis", lower: func(c *call) *Node {
		if c.axis >= 0 {
			return c.g.SumAxis(c.args[0], c.axis)
		}
		return c.g.Sum(c.args[0])
	}},
	{name: "mean", sig: "mean(x[, axis])", nargs: 1, axis: "all", doc: "mean of all elements, or along an axis", lower: func(c *call) *Node {
		x := c.args[0]
		if c.axis >= 0 {
			return c.g.Div(c.g.SumAxis(x, c.axis), c.g.Const(float64(x.Shape[c.axis])))
		}
		return c.g.Div(c.g.Sum(x), c.g.Const(float64(x.Shape.Size())))
	}},
	{name: "amax", sig: "amax(x[, axis])", nargs: 1, axis: "all", doc: "largest element, or largest along an axis; ties share the gradient equally", lower: func(c *call) *Node {
		x := c.args[0]
		if len(x.Shape) == 0 {
			return x
		}
		if c.axis >= 0 {
			return c.g.AMax(x, otherAxes(len(x.Shape), c.axis))
		}
		return c.g.AMax(x, nil)
	}},
	{name: "dot", nargs: 2, doc: "Σ a·b over all elements of two equal shapes", lower: func(c *call) *Node {
		if !c.sameShape() {
			return nil
		}
		return c.g.Sum(c.g.Mul(c.args[0], c.args[1]))
	}},
	{name: "mse", nargs: 2, doc: "mean((a - b)^2)", lower: func(c *call) *Node {
		if !c.elementwise2() {
			return nil
		}
		d := c.g.Sub(c.args[0], c.args[1])
		return c.g.Div(c.g.Sum(c.g.Mul(d, d)), c.g.Const(float64(d.Shape.Size())))
	}},
	{name: "transpose", nargs: 1, doc: "transpose of a matrix", lower: func(c *call) *Node {
		if len(c.args[0].Shape) != 2 {
			return c.errorf(0, "transpose needs a matrix, got %v", c.args[0].Shape)
		}
		return c.g.Transpose(c.args[0])
	}},
	{name: "logsumexp", sig: "logsumexp(x[, axis])", nargs: 1, axis: "last", doc: "log Σ exp(x) along an axis (the last by default), stable for any x", lower: func(c *call) *Node {
		return c.g.LogSumExpAxis(c.args[0], c.axis)
	}},
	{name: "softmax", sig: "softmax(x[, axis])", nargs: 1, axis: "last", doc: "exp(x - logsumexp(x)) along an axis (the last by default), as exp(x - max x) / Σ exp(x - max x)", lower: func(c *call) *Node {
		return c.g.SoftmaxAxis(c.args[0], c.axis)
	}},
	{name: "log_softmax", sig: "log_softmax(x[, axis])", nargs: 1, axis: "last", doc: "x - logsumexp(x) along an axis (the last by default), as (x - max x) - log Σ exp(x - max x)", lower: func(c *call) *Node {
		return c.g.LogSoftmaxAxis(c.args[0], c.axis)
	}},
	{name: "stop_gradient", nargs: 1, doc: "x, with no gradient flowing through it", lower: func(c *call) *Node {
		return c.g.StopGrad(c.args[0])
	}},
	{name: "huber", sig: "huber(a, b, delta)", nargs: 3, doc: "elementwise Huber loss of a - b with threshold delta (a scalar > 0)", lower: func(c *call) *Node {
		if !c.elementwise2() || !c.scalar(2, "delta") {
			return nil
		}
		return c.g.Binary(opHuber, c.g.Sub(c.args[0], c.args[1]), c.args[2])
	}},
	{name: "bce_with_logits", sig: "bce_with_logits(logits, targets)", nargs: 2,
		doc: "Σ max(x, 0) - x·t + log1p(e^-|x|), binary cross-entropy of sigmoid(x), stable for any x", lower: func(c *call) *Node {
			if !c.elementwise2() {
				return nil
			}
			// softplus(x) is max(x, 0) + log1p(e^-|x|); its derivative,
			// sigmoid(x), is stable too.
			x, t := c.args[0], c.args[1]
			return c.g.Sum(c.g.Sub(c.g.Unary(opSoftplus, x), c.g.Mul(x, t)))
		}},
	{name: "cross_entropy", sig: "cross_entropy(logits, label)", nargs: 2,
		doc: "logsumexp(logits) - logits[label], label an integer input", syntax: crossEntropy},
	{name: "flatten", nargs: 1, doc: "the elements of x as a vector, in row-major order", lower: func(c *call) *Node {
		return c.g.Flatten(c.args[0])
	}},
	{name: "reshape", sig: "reshape(x, dims...)", nargs: -1, doc: "the elements of x, in row-major order, as a tensor of the dimensions given (as many elements)", syntax: reshape},
	{name: "concat", sig: "concat(a, b, axis)", nargs: 3, ints: []string{"axis"}, doc: "a and b side by side along axis, their other dimensions equal", lower: func(c *call) *Node {
		a, b, axis := c.args[0], c.args[1], c.ints[0]
		if len(a.Shape) == 0 || len(b.Shape) == 0 {
			i := 0
			if len(a.Shape) > 0 {
				i = 1
			}
			return c.errorf(i, "concat needs tensors, got a scalar")
		}
		rank := len(a.Shape)
		if axis < -rank || axis >= rank {
			return c.errorf(2, "axis %d is out of range for concat of shape %v: its axes are 0 to %d (or -%d to -1 from the end)", axis, a.Shape, rank-1, rank)
		}
		if axis < 0 {
			axis += rank
		}
		ok := len(b.Shape) == rank
		for i := 0; ok && i < rank; i++ {
			ok = i == axis || a.Shape[i] == b.Shape[i]
		}
		if !ok {
			return c.errorf(1, "concat along axis %d needs shapes equal but for that axis, got %v and %v", axis, a.Shape, b.Shape)
		}
		if a.Shape.Size()+b.Shape.Size() > MaxElements {
			return c.errorf(-1, "concat(...) would have more than %d elements", MaxElements)
		}
		return c.g.Concat(a, b, axis)
	}},
	{name: "conv1d", sig: "conv1d(x, w, stride, padding)", nargs: 4, ints: []string{"stride", "padding"},
		doc:   "convolution of x[C, L] with kernels w[F, C, K], zero-padded: [F, OL]",
		lower: func(c *call) *Node { return c.conv(1) }},
	{name: "conv2d", sig: "conv2d(x, w, stride, padding)", nargs: 4, ints: []string{"stride", "padding"},
		doc:   "convolution of x[C, H, W] with kernels w[F, C, KH, KW], zero-padded: [F, OH, OW]",
		lower: func(c *call) *Node { return c.conv(2) }},
	{name: "max_pool2d", sig: "max_pool2d(x, k)", nargs: 2, ints: []string{"k"},
		doc:   "maximum of each k×k block of x[C, H, W] (stride k): [C, H/k, W/k]; ties share the gradient",
		lower: func(c *call) *Node { return c.pool(true) }},
	{name: "avg_pool2d", sig: "avg_pool2d(x, k)", nargs: 2, ints: []string{"k"},
		doc:   "mean of each k×k block of x[C, H, W] (stride k): [C, H/k, W/k]",
		lower: func(c *call) *Node { return c.pool(false) }},
	{name: "layer_norm", sig: "layer_norm(x, gamma, beta)", nargs: 3,
		doc:   "(x - mean)/√(variance + 1e-5)·gamma + beta along the last axis",
		lower: func(c *call) *Node { return c.layerNorm() }},
	{name: "attention", sig: "attention(Q, K, V[, causal])", nargs: 3, flag: "causal",
		doc:   "softmax(Q Kᵀ/√d) V, row by row, of Q[T, d], K[S, d], V[S, e]: [T, e]; causal 1 masks the keys after each query",
		lower: func(c *call) *Node { return c.attention() }},
	{name: "zeros", sig: "zeros(dims...)", nargs: -1, doc: "a tensor of zeros", syntax: filled(0)},
	{name: "ones", sig: "ones(dims...)", nargs: -1, doc: "a tensor of ones", syntax: filled(1)},
}

// builtins indexes builtinList by name. It is made by init: lowering a
// call, which the rows do, looks names up in it.
var builtins = map[string]*builtin{}

func init() {
	for _, b := range builtinList {
		builtins[b.name] = b
	}
}

// BuiltinDocs lists the built-in functions and what they compute, for -h.
func BuiltinDocs() []string {
	var out []string
	for _, b := range builtinList {
		sig := b.sig
		if sig == "" {
			sig = b.name
		}
		out = append(out, fmt.Sprintf("%s: %s", sig, b.doc))
	}
	return out
}

// BuiltinNames lists the names of the built-in functions.
func BuiltinNames() []string {
	var out []string
	for _, b := range builtinList {
		out = append(out, b.name)
	}
	return out
}
