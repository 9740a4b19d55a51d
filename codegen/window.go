package codegen

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/symbolic"
)

// The windows of convolutions and pooling (symbolic/layers.go): a window
// reads its argument at o·stride + k + offset along each axis, an index
// computed in the generated code from the loop variables (oh*2 + kh), and
// an unwindow adds its argument's elements into those places.

// windowIndex is the index into a window's argument of element idx of the
// window, or the index into an unwindow's result of element idx of its
// argument.
func windowIndex(n *symbolic.Node, idx []ix) []ix {
	offsets, terms := symbolic.WindowSpec(n)
	src := make([]ix, len(offsets))
	for a, ts := range terms {
		var parts []ix
		for _, t := range ts {
			parts = append(parts, scaled(idx[t.Axis], t.Stride))
		}
		src[a] = sumIx(parts, offsets[a])
	}
	return src
}

// identifier matches a Go identifier: a loop variable, which an index
// built from it must count as used (ix.deps).
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// scaled is x·k.
func scaled(x ix, k int) ix {
	if k == 1 || x.v == "" {
		return ix{v: x.v, off: x.off * k, deps: x.deps}
	}
	v := x.v
	if !identifier.MatchString(v) && !strings.HasSuffix(v, "]") {
		v = "(" + v + ")"
	}
	return ix{v: v + "*" + strconv.Itoa(k), off: x.off * k, deps: depsOf(x)}
}

// depsOf is the loop variables x reads.
func depsOf(x ix) string {
	if identifier.MatchString(x.v) {
		return strings.TrimSpace(x.deps + " " + x.v)
	}
	return x.deps
}

// sumIx is the sum of terms and off, as one index.
func sumIx(terms []ix, off int) ix {
	var vars []ix
	for _, t := range terms {
		off += t.off
		if t.v != "" {
			vars = append(vars, t)
		}
	}
	switch len(vars) {
	case 0:
		return cix(off)
	case 1:
		return ix{v: vars[0].v, off: off, deps: vars[0].deps}
	}
	var v, deps []string
	for _, t := range vars {
		v = append(v, t.v)
		if d := depsOf(t); d != "" {
			deps = append(deps, d)
		}
	}
	return ix{v: strings.Join(v, "+"), off: off, deps: strings.Join(deps, " ")}
}

// emitUnwindow writes unwindow n into d: cleared (unless d is added to),
// and then each element of its argument added where the window reads it.
// Windows may overlap (a convolution's, stride below the kernel), so the
// elements are added, never assigned.
func (f *fnGen) emitUnwindow(n *symbolic.Node, d dest) {
	switch d.op {
	case ":=":
		f.declareVar(d.p.name(), n.Shape)
		if f.out.declTop != nil { // declared once before the loop: cleared each step
			f.add(f.lvalue(d.p, nil).Op("=").Add(arrayType(n.Shape)).Values())
		}
	case "=":
		f.add(f.lvalue(d.p, nil).Op("=").Add(arrayType(n.Shape)).Values())
	}
	// Not a loop that fusion may join (f.loop): it writes elements of d
	// other than element idx, which fusion assumes.
	x := n.Args[0]
	f.loopNest(x.Shape, loopVars(x.Shape, func(int) string { return f.locals.fresh("i") }), func(idx []ix) jen.Code {
		return f.write(d.p, windowIndex(n, idx), "+=", f.elem(x, idx))
	})
}
