package codegen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"sort"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/internal/kernels"
	"github.com/backpropgen/backpropgen/symbolic"
)

// Matrix products of two matrices (a model's W @ X, and the batched
// model's products over a tile and their derivatives) are calls of the
// register-blocked kernels of package kernels, whose source is copied
// into the generated file with every top-level name prefixed by the
// model's (GemmNN becomes mnistGemmNN). The kernels are func variables:
// the companion file SIMD returns, built only with GOEXPERIMENT=simd on
// amd64, replaces them at init with archsimd kernels where the CPU has
// AVX-512 or AVX2.

// gemmMin is the smallest matrix product, in multiply-adds, that is a
// kernel call: below it the call and the kernel's edge handling cost more
// than the loops, which Go compiles with the shapes as constants.
const gemmMin = 4096

// gemm is a matrix product n = op(a) op(b) as a kernel computes it.
type gemm struct {
	kernel  string // GemmNN, GemmNT or GemmTN
	a, b    *symbolic.Node
	m, n, k int
}

// gemmOf returns the kernel form of n, if n is a product of two stored
// matrices, at most one of them transposed, big enough for a kernel.
func (f *fnGen) gemmOf(n *symbolic.Node) (gemm, bool) {
	if n.Op.Code != symbolic.OpMatMul || len(n.Args[0].Shape) != 2 || len(n.Args[1].Shape) != 2 {
		return gemm{}, false
	}
	a, b := n.Args[0], n.Args[1]
	g := gemm{kernel: "GemmNN", a: a, b: b, m: n.Shape[0], n: n.Shape[1], k: a.Shape[1]}
	switch at, bt := a.Op.Code == symbolic.OpTranspose, b.Op.Code == symbolic.OpTranspose; {
	case at && bt:
		return gemm{}, false
	case at:
		g.kernel, g.a = "GemmTN", a.Args[0]
	case bt:
		g.kernel, g.b = "GemmNT", b.Args[0]
	}
	// Only fields (p.W, ws.h[t], in.X) are operands: a local array passed
	// to a func variable escapes, and a fn has no workspace to put it in.
	pa, okA := f.operand(g.a)
	pb, okB := f.operand(g.b)
	return g, f.wsAlloc != nil && okA && okB && len(pa.path) > 1 && len(pb.path) > 1 && g.m*g.n*g.k >= gemmMin
}

// operand is where the matrix x of a kernel product is: its variable, or
// for x = W[l], a matrix of a stored rank-3 tensor (a layer's weights in a
// deep stack), the place of that matrix.
func (f *fnGen) operand(x *symbolic.Node) (place, bool) {
	if p, ok := f.slots[x]; ok {
		return p, true
	}
	if x.Op.Code == symbolic.OpIndex {
		if pa, ok := f.slots[x.Args[0]]; ok {
			return pa.at(f.indexes(x)...), true
		}
	}
	return place{}, false
}

// markKernelVals records in f.kernelVals the operands and results of the
// kernel products among nodes.
func (f *fnGen) markKernelVals(nodes []*symbolic.Node) {
	if f.kernelVals == nil {
		f.kernelVals = map[*symbolic.Node]bool{}
	}
	for _, n := range nodes { // added to, not reset: a loop body's plan is made amid its function's

		if !bigProduct(n) {
			continue
		}
		f.kernelVals[n] = true
		for _, a := range n.Args {
			if a.Op.Code == symbolic.OpTranspose {
				a = a.Args[0]
			}
			f.kernelVals[a] = true
		}
	}
	f.markContractions(nodes)
}

// emitGemm writes the product g into d with one kernel call.
func (f *fnGen) emitGemm(g gemm, d dest) {
	pa, _ := f.operand(g.a)
	pb, _ := f.operand(g.b)
	// The whole of each is read (and c written): nil indices, then the
	// first element, which the kernel's slice starts at.
	first := func(c *jen.Statement) *jen.Statement { return c.Index(jen.Lit(0)).Index(jen.Lit(0)) }
	a := first(f.access(pa, nil).c)
	b := first(f.access(pb, nil).c)
	if d.op == "+=" {
		f.tally(read, d.p.base())
	}
	c := first(f.lvalue(d.p, nil))
	f.add(jen.Id(f.fg.kernelName(g.kernel)).Call(jen.Lit(g.m), jen.Lit(g.n), jen.Lit(g.k),
		flatFrom(a, g.a.Shape.Size()), flatFrom(b, g.b.Shape.Size()), flatFrom(c, g.m*g.n), jen.Lit(d.op == "+=")))
}

