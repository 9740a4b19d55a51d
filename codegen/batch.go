package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// A model's batch methods, ForwardBatch and LossGradBatch, compute many
// samples a tile at a time with the code of the batched model
// (symbolic.Batch): its inputs are the tile's, copied into the batch
// workspace with the sample axis last, its matrix-vector products are
// matrix products over the tile, and its gradient is the tile's sum. The
// samples after the last whole tile go through Forward and LossGrad one
// at a time. The tile functions are emitted by a modelGen of their own,
// over the batched model, whose inputs are workspace fields. Whether the
// whole tiles go through the tile functions or through Forward and
// LossGrad too is decided per model and per build (tilechoice.go).

// batchGen returns the generator of the tile functions, or nil if the
// model has no batched form (symbolic.BatchMaxNodes).
func (mg *modelGen) batchGen() *modelGen {
	b := mg.fg.grads.Batch
	if b == nil {
		return nil
	}
	bg := &modelGen{fg: mg.fg, m: b.Model, grad: b.Gradient(), name: mg.name, fields: map[*symbolic.Var]string{},
		outputs: mg.outputs, ws: newFieldNamer().reserve("one"), saved: map[*symbolic.Node]place{},
		big: map[*symbolic.Node]place{}, tile: b, stepArrays: map[*symbolic.Node]place{}}
	for _, p := range b.Params {
		bg.fields[p] = mg.fields[p]
	}
	for _, v := range b.Inputs {
		name := bg.ws.fresh(unexported(v.Name))
		bg.fields[v] = name
		t := goType(v.Shape)
		if v.Int {
			t = intType(v.Shape)
		}
		bg.wsDecl = append(bg.wsDecl, jen.Id(name).Add(t).Comment(fmt.Sprintf("the tile's %s, sample s in column s", v.Name)))
	}
	bg.saves = bg.computeSaves()
	bg.direct = bg.directAccumulators()
	return bg
}

// batchFunctions returns the batch methods and the tile functions they
// call (none for a model with no batched form, whose batch methods take
// the samples one at a time).
func (mg *modelGen) batchFunctions(bg *modelGen) []jen.Code {
	tileTo := bg != nil && !mg.clearsCheaply()
	tiled := ""
	if bg != nil {
		tiled = tiledVar(mg.fg.prefix)
	}
	fns := []jen.Code{mg.lossGradBatch(tiled), mg.lossGradBatchTo(tiled, tileTo), mg.forwardBatch(tiled), mg.tileMethod(bg)}
	if bg != nil {
		fns = append(fns, mg.load(bg), bg.lossGradTile(false))
		if tileTo {
			fns = append(fns, bg.lossGradTile(true))
		}
		fns = append(fns, bg.forwardTile())
	}
	return fns
}

// batchType emits the batch workspace's type.
func (mg *modelGen) batchType(bg *modelGen) {
	W := mg.typ("BatchWorkspace")
	fields := []jen.Code{jen.Id("one").Id(mg.typ("Workspace")).Comment("for the samples after the last whole tile")}
	what := "the samples one at a time: the model is too large for a second, batched copy of its code"
	if bg != nil {
		fields = append(fields, bg.wsDecl...)
		what = fmt.Sprintf("a tile of %d samples at once", bg.tile.Tile)
	}
	mg.doc(fmt.Sprintf("%s holds what %s.ForwardBatch and LossGradBatch need to compute %s. Its zero value is ready to use; use one per goroutine. It is large: allocate it once.", W, mg.typ("Params"), what))
	mg.fg.f.Type().Id(W).Struct(fields...)
	mg.fg.f.Line()
	if bg != nil {
		mg.tiledDecl(mg.chooseTiles(bg))
	}
}

func (mg *modelGen) batchWS() jen.Code {
	return jen.Id("ws").Op("*").Id(mg.typ("BatchWorkspace"))
}

func (mg *modelGen) inSlice() jen.Code { return jen.Id("in").Index().Id(mg.typ("Inputs")) }

// tileMethod emits Tile, which says how many samples a tile holds.
func (mg *modelGen) tileMethod(bg *modelGen) jen.Code {
	tile := 1
	if bg != nil {
		tile = bg.tile.Tile
	}
	doc := wrapDoc(fmt.Sprintf("Tile returns the number of samples the batch methods compute at once, %d: a batch is fastest in multiples of it.", tile))
	if bg != nil {
		doc = wrapDoc(fmt.Sprintf("Tile returns the number of samples in a tile of the batch methods' tile code, %d: where they use it (%s), a batch is fastest in multiples of it.", tile, tiledVar(mg.fg.prefix)))
	}
	return comments(doc).Func().Params(mg.batchWS()).Id("Tile").Params().Int().Block(jen.Return(jen.Lit(tile)))
}

