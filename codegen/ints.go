package codegen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// Integer inputs: a scalar (input k int) is an int field, a tensor (input
// labels[T] int) an array of ints. A position given at run time is one
// of them or a loop variable, or an element of an integer tensor
// (labels[t]), which is an index node of the input's leaf.

// intType is the Go type of an integer input of shape s.
func intType(s symbolic.Shape) *jen.Statement {
	t := jen.Null()
	for _, d := range s {
		t = t.Index(jen.Lit(d))
	}
	return t.Int()
}

// intIx is the index expression of the position d: its variable, or for
// an element of an integer tensor the element, read through access (so
// that the loop variables it uses are counted). sample, if not nil, is the
// index of the sample axis of a batched position ([B]-shaped), appended.
func (f *fnGen) intIx(d *symbolic.Node, sample []ix) ix {
	if v, c := symbolic.ShiftOf(d); c != 0 { // a loop variable plus c: t-1
		return f.intIx(v, sample).plus(c)
	}
	if d.Op.Code != symbolic.OpIndex {
		p, ok := f.slots[d]
		if !ok {
			panic("codegen: no variable for the position " + d.String())
		}
		if len(sample) == 0 {
			return vix(p.base())
		}
		return lazyElem(p, sample)
	}
	return lazyElem(f.slots[d.Args[0]], append(f.indexes(d), sample...))
}

// lazyElem is element idx of the integer input p as an index, whose loop
// variables are counted where it is used, not here: an index of a
// constant, or into an axis of size 1, is folded away, and a loop variable
// counted for it would be declared and not used. (An integer input is
// never written, so the read needs no record for fusion.)
func lazyElem(p place, idx []ix) ix {
	x := vix(elemKey(p.base(), idx))
	for _, i := range idx {
		if i.v != "" {
			x.deps += i.v + " "
		}
		x.deps += i.deps
	}
	return x
}

// countDeps counts the uses of the loop variables in deps (ix.deps).
func (f *fnGen) countDeps(deps string) {
	for _, v := range strings.Fields(deps) {
		f.uses.index[v]++
	}
}

// intRangeCheck is Validate's check of integer input v, stored in field,
// whose values must lie in 0..v.Range-1: of the value, or of every
// element of a tensor, in loops over i, j, k.
func (mg *modelGen) intRangeCheck(v *symbolic.Var, field *jen.Statement, fail func(err jen.Code) jen.Code) jen.Code {
	if len(v.Shape) == 0 {
		return jen.If(field.Clone().Op("<").Lit(0).Op("||").Add(field.Clone()).Op(">=").Lit(v.Range)).Block(
			fail(jen.Qual("fmt", "Errorf").Call(
				jen.Lit(fmt.Sprintf("%s: input %s = %%d is outside its range 0..%d", mg.m.Name, v.Name, v.Range-1)), field.Clone())),
		)
	}
	vars := []string{"i", "j", "k"}[:len(v.Shape)]
	elem, at, args := field.Clone(), "", []jen.Code(nil)
	for _, x := range vars {
		elem = elem.Index(jen.Id(x))
		at += "[%d]"
		args = append(args, jen.Id(x))
	}
	var st jen.Code = jen.If(jen.Id("v").Op(":=").Add(elem), jen.Id("v").Op("<").Lit(0).Op("||").Id("v").Op(">=").Lit(v.Range)).Block(
		fail(jen.Qual("fmt", "Errorf").Call(append([]jen.Code{
			jen.Lit(fmt.Sprintf("%s: input %s%s = %%d is outside its range 0..%d", mg.m.Name, v.Name, at, v.Range-1))}, append(args, jen.Id("v"))...)...)),
	)
	for d := len(v.Shape) - 1; d >= 0; d-- {
		st = jen.For(jen.Id(vars[d]).Op(":=").Range().Lit(v.Shape[d])).Block(st)
	}
	return st
}

// intCount is the number of ints in the integer inputs vars.
func intCount(vars []*symbolic.Var) int {
	n := 0
	for _, v := range vars {
		n += v.Shape.Size()
	}
	return n
}