// flatFrom is the slice of the n numbers from the element c on, which a
// kernel takes: unsafe.Slice(&c, n), c the first element of an array.
func flatFrom(c *jen.Statement, n int) jen.Code {
	return jen.Qual("unsafe", "Slice").Call(jen.Op("&").Add(c), jen.Lit(n))
}

// kernelName marks the kernels used and returns the generated name of k.
func (fg *fileGen) kernelName(k string) string {
	fg.helpersMu.Lock()
	fg.usesKernels = true
	fg.helpersMu.Unlock()
	return fg.prefix + k
}

// emitKernels copies the portable kernels into the file, if used.
func (fg *fileGen) emitKernels() {
	if !fg.usesKernels {
		return
	}
	fg.f.Add(jen.Op(renameTop(kernels.Source, fg.prefix)))
	fg.f.Line()
}

// SIMD returns the companion file of main, the file Generate made for
// prog: the archsimd kernels, built only with GOEXPERIMENT=simd on amd64,
// and an init that puts them in place of the portable ones. It returns
// nil if main calls no kernels.
func SIMD(prog *symbolic.Program, main []byte, opts Options) ([]byte, error) {
	prefix := helperPrefix(prog)
	if !bytes.Contains(main, []byte("\nvar "+prefix+"GemmNN = ")) {
		return nil, nil
	}
	var b bytes.Buffer
	b.WriteString("// Code generated by backpropgen from " + prog.File + ". DO NOT EDIT.\n\n")
	b.WriteString("//go:build goexperiment.simd && amd64\n\n")
	b.WriteString("package " + opts.Package + "\n\n")
	b.WriteString("import \"simd/archsimd\"\n\n")
	b.WriteString(renameTop(kernels.SIMDSource, prefix, kernels.Source))
	b.WriteString(simdTiledInit(main, prefix))
	return formatSource(b.Bytes())
}

// renameTop returns the declarations of the Go file src (without its
// package clause and imports) with every top-level name, its own and those
// of the files of the same package in others, and every use of one,
// prefixed: Name becomes prefixName.
func renameTop(src, prefix string, others ...string) string {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "kernels.go", src, parser.ParseComments)
	if err != nil {
		panic(fmt.Sprintf("codegen: kernels: %v", err))
	}
	top := map[string]bool{}
	for _, o := range others {
		f, err := parser.ParseFile(token.NewFileSet(), "other.go", o, 0)
		if err != nil {
			panic(fmt.Sprintf("codegen: kernels: %v", err))
		}
		topNames(f, top)
	}
	topNames(file, top)
	// Rename every identifier but a selector's field or method name.
	sels := map[*ast.Ident]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok {
			sels[s.Sel] = true
		}
		return true
	})
	var edits []int // offsets of identifiers to prefix
	ast.Inspect(file, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && top[id.Name] && !sels[id] {
			edits = append(edits, fset.Position(id.Pos()).Offset)
		}
		return true
	})
	sort.Ints(edits)
	var start int
	if len(file.Imports) > 0 || file.Doc != nil {
		// Declarations start after the imports; keep comments before the
		// first declaration (a doc comment of the file's).
		end := fset.Position(file.Name.End()).Offset
		for _, im := range file.Imports {
			end = max(end, fset.Position(im.End()).Offset)
		}
		if gd, ok := file.Decls[0].(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
			end = max(end, fset.Position(gd.End()).Offset)
		}
		start = end
	} else {
		start = fset.Position(file.Name.End()).Offset
	}
	var b strings.Builder
	at := start
	for _, e := range edits {
		if e < start {
			continue
		}
		b.WriteString(src[at:e])
		b.WriteString(prefix + exported(src[e:e+identLen(src[e:])]))
		at = e + identLen(src[e:])
	}
	b.WriteString(src[at:])
	return strings.TrimSpace(b.String()) + "\n"
}

// topNames adds the top-level names of file (but init) to top.
func topNames(file *ast.File, top map[string]bool) {
	for _, d := range file.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name != "init" {
				top[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.ValueSpec:
					for _, n := range s.Names {
						top[n.Name] = true
					}
				case *ast.TypeSpec:
					top[s.Name.Name] = true
				}
			}
		}
	}
}

func identLen(s string) int {
	for i, r := range s {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return i
		}
	}
	return len(s)
}

// formatSource is go/format's Source, via go/printer's canonical settings.
func formatSource(src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := (&printer.Config{Mode: printer.UseSpaces | printer.TabIndent, Tabwidth: 8}).Fprint(&b, fset, file); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
