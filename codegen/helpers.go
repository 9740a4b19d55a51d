package codegen

import (
	"sort"

	"github.com/dave/jennifer/jen"
)

// helpers are the small functions generated code calls for ops that are not
// one expression in Go (symbolic.GoForm.Helper names them). Each is emitted
// once per file, only if used, under a name prefixed by the model's, so two
// models can share a package. They must compute what the op's Eval in
// package symbolic computes; the generated tests check that they do.
var helpers = map[string]struct {
	doc    string
	params []string
	body   func(x ...*jen.Statement) []jen.Code
}{
	"sigmoid": {"is 1/(1+e⁻ˣ), computed without overflow for any x.", []string{"x"}, func(x ...*jen.Statement) []jen.Code {
		return []jen.Code{
			jen.If(x[0].Clone().Op(">=").Lit(0)).Block(jen.Return(jen.Lit(1).Op("/").Parens(jen.Lit(1).Op("+").Qual("math", "Exp").Call(jen.Op("-").Add(x[0].Clone()))))),
			jen.Id("e").Op(":=").Qual("math", "Exp").Call(x[0].Clone()),
			jen.Return(jen.Id("e").Op("/").Parens(jen.Lit(1).Op("+").Id("e"))),
		}
	}},
	"softplus": {"is log(1+eˣ), computed without overflow for any x.", []string{"x"}, func(x ...*jen.Statement) []jen.Code {
		return []jen.Code{jen.Return(jen.Max(x[0].Clone(), jen.Lit(0)).Op("+").Qual("math", "Log1p").Call(
			jen.Qual("math", "Exp").Call(jen.Op("-").Qual("math", "Abs").Call(x[0].Clone()))))}
	}},
	"relu": {"is max(x, 0).", []string{"x"}, func(x ...*jen.Statement) []jen.Code {
		return []jen.Code{jen.Return(jen.Max(x[0].Clone(), jen.Lit(0)))}
	}},
	"step": {"is 1 for x > 0, else 0: the derivative of relu, 0 at 0.", []string{"x"}, func(x ...*jen.Statement) []jen.Code {
		return []jen.Code{jen.If(x[0].Clone().Op(">").Lit(0)).Block(jen.Return(jen.Lit(1))), jen.Return(jen.Lit(0))}
	}},
	"sign": {"is 1, -1 or 0 by the sign of x: the derivative of abs, 0 at 0.", []string{"x"}, func(x ...*jen.Statement) []jen.Code {
		return []jen.Code{
			jen.Switch().Block(
				jen.Case(x[0].Clone().Op(">").Lit(0)).Block(jen.Return(jen.Lit(1))),
				jen.Case(x[0].Clone().Op("<").Lit(0)).Block(jen.Return(jen.Lit(-1))),
			),
			jen.Return(jen.Lit(0)),
		}
	}},
	"ge": {"is 1 if a >= b, else 0.", []string{"a", "b"}, func(x ...*jen.Statement) []jen.Code {
		return []jen.Code{jen.If(x[0].Clone().Op(">=").Add(x[1].Clone())).Block(jen.Return(jen.Lit(1))), jen.Return(jen.Lit(0))}
	}},
	"gt": {"is 1 if a > b, else 0.", []string{"a", "b"}, func(x ...*jen.Statement) []jen.Code {
		return []jen.Code{jen.If(x[0].Clone().Op(">").Add(x[1].Clone())).Block(jen.Return(jen.Lit(1))), jen.Return(jen.Lit(0))}
	}},
	"normCDF": {"is Φ(x), the standard normal distribution function.", []string{"x"}, func(x ...*jen.Statement) []jen.Code {
		return []jen.Code{jen.Return(jen.Lit(0.5).Op("*").Qual("math", "Erfc").Call(jen.Op("-").Add(x[0].Clone()).Op("/").Qual("math", "Sqrt2")))}
	}},
	"powLog": {"is n·log(a), or 0 where a is 0: the derivative of a^b with respect to b, n = a^b.", []string{"n", "a"}, func(x ...*jen.Statement) []jen.Code {
		return []jen.Code{
			jen.If(x[1].Clone().Op("==").Lit(0)).Block(jen.Return(jen.Lit(0))),
			jen.Return(x[0].Clone().Op("*").Qual("math", "Log").Call(x[1].Clone())),
		}
	}},
	"sq": {"is x·x.", []string{"x"}, func(x ...*jen.Statement) []jen.Code {
		return []jen.Code{jen.Return(x[0].Clone().Op("*").Add(x[0].Clone()))}
	}},
}

// emitHelpers writes the helpers used, in name order.
func (fg *fileGen) emitHelpers() {
	var names []string
	for n := range fg.usedHelpers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := helpers[n]
		id := fg.helperName(n)
		var params []jen.Code
		var args []*jen.Statement
		for _, p := range h.params {
			params = append(params, jen.Id(p))
			args = append(args, jen.Id(p))
		}
		fg.f.Comment(id + " " + h.doc)
		fg.f.Func().Id(id).Params(jen.List(params...).Float64()).Float64().Block(h.body(args...)...)
		fg.f.Line()
	}
}

func (fg *fileGen) helperName(h string) string {
	fg.helpersMu.Lock()
	fg.usedHelpers[h] = true
	fg.helpersMu.Unlock()
	return fg.prefix + exported(h)
}