// tilesThenRest is the body of a batch method: if the variable tiled is
// true, the loss of the whole tiles, each loaded into ws and computed by
// tile (statements that add to loss); then that of the samples after
// them (all of them if tiled is false), one at a time, by one (statements
// that add to loss, given the index of the sample in in). A model with no
// tile code (tiled "") takes every sample one at a time.
func tilesThenRest(tiled string, tile []jen.Code, one func(i *jen.Statement) []jen.Code) []jen.Code {
	body := []jen.Code{jen.Id("loss").Op(":=").Float64().Call(jen.Lit(0))}
	from := jen.Lit(0)
	if tiled != "" {
		body = append(body,
			jen.Id("n").Op(":=").Lit(0),
			jen.If(jen.Id(tiled)).Block(
				jen.Id("tile").Op(":=").Id("ws").Dot("Tile").Call(),
				jen.Id("n").Op("=").Len(jen.Id("in")).Op("-").Len(jen.Id("in")).Op("%").Id("tile"),
				jen.For(jen.Id("s").Op(":=").Lit(0), jen.Id("s").Op("<").Id("n"), jen.Id("s").Op("+=").Id("tile")).Block(
					append([]jen.Code{jen.Id("ws").Dot("load").Call(jen.Id("in").Index(jen.Id("s").Op(":").Id("s").Op("+").Id("tile")))}, tile...)...)))
		from = jen.Id("n")
	}
	return append(body,
		jen.For(jen.Id("s").Op(":=").Range().Id("in").Index(jen.Add(from).Op(":"))).Block(one(jen.Add(from.Clone()).Op("+").Id("s"))...),
		jen.Return(jen.Id("loss")))
}

func (mg *modelGen) lossGradBatch(tiled string) jen.Code {
	body := tilesThenRest(tiled,
		[]jen.Code{jen.Id("loss").Op("+=").Id("p").Dot("lossGradTile").Call(jen.Id("ws"), jen.Id("g"))},
		func(i *jen.Statement) []jen.Code {
			return []jen.Code{jen.Id("loss").Op("+=").Id("p").Dot("LossGrad").Call(jen.Op("&").Id("ws").Dot("one"), jen.Op("&").Id("in").Index(i), jen.Id("g"))}
		})
	doc := wrapDoc("LossGradBatch returns the sum of the losses of the samples in and adds the sum of their gradients to g, as LossGrad called on each would, to rounding. It computes the samples one at a time.")
	if tiled != "" {
		doc = wrapDoc(fmt.Sprintf("LossGradBatch returns the sum of the losses of the samples in and adds the sum of their gradients to g, as LossGrad called on each would, to rounding. Where %s says so, it computes the samples a tile at a time (see Tile) with matrix products over the tile, and the samples after the last whole tile one at a time; else all of them one at a time.", tiled))
	}
	return comments(doc).Func().Params(mg.recv()).Id("LossGradBatch").Params(mg.batchWS(), mg.inSlice(), mg.gradParam()).Float64().Block(body...)
}

func (mg *modelGen) forwardBatch(tiled string) jen.Code {
	O := mg.typ("Outputs")
	body := []jen.Code{jen.If(jen.Id("out").Op("!=").Nil().Op("&&").Len(jen.Id("out")).Op("<").Len(jen.Id("in"))).Block(
		jen.Panic(jen.Lit(mg.m.Name + ": ForwardBatch: out is shorter than in")))}
	body = append(body, tilesThenRest(tiled,
		[]jen.Code{
			jen.Var().Id("o").Index().Id(O),
			jen.If(jen.Id("out").Op("!=").Nil()).Block(jen.Id("o").Op("=").Id("out").Index(jen.Id("s").Op(":").Id("s").Op("+").Id("tile"))),
			jen.Id("loss").Op("+=").Id("p").Dot("forwardTile").Call(jen.Id("ws"), jen.Id("o")),
		},
		func(i *jen.Statement) []jen.Code {
			return []jen.Code{
				jen.Var().Id("o").Op("*").Id(O),
				jen.If(jen.Id("out").Op("!=").Nil()).Block(jen.Id("o").Op("=").Op("&").Id("out").Index(i.Clone())),
				jen.Id("loss").Op("+=").Id("p").Dot("Forward").Call(jen.Op("&").Id("ws").Dot("one"), jen.Op("&").Id("in").Index(i.Clone()), jen.Id("o")),
			}
		})...)
	doc := wrapDoc("ForwardBatch returns the sum of the losses of the samples in, and if out is not nil (it must then be at least as long as in) sets out[s] to the outputs of sample in[s], as Forward called on each would, to rounding. It computes the samples one at a time.")
	if tiled != "" {
		doc = wrapDoc(fmt.Sprintf("ForwardBatch returns the sum of the losses of the samples in, and if out is not nil (it must then be at least as long as in) sets out[s] to the outputs of sample in[s], as Forward called on each would, to rounding. Where %s says so, it computes the samples a tile at a time (see Tile).", tiled))
	}
	return comments(doc).Func().Params(mg.recv()).Id("ForwardBatch").Params(mg.batchWS(), mg.inSlice(), jen.Id("out").Index().Id(O)).Float64().Block(body...)
}

