package codegen

import (
	"fmt"
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// This file emits a model's types and the methods that are the same for
// every model whatever its graph: Validate, Flat, Ints, Layout, Step and
// Init. model.go emits the methods computed from the graph.

// varFields names the fields of params, inputs and outputs: the model's
// names with an upper-case first letter, so callers in other packages can
// set them. Names that collide (b and B) get a trailing underscore.
func (mg *modelGen) varFields() {
	for i, group := range [][]*symbolic.Var{mg.m.Params, mg.m.Inputs} {
		taken := takenFields([]string{"Params", "Inputs"}[i])
		for _, v := range group {
			mg.fields[v] = takeField(taken, v.Name)
		}
	}
	taken := takenFields("Outputs")
	for _, o := range mg.m.Outputs {
		mg.outputs = append(mg.outputs, takeField(taken, o.Name))
	}
}

// doc writes text to the file as a comment wrapped at 76 columns.
func (mg *modelGen) doc(text string) {
	for _, l := range wrapDoc(text) {
		mg.fg.f.Comment(l)
	}
}

func takeField(taken map[string]bool, name string) string {
	field := exported(name)
	for taken[field] {
		field += "_"
	}
	taken[field] = true
	return field
}

func (mg *modelGen) source(v *symbolic.Var, kind string) string {
	s := kind + " " + v.Name
	if len(v.Shape) > 0 {
		s += v.Shape.String()
	}
	if v.Int {
		s += " int"
	}
	return fmt.Sprintf("%s (%s:%d)", s, mg.fg.prog.File, v.Line)
}

func size(vars []*symbolic.Var) int {
	n := 0
	for _, v := range vars {
		n += v.Shape.Size()
	}
	return n
}

// floatInputs and intInputs split the inputs; an Inputs struct lists the
// float inputs first, so that Flat can view them as one slice.
func (mg *modelGen) floatInputs() []*symbolic.Var { return mg.inputsOf(false) }
func (mg *modelGen) intInputs() []*symbolic.Var   { return mg.inputsOf(true) }

func (mg *modelGen) inputsOf(isInt bool) []*symbolic.Var {
	var out []*symbolic.Var
	for _, v := range mg.m.Inputs {
		if v.Int == isInt {
			out = append(out, v)
		}
	}
	return out
}

func (mg *modelGen) types() {
	mg.paramsType()
	mg.inputsType()
	mg.validate()
	f, name := mg.fg.f, mg.m.Name
	var outs []jen.Code
	for i, o := range mg.m.Outputs {
		outs = append(outs, jen.Id(mg.outputs[i]).Add(goType(o.Node.Shape)).Comment(fmt.Sprintf("output %s (%s:%d)", o.Name, mg.fg.prog.File, o.Line)))
	}
	if len(outs) > 0 {
		mg.doc(fmt.Sprintf("%s holds the outputs of model %s.", mg.typ("Outputs"), name))
	} else {
		mg.doc(fmt.Sprintf("%s is empty: model %s declares no outputs. It is here so that every generated model has the same methods.", mg.typ("Outputs"), name))
	}
	f.Type().Id(mg.typ("Outputs")).Struct(outs...)
	f.Line()
	mg.doc(fmt.Sprintf("%s holds what %s.Forward keeps for Backward, and Backward's intermediate values. Its zero value is ready to use; use one per goroutine.", mg.typ("Workspace"), mg.typ("Params")))
	f.Type().Id(mg.typ("Workspace")).Struct(mg.wsDecl...)
	f.Line()
}

func (mg *modelGen) paramsType() {
	f, P := mg.fg.f, mg.typ("Params")
	f.Comment(fmt.Sprintf("%s is the number of float64s in a %s.", mg.typ("NumParams"), P))
	f.Const().Id(mg.typ("NumParams")).Op("=").Lit(size(mg.m.Params))
	f.Line()
	var params []jen.Code
	for _, v := range mg.m.Params {
		params = append(params, jen.Id(mg.fields[v]).Add(goType(v.Shape)).Comment(mg.source(v, "param")))
	}
	mg.doc(fmt.Sprintf("%s holds the parameters of model %s, or a gradient with respect to them. Flat views it as one slice.", P, mg.m.Name))
	f.Type().Id(P).Struct(params...)
	f.Line()
	mg.doc(fmt.Sprintf(`%s is exactly %s float64s, so Flat covers all of it. A compile error here ("index out of bounds" or "overflows uintptr") means that the type was changed by hand: run backpropgen again to regenerate this file.`, P, mg.typ("NumParams")))
	f.Var().Id("_").Op("=").Index(jen.Lit(1)).Struct().Values().Index(
		jen.Qual("unsafe", "Sizeof").Call(jen.Id(P).Values()).Op("-").Lit(8).Op("*").Id(mg.typ("NumParams")))
	f.Line()
}

func (mg *modelGen) inputsType() {
	f, I := mg.fg.f, mg.typ("Inputs")
	mg.doc(fmt.Sprintf("%s is the number of float64s in a %s, which its Flat views; integer inputs are not among them.", mg.typ("NumInputs"), I))
	f.Const().Id(mg.typ("NumInputs")).Op("=").Lit(size(mg.floatInputs()))
	f.Line()
	var inputs []jen.Code
	for _, v := range append(mg.floatInputs(), mg.intInputs()...) {
		t := goType(v.Shape)
		if v.Int {
			t = intType(v.Shape)
		}
		inputs = append(inputs, jen.Id(mg.fields[v]).Add(t).Comment(mg.source(v, "input")))
	}
	mg.doc(fmt.Sprintf("%s holds one sample of the inputs of model %s: the float inputs first, in declaration order, which Flat views as one slice, then the integer inputs, which Ints views.", I, mg.m.Name))
	f.Type().Id(I).Struct(inputs...)
	f.Line()
	if len(mg.floatInputs()) == 0 {
		return
	}
	// The float inputs end where the first int input starts, or at the end.
	end := jen.Qual("unsafe", "Sizeof").Call(jen.Id(I).Values())
	if ints := mg.intInputs(); len(ints) > 0 {
		end = jen.Qual("unsafe", "Offsetof").Call(jen.Id(I).Values().Dot(mg.fields[ints[0]]))
	}
	mg.doc(fmt.Sprintf(`%s starts with exactly %s float64s, so Flat covers them. A compile error here ("index out of bounds" or "overflows uintptr") means that the type was changed by hand: run backpropgen again to regenerate this file.`, I, mg.typ("NumInputs")))
	f.Var().Id("_").Op("=").Index(jen.Lit(1)).Struct().Values().Index(end.Op("-").Lit(8).Op("*").Id(mg.typ("NumInputs")))
	f.Line()
}

// rangeChecks returns, for each integer input in vars that indexes a
// dimension, the statement that fails with Validate's message when it is
// out of range.
func (mg *modelGen) rangeChecks(vars []*symbolic.Var, fail func(err jen.Code) jen.Code) []jen.Code {
	var out []jen.Code
	for _, v := range vars {
		if !v.Int || v.Range <= 0 {
			continue
		}
		out = append(out, mg.intRangeCheck(v, jen.Id("in").Dot(mg.fields[v]), fail))
	}
	return out
}

// validate emits Inputs.Validate, if the model has integer inputs that
// index a dimension.
func (mg *modelGen) validate() {
	body := mg.rangeChecks(mg.m.Inputs, func(err jen.Code) jen.Code { return jen.Return(err) })
	if len(body) == 0 {
		return
	}
	body = append(body, jen.Return(jen.Nil()))
	mg.fg.f.Comment("Validate reports an integer input outside the range of the dimension it")
	mg.fg.f.Comment("indexes. Forward, Backward and LossGrad panic with its message.")
	mg.fg.f.Func().Params(jen.Id("in").Op("*").Id(mg.typ("Inputs"))).Id("Validate").Params().Error().Block(body...)
	mg.fg.f.Line()
}

// checkInputs starts a function that reads every input with Validate.
func (mg *modelGen) checkInputs(f *fnGen) {
	if len(mg.rangeChecks(mg.m.Inputs, panicWith)) > 0 {
		f.add(jen.If(jen.Err().Op(":=").Id("in").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(jen.Panic(jen.Err())))
	}
}

// checkInputsOf starts a function that computes roots by checking the
// integer inputs they read, each as Validate would.
func (mg *modelGen) checkInputsOf(f *fnGen, roots []*symbolic.Node) {
	read := map[*symbolic.Var]bool{}
	symbolic.Walk(roots, func(n *symbolic.Node) {
		if n.Var != nil {
			read[n.Var] = true
		}
	})
	var vars []*symbolic.Var
	for _, v := range mg.m.Inputs {
		if read[v] {
			vars = append(vars, v)
		}
	}
	f.add(mg.rangeChecks(vars, panicWith)...)
}

func panicWith(err jen.Code) jen.Code { return jen.Panic(err) }

// helpers emits the methods that do not depend on the graph.
func (mg *modelGen) helpers() {
	mg.paramsFlat()
	mg.layout("Params", "Param", mg.m.Params)
	mg.step()
	mg.init()
	mg.inputsFlat()
	mg.layout("Inputs", "Input", append(mg.floatInputs(), mg.intInputs()...))
}

// flatView is unsafe.Slice(&x.F[0]..., n): the n numbers from field F of x on.
func flatView(x, field string, v *symbolic.Var, n jen.Code) jen.Code {
	ptr := jen.Op("&").Id(x).Dot(field)
	for range v.Shape {
		ptr = ptr.Index(jen.Lit(0))
	}
	return jen.Qual("unsafe", "Slice").Call(ptr, n)
}

func (mg *modelGen) paramsFlat() {
	f := mg.fg.f
	f.Comment("Flat returns p's numbers as one slice sharing p's memory, parameters in")
	f.Comment("declaration order, each in row-major order, so one optimizer serves any model.")
	f.Func().Params(mg.recv()).Id("Flat").Params().Index().Float64().Block(
		jen.Return(flatView("p", mg.fields[mg.m.Params[0]], mg.m.Params[0], jen.Id(mg.typ("NumParams")))),
	)
	f.Line()
}

func (mg *modelGen) inputsFlat() {
	f, recv := mg.fg.f, jen.Id("in").Op("*").Id(mg.typ("Inputs"))
	floats, ints := mg.floatInputs(), mg.intInputs()
	var view jen.Code = jen.Nil()
	if len(floats) > 0 {
		view = flatView("in", mg.fields[floats[0]], floats[0], jen.Id(mg.typ("NumInputs")))
	}
	f.Comment("Flat returns the float inputs as one slice sharing in's memory, in the order")
	f.Comment("Layout lists them, each in row-major order, so that a data loader can copy a")
	f.Comment("row of numbers into any model's inputs. Integer inputs are not in it: they")
	f.Comment("are indices (a class, an action), which Ints holds exactly.")
	if len(floats) == 0 {
		f.Comment(fmt.Sprintf("Model %s has no float inputs: Flat returns nil.", mg.m.Name))
	}
	f.Func().Params(recv.Clone()).Id("Flat").Params().Index().Float64().Block(jen.Return(view))
	f.Line()
	view = jen.Nil()
	if len(ints) > 0 {
		view = flatView("in", mg.fields[ints[0]], ints[0], jen.Lit(intCount(ints)))
	}
	f.Comment("Ints returns the integer inputs as one slice sharing in's memory, in the")
	if intCount(ints) > len(ints) {
		f.Comment("order Layout lists them after the float inputs, each in row-major order.")
	} else {
		f.Comment("order Layout lists them after the float inputs.")
	}
	if len(ints) == 0 {
		f.Comment(fmt.Sprintf("Model %s has no integer inputs: Ints returns nil.", mg.m.Name))
	}
	f.Func().Params(recv.Clone()).Id("Ints").Params().Index().Int().Block(jen.Return(view))
	f.Line()
}

// layout emits the Layout method of type kind, which lists vars.
func (mg *modelGen) layout(kind, singular string, vars []*symbolic.Var) {
	f, pre := mg.fg.f, unexported(mg.name)+singular
	var names, fields, sizes []jen.Code
	for _, v := range vars {
		names = append(names, jen.Lit(v.Name))
		fields = append(fields, jen.Lit(mg.fields[v]))
		sizes = append(sizes, jen.Lit(v.Shape.Size()))
	}
	f.Var().Defs(
		jen.Id(pre+"Names").Op("=").Index(jen.Op("...")).String().Values(names...),
		jen.Id(pre+"Fields").Op("=").Index(jen.Op("...")).String().Values(fields...),
		jen.Id(pre+"Sizes").Op("=").Index(jen.Op("...")).Int().Values(sizes...),
	)
	f.Line()
	if kind == "Params" {
		f.Comment("Layout returns the parameters in the order Flat lays them out: each one's")
		f.Comment("name in the model, its field in Go, and how many numbers it has (for")
		f.Comment("per-parameter gradient norms).")
	} else {
		f.Comment("Layout returns the inputs: each one's name in the model, its field in Go,")
		f.Comment("and how many numbers it has. The float inputs come first, in the order")
		if ints := mg.intInputs(); intCount(ints) > len(ints) {
			f.Comment(fmt.Sprintf("Flat lays them out (%s numbers), then the integer inputs, in the", mg.typ("NumInputs")))
			f.Comment("order of Ints.")
		} else {
			f.Comment(fmt.Sprintf("Flat lays them out (%s numbers), then the integer inputs, one", mg.typ("NumInputs")))
			f.Comment("number each, in the order of Ints.")
		}
	}
	f.Func().Params(jen.Op("*").Id(mg.typ(kind))).Id("Layout").Params().Params(
		jen.Id("names"), jen.Id("fields").Index().String(), jen.Id("sizes").Index().Int()).Block(
		jen.Return(jen.Id(pre+"Names").Index(jen.Op(":")), jen.Id(pre+"Fields").Index(jen.Op(":")), jen.Id(pre+"Sizes").Index(jen.Op(":"))),
	)
	f.Line()
}

func (mg *modelGen) step() {
	f := mg.fg.f
	f.Comment("Step takes one gradient-descent step, w ← w − lr·∂L/∂w, with the gradient g.")
	f.Func().Params(mg.recv()).Id("Step").Params(jen.Id("g").Op("*").Id(mg.typ("Params")), jen.Id("lr").Float64()).Block(
		jen.Id("w").Op(":=").Id("p").Dot("Flat").Call(),
		jen.For(jen.List(jen.Id("i"), jen.Id("d")).Op(":=").Range().Id("g").Dot("Flat").Call()).Block(
			jen.Id("w").Index(jen.Id("i")).Op("-=").Id("lr").Op("*").Id("d"),
		),
	)
	f.Line()
}

// init emits Init, Glorot's uniform initialisation of each matrix.
func (mg *modelGen) init() {
	f, P := mg.fg.f, mg.typ("Params")
	body := []jen.Code{jen.Op("*").Id("p").Op("=").Id(P).Values()}
	var calls []jen.Code
	for _, v := range mg.m.Params {
		if len(v.Shape) < 2 {
			continue
		}
		fanIn, fanOut := v.Shape[len(v.Shape)-1], v.Shape[len(v.Shape)-2]
		if len(v.Shape) == 4 { // a convolution's kernels [F, C, KH, KW]: as PyTorch counts them
			fanIn, fanOut = v.Shape.Size()/v.Shape[0], v.Shape.Size()/v.Shape[1]
		}
		calls = append(calls, jen.Id("glorot").Call(flatView("p", mg.fields[v], v, jen.Lit(v.Shape.Size())), jen.Lit(fanIn), jen.Lit(fanOut)))
	}
	if len(calls) > 0 {
		body = append(body,
			jen.Id("r").Op(":=").Qual("math/rand/v2", "New").Call(jen.Qual("math/rand/v2", "NewPCG").Call(jen.Id("seed"), jen.Lit(0))),
			jen.Id("glorot").Op(":=").Func().Params(jen.Id("w").Index().Float64(), jen.List(jen.Id("fanIn"), jen.Id("fanOut")).Float64()).Block(
				jen.Id("limit").Op(":=").Qual("math", "Sqrt").Call(jen.Lit(6).Op("/").Parens(jen.Id("fanIn").Op("+").Id("fanOut"))),
				jen.For(jen.Id("i").Op(":=").Range().Id("w")).Block(
					jen.Id("w").Index(jen.Id("i")).Op("=").Id("limit").Op("*").Parens(jen.Lit(2).Op("*").Id("r").Dot("Float64").Call().Op("-").Lit(1)),
				),
			))
		body = append(body, calls...)
	}
	f.Comment("Init sets p to starting values drawn from seed, the same for the same seed.")
	f.Comment("Each parameter of two or more dimensions is uniform in ±√(6/(fanIn+fanOut))")
	f.Comment("(Glorot's rule, variance 2/(fanIn+fanOut)), where fanIn is its last")
	if slices.ContainsFunc(mg.m.Params, func(v *symbolic.Var) bool { return len(v.Shape) == 4 }) {
		f.Comment("dimension and fanOut the one before (for the kernels [F, C, KH, KW] of a")
		f.Comment("convolution, C·KH·KW and F·KH·KW); vectors and scalars (biases) are 0.")
	} else {
		f.Comment("dimension and fanOut the one before; vectors and scalars (biases) are 0.")
	}
	f.Comment("For a relu layer, He's rule is this scaled by √(1+fanOut/fanIn).")
	f.Func().Params(mg.recv()).Id("Init").Params(jen.Id("seed").Uint64()).Block(body...)
	f.Line()
}
