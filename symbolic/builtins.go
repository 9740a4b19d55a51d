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
	nargs int // -1: any number
	doc   string
	lower func(c *call) *Node
}

// call is a built-in call being lowered: its syntax, its scope, and its
// arguments once lowered.
type call struct {
	*scope
	expr *parser.Call
	args []*Node
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

// vector checks that argument i is a vector.
func (c *call) vector(i int) bool {
	if len(c.args[i].Shape) != 1 {
		c.errorf(i, "%s needs a vector, got %v", c.expr.Fun.Name, c.args[i].Shape)
		return false
	}
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
func (c *call) elementwise2() bool {
	if _, ok := broadcastShape(c.args[0].Shape, c.args[1].Shape); !ok {
		c.errorf(1, "%s needs arguments of one shape or a scalar, got %v and %v", c.expr.Fun.Name, c.args[0].Shape, c.args[1].Shape)
		return false
	}
	return true
}

func unaryBuiltin(name string, op func() *Op, doc string) *builtin {
	return &builtin{name: name, nargs: 1, doc: doc, lower: func(c *call) *Node { return c.g.Unary(op(), c.args[0]) }}
}

func binaryBuiltin(name string, op func() *Op, doc string) *builtin {
	return &builtin{name: name, nargs: 2, doc: doc, lower: func(c *call) *Node {
		if !c.elementwise2() {
			return nil
		}
		return c.g.Binary(op(), c.args[0], c.args[1])
	}}
}

// The ops are looked up through functions because the op table is filled in
// by init, after this table would otherwise be built.
var builtinList = []*builtin{
	unaryBuiltin("exp", func() *Op { return opExp }, "eˣ"),
	unaryBuiltin("log", func() *Op { return opLog }, "natural logarithm"),
	unaryBuiltin("log1p", func() *Op { return opLog1p }, "log(1 + x), accurate near 0"),
	unaryBuiltin("sqrt", func() *Op { return opSqrt }, "square root"),
	unaryBuiltin("sin", func() *Op { return opSin }, "sine"),
	unaryBuiltin("cos", func() *Op { return opCos }, "cosine"),
	unaryBuiltin("tan", func() *Op { return opTan }, "tangent"),
	unaryBuiltin("tanh", func() *Op { return opTanh }, "hyperbolic tangent"),
	unaryBuiltin("atan", func() *Op { return opAtan }, "arc tangent"),
	unaryBuiltin("erf", func() *Op { return opErf }, "error function"),
	unaryBuiltin("norm_cdf", func() *Op { return opNormCDF }, "standard normal distribution function Φ"),
	unaryBuiltin("abs", func() *Op { return opAbs }, "absolute value; subgradient 0 at 0"),
	unaryBuiltin("sigmoid", func() *Op { return opSigmoid }, "1/(1+e⁻ˣ), stable for any x"),
	unaryBuiltin("relu", func() *Op { return opRelu }, "max(x, 0); subgradient 0 at 0"),
	unaryBuiltin("softplus", func() *Op { return opSoftplus }, "log(1+eˣ), stable for any x"),
	binaryBuiltin("min", func() *Op { return opMin }, "elementwise minimum; a tie sends the gradient to the first argument"),
	binaryBuiltin("max", func() *Op { return opMax }, "elementwise maximum; a tie sends the gradient to the first argument"),
	binaryBuiltin("pow", func() *Op { return opPow }, "pow(x, y) = x^y"),
	{name: "leaky_relu", nargs: 2, doc: "x for x > 0, else slope·x (slope a scalar); subgradient slope at 0",
		lower: func(c *call) *Node {
			x, slope := c.args[0], c.args[1]
			if !slope.IsScalar() {
				return c.errorf(1, "leaky_relu needs a scalar slope, got %v", slope.Shape)
			}
			// relu(x) + slope·min(x, 0): exact, and min's tie rule makes the
			// derivative at 0 the slope.
			g := c.g
			return g.Add(g.Unary(opRelu, x), g.Mul(slope, g.Binary(opMin, x, g.Const(0))))
		}},
	{name: "sum", nargs: 1, doc: "sum of all elements", lower: func(c *call) *Node { return c.g.Sum(c.args[0]) }},
	{name: "mean", nargs: 1, doc: "mean of all elements", lower: func(c *call) *Node {
		return c.g.Div(c.g.Sum(c.args[0]), c.g.Const(float64(c.args[0].Shape.Size())))
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
	{name: "logsumexp", nargs: 1, doc: "log Σ exp(x), stable for any x", lower: func(c *call) *Node {
		if !c.vector(0) {
			return nil
		}
		return c.g.LogSumExp(c.args[0])
	}},
	{name: "log_softmax", nargs: 1, doc: "x - logsumexp(x), as (x - max x) - log Σ exp(x - max x)", lower: func(c *call) *Node {
		if !c.vector(0) {
			return nil
		}
		return c.g.LogSoftmax(c.args[0])
	}},
	{name: "softmax", nargs: 1, doc: "exp(x - logsumexp(x)), as exp(x - max x) / Σ exp(x - max x)", lower: func(c *call) *Node {
		if !c.vector(0) {
			return nil
		}
		return c.g.Softmax(c.args[0])
	}},
	{name: "stop_gradient", nargs: 1, doc: "x, with no gradient flowing through it", lower: func(c *call) *Node {
		return c.g.StopGrad(c.args[0])
	}},
}

// shapeBuiltins take constant dimensions instead of values.
var shapeBuiltins = map[string]float64{"zeros": 0, "ones": 1}

var builtins = func() map[string]*builtin {
	m := map[string]*builtin{}
	for _, b := range builtinList {
		m[b.name] = b
	}
	return m
}()

// BuiltinDocs lists the built-in functions and what they compute, for -h and
// the language reference.
func BuiltinDocs() []string {
	var out []string
	for _, b := range builtinList {
		out = append(out, fmt.Sprintf("%s: %s", b.name, b.doc))
	}
	return append(out, "zeros(dims...), ones(dims...): constant tensors",
		"cross_entropy(logits, label): logsumexp(logits) - logits[label], label an integer input")
}
