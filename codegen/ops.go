package codegen

import (
	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// goForm says how an elementwise op prints in Go. Exactly one form is set.
type goForm struct {
	infix  string // a binary operator of infixOps (place.go): a + b
	prefix bool   // unary minus: -a
	pkg    string // with fn: a package function, math.Exp
	fn     string // a Go builtin (min, max), or with pkg a package function
	helper string // a function of internal/opmath, emitted beside the model (helpers.go)
	// emit builds the expression itself, for what no other form says.
	emit func(f *fnGen, n *symbolic.Node, args []gexpr) gexpr
}

func mathFn(name string) goForm { return goForm{pkg: "math", fn: name} }

// goForms is how every elementwise op prints, keyed by op. Every op of
// Kind Elementwise has a row (TestEveryElementwiseOpPrints).
var goForms = map[symbolic.OpCode]goForm{
	symbolic.OpAdd:  {infix: "+"},
	symbolic.OpSub:  {infix: "-"},
	symbolic.OpMul:  {infix: "*"},
	symbolic.OpDiv:  {infix: "/"},
	symbolic.OpNeg:  {prefix: true},
	symbolic.OpAddN: {emit: addAll},
	symbolic.OpPow:  {emit: power},
	symbolic.OpMin:  {fn: "min"},
	symbolic.OpMax:  {fn: "max"},

	symbolic.OpExp:   mathFn("Exp"),
	symbolic.OpLog:   mathFn("Log"),
	symbolic.OpLog1p: mathFn("Log1p"),
	symbolic.OpSqrt:  mathFn("Sqrt"),
	symbolic.OpSin:   mathFn("Sin"),
	symbolic.OpCos:   mathFn("Cos"),
	symbolic.OpTan:   mathFn("Tan"),
	symbolic.OpTanh:  mathFn("Tanh"),
	symbolic.OpAtan:  mathFn("Atan"),
	symbolic.OpErf:   mathFn("Erf"),
	symbolic.OpAbs:   mathFn("Abs"),

	symbolic.OpPowLog:   {helper: "PowLog"},
	symbolic.OpGE:       {helper: "Ge"},
	symbolic.OpGT:       {helper: "Gt"},
	symbolic.OpNormCDF:  {helper: "NormCDF"},
	symbolic.OpSigmoid:  {helper: "Sigmoid"},
	symbolic.OpRelu:     {helper: "Relu"},
	symbolic.OpSoftplus: {helper: "Softplus"},
	symbolic.OpStep:     {helper: "Step"},
	symbolic.OpSign:     {helper: "Sign"},

	symbolic.OpCosh:     mathFn("Cosh"),
	symbolic.OpSinh:     mathFn("Sinh"),
	symbolic.OpAsin:     mathFn("Asin"),
	symbolic.OpAcos:     mathFn("Acos"),
	symbolic.OpExpm1:    mathFn("Expm1"),
	symbolic.OpLog2:     mathFn("Log2"),
	symbolic.OpLog10:    mathFn("Log10"),
	symbolic.OpSquare:   {emit: func(f *fnGen, _ *symbolic.Node, args []gexpr) gexpr { return f.square(args[0]) }},
	symbolic.OpRsqrt:    {helper: "Rsqrt"},
	symbolic.OpGelu:     {helper: "Gelu"},
	symbolic.OpSilu:     {helper: "Silu"},
	symbolic.OpSoftsign: {helper: "Softsign"},
	symbolic.OpElu:      {helper: "Elu"},
	symbolic.OpEluGrad:  {helper: "EluGrad"},
	symbolic.OpHuber:    {helper: "Huber"},
}

// inlined are the helpers and math functions small enough for Go to
// inline: the others are calls, which a fused loop keeps apart from sums.
var inlined = map[string]bool{"Abs": true, "Relu": true, "Step": true, "Sign": true, "Ge": true, "Gt": true, "Sq": true, "Softsign": true}

// isCall reports whether form prints as a call Go does not inline.
func (form goForm) isCall() bool {
	return (form.pkg != "" || form.helper != "") && !inlined[form.fn] && !inlined[form.helper]
}

// print builds the Go expression of elementwise op n applied to args.
func (form goForm) print(f *fnGen, n *symbolic.Node, args []gexpr) gexpr {
	if b := f.fuse.body; b != nil && form.isCall() {
		b.calls = true
	}
	switch {
	case form.infix != "":
		return infix(args[0], form.infix, args[1])
	case form.prefix:
		return negate(args[0])
	case form.helper != "":
		return f.helperCall(form.helper, args)
	case form.emit != nil:
		return form.emit(f, n, args)
	}
	call := jen.Id(form.fn) // a Go builtin: min, max
	if form.pkg != "" {
		call = jen.Qual(form.pkg, form.fn)
	}
	return gexpr{c: call.Call(codes(args)...), prec: precPrimary}
}

func codes(args []gexpr) []jen.Code {
	out := make([]jen.Code, len(args))
	for i, a := range args {
		out[i] = a.c
	}
	return out
}

// addAll is a + b + c + ..., the sum addn makes of a value's adjoints.
func addAll(_ *fnGen, _ *symbolic.Node, args []gexpr) gexpr {
	e := args[0]
	for _, a := range args[1:] {
		e = infix(e, "+", a)
	}
	return e
}

// power is a^b, with a^2 as a product (square).
func power(f *fnGen, n *symbolic.Node, args []gexpr) gexpr {
	if n.Args[1].IsConst(2) {
		return f.square(args[0])
	}
	return gexpr{c: jen.Qual("math", "Pow").Call(codes(args)...), prec: precPrimary}
}

// square is a*a for a simple a, else a call of the Sq helper, so that a is
// computed once.
func (f *fnGen) square(a gexpr) gexpr {
	if a.prec == precPrimary {
		return infix(a, "*", gexpr{c: a.c.Clone(), prec: precPrimary})
	}
	return f.helperCall("Sq", []gexpr{a})
}