// load emits the method that copies a tile of samples into the batch
// workspace, sample s into column s of each input, checking the integer
// inputs as Validate does.
func (mg *modelGen) load(bg *modelGen) jen.Code {
	var per []jen.Code
	if len(mg.rangeChecks(mg.m.Inputs, panicWith)) > 0 {
		per = append(per, jen.If(jen.Err().Op(":=").Id("in").Index(jen.Id("s")).Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(jen.Panic(jen.Err())))
	}
	for i, v := range mg.m.Inputs {
		bv := bg.m.Inputs[i]
		src := jen.Id("in").Index(jen.Id("s")).Dot(mg.fields[v])
		dst := jen.Id("ws").Dot(bg.fields[bv])
		if len(v.Shape) == 0 {
			per = append(per, dst.Index(jen.Id("s")).Op("=").Add(src))
			continue
		}
		vars := []string{"i", "j", "k", "l"} // a declared tensor has rank 4 at most
		for d := range v.Shape {
			src, dst = src.Index(jen.Id(vars[d])), dst.Index(jen.Id(vars[d]))
		}
		var st jen.Code = dst.Index(jen.Id("s")).Op("=").Add(src)
		for d := len(v.Shape) - 1; d >= 0; d-- {
			st = jen.For(jen.Id(vars[d]).Op(":=").Range().Lit(v.Shape[d])).Block(st)
		}
		per = append(per, st)
	}
	doc := wrapDoc("load copies the tile in into ws, sample s into column s of each input.")
	if len(per) == 0 {
		doc = wrapDoc(fmt.Sprintf("load does nothing: model %s has no inputs.", mg.m.Name))
		return comments(doc).Func().Params(jen.Op("*").Id(mg.typ("BatchWorkspace"))).Id("load").Params(jen.Index().Id(mg.typ("Inputs"))).Block()
	}
	return comments(doc).Func().Params(mg.batchWS()).Id("load").Params(mg.inSlice()).Block(
		jen.For(jen.Id("s").Op(":=").Range().Id("in")).Block(per...))
}

// lossGradTile emits the tile's LossGrad: the loss of the tile loaded in
// ws, its gradient added to g.
func (bg *modelGen) lossGradTile(overwrite bool) jen.Code {
	body := bg.lossGradBody(false, overwrite)
	name, doc := "lossGradTile", wrapDoc("lossGradTile returns the sum of the losses of the tile of samples loaded in ws and adds the sum of their gradients to g.")
	if overwrite {
		name, doc = "lossGradTileTo", wrapDoc("lossGradTileTo is lossGradTile that sets g to the tile's gradient instead, each entry written once (a weight gradient's kernel product writes rather than adds). "+bg.directSentence())
	}
	return comments(doc).Func().Params(bg.recv()).Id(name).Params(bg.batchWS(), bg.gradParam()).Float64().Block(body...)
}

// lossGradBatchTo emits LossGradBatchTo: for a large gradient, the first
// whole tile through lossGradTileTo (if the tile code is used: tiled is
// its variable, "" for a model with none), or else the first sample
// through LossGradTo, which set g, and the rest through LossGradBatch;
// for a small gradient, g cleared and LossGradBatch.
func (mg *modelGen) lossGradBatchTo(tiled string, tileTo bool) jen.Code {
	P := mg.typ("Params")
	var body []jen.Code
	rest := func(from jen.Code) jen.Code {
		return jen.Return(jen.Id("loss").Op("+").Id("p").Dot("LossGradBatch").Call(jen.Id("ws"), jen.Id("in").Index(jen.Add(from).Op(":")), jen.Id("g")))
	}
	if tileTo {
		body = append(body,
			jen.If(jen.Id(tiled).Op("&&").Len(jen.Id("in")).Op(">=").Id("ws").Dot("Tile").Call()).Block(
				jen.Id("tile").Op(":=").Id("ws").Dot("Tile").Call(),
				jen.Id("ws").Dot("load").Call(jen.Id("in").Index(jen.Op(":").Id("tile"))),
				jen.Id("loss").Op(":=").Id("p").Dot("lossGradTileTo").Call(jen.Id("ws"), jen.Id("g")),
				rest(jen.Id("tile")),
			))
	}
	if !mg.clearsCheaply() {
		body = append(body,
			jen.If(jen.Len(jen.Id("in")).Op(">").Lit(0)).Block(
				jen.Id("loss").Op(":=").Id("p").Dot("LossGradTo").Call(jen.Op("&").Id("ws").Dot("one"), jen.Op("&").Id("in").Index(jen.Lit(0)), jen.Id("g")),
				rest(jen.Lit(1)),
			))
	}
	body = append(body,
		jen.Op("*").Id("g").Op("=").Id(P).Values(),
		jen.Return(jen.Id("p").Dot("LossGradBatch").Call(jen.Id("ws"), jen.Id("in"), jen.Id("g"))))
	doc := wrapDoc("LossGradBatchTo is LossGradBatch that sets g to the sum of the samples' gradients instead of adding it: the first sample's gradient is written (by LossGradTo), not added to a cleared g.")
	switch {
	case tileTo:
		doc = wrapDoc(fmt.Sprintf("LossGradBatchTo is LossGradBatch that sets g to the sum of the samples' gradients instead of adding it: the first whole tile's weight gradients are written (where %s says so), or else the first sample's gradient (by LossGradTo), not added to a cleared g.", tiled))
	case mg.clearsCheaply():
		doc = wrapDoc("LossGradBatchTo is LossGradBatch that sets g to the sum of the samples' gradients instead of adding it. The gradient is small, so it clears g and calls LossGradBatch.")
	}
	return comments(doc).Func().Params(mg.recv()).Id("LossGradBatchTo").Params(mg.batchWS(), mg.inSlice(), mg.gradParam()).Float64().Block(body...)
}

// forwardTile emits the tile's Forward: the loss of the tile loaded in
// ws, and if out is not nil, the outputs of each sample s in out[s].
func (bg *modelGen) forwardTile() jen.Code {
	f, body := bg.newFn()
	isOut := map[*symbolic.Node]bool{}
	force := []*symbolic.Node{bg.m.Loss}
	for _, o := range bg.m.Outputs {
		isOut[o.Node] = true
		force = append(force, o.Node)
	}
	kept := func(n *symbolic.Node) bool { return isOut[n] }
	f.emitPlan(f.makePlan(nil, force), func(n *symbolic.Node) dest {
		if n.Shape.Size() > maxLocal || f.kernelVals[n] {
			return bg.bigSlot(n)
		}
		return f.newLocal(bg.localName(n, nil), n.Shape)
	}, kept)
	f.flush()
	if len(bg.m.Outputs) > 0 {
		per := f.collect(func() jen.Code {
			for i, o := range bg.m.Outputs {
				dst := fieldPlace("out[q]", bg.outputs[i])
				shape := o.Node.Shape[:len(o.Node.Shape)-1]
				f.loopNest(shape, loopVars(shape, func(d int) string { return f.locals.fresh("j") }), func(idx []ix) jen.Code {
					return f.write(dst, idx, "=", f.elem(o.Node, append(idx, vix("q"))))
				})
			}
			return nil
		})
		// q, a reserved name, cannot be a model's value's.
		f.add(jen.If(jen.Id("out").Op("!=").Nil()).Block(jen.For(jen.Id("q").Op(":=").Range().Id("out")).Block(per...)))
	}
	f.add(jen.Return(f.elem(bg.m.Loss, nil).c))
	f.end()
	doc := wrapDoc("forwardTile returns the sum of the losses of the tile of samples loaded in ws, and if out is not nil, sets out[s] to the outputs of sample s.")
	return comments(doc).Func().Params(bg.recv()).Id("forwardTile").Params(bg.batchWS(), jen.Id("out").Index().Id(bg.typ("Outputs"))).Float64().Block(*body...)
}
