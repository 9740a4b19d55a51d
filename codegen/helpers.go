package codegen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"sort"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/backpropgen/backpropgen/internal/opmath"
)

// helpers are the small functions generated code calls for ops that are not
// one expression in Go (goForm.helper names them). Their one definition is
// package opmath, which symbolic calls to evaluate the same ops; each is
// copied from opmath's source once per file, only if used, under a name
// prefixed by the model's, so two models can share a package.
var helpers = parseHelpers(opmath.Source)

// helper is one function of opmath's source: its text, and the places in
// it that codegen rewrites.
type helper struct {
	text  string
	edits []edit // in text order
}

// edit replaces text[start:end]: by the helper's generated name (name
// set), or by a reference to package math's member sel, which jennifer
// then imports.
type edit struct {
	start, end int
	name       bool
	sel        string
}

// parseHelpers reads opmath's exported functions. It panics on source that
// breaks opmath's rules: a test makes sure it does not.
func parseHelpers(src string) map[string]*helper {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "opmath.go", src, parser.ParseComments)
	if err != nil {
		panic(err)
	}
	funcs := map[string]bool{}
	for _, d := range file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			funcs[fd.Name.Name] = true
		}
	}
	out := map[string]*helper{}
	for _, d := range file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.IsExported() {
			out[fd.Name.Name] = newHelper(fset, src, fd, funcs)
		}
	}
	return out
}

// newHelper is the helper of fd, one of the functions funcs of src.
func newHelper(fset *token.FileSet, src string, fd *ast.FuncDecl, funcs map[string]bool) *helper {
	name := fd.Name.Name
	if fd.Doc == nil || !strings.HasPrefix(fd.Doc.List[0].Text, "// "+name+" ") {
		panic(fmt.Sprintf("opmath: %s needs a doc comment that starts with its name", name))
	}
	start := fset.Position(fd.Doc.Pos()).Offset
	off := func(p token.Pos) int { return fset.Position(p).Offset - start }
	h := &helper{text: src[start : start+off(fd.End())]}
	h.edits = append(h.edits, edit{start: len("// "), end: len("// ") + len(name), name: true})
	ast.Inspect(fd, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if x, ok := n.X.(*ast.Ident); ok && x.Name == "math" {
				h.edits = append(h.edits, edit{start: off(n.Pos()), end: off(n.End()), sel: n.Sel.Name})
				return false
			}
		case *ast.Ident:
			switch {
			case n == fd.Name:
				h.edits = append(h.edits, edit{start: off(n.Pos()), end: off(n.End()), name: true})
			case funcs[n.Name]:
				panic(fmt.Sprintf("opmath: %s calls %s; helpers must not call each other", name, n.Name))
			}
		}
		return true
	})
	sort.Slice(h.edits, func(i, j int) bool { return h.edits[i].start < h.edits[j].start })
	return h
}

// code is the helper's declaration, doc comment included, named id. Text
// is one token, as jennifer separates tokens by spaces (which go/format
// removes, but not inside a comment); only math's members are tokens of
// their own.
func (h *helper) code(id string) *jen.Statement {
	var s jen.Statement
	var text strings.Builder
	at := 0
	for _, e := range h.edits {
		text.WriteString(h.text[at:e.start])
		at = e.end
		if e.name {
			text.WriteString(id)
			continue
		}
		s = append(s, jen.Op(text.String()), jen.Qual("math", e.sel))
		text.Reset()
	}
	text.WriteString(h.text[at:])
	s = append(s, jen.Op(text.String()))
	return &s
}

// emitHelpers writes the helpers used, in name order.
func (fg *fileGen) emitHelpers() {
	var names []string
	for n := range fg.usedHelpers {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fg.f.Add(helpers[n].code(fg.helperName(n)))
		fg.f.Line()
	}
}

func (fg *fileGen) helperName(h string) string {
	if helpers[h] == nil {
		panic("codegen: no helper " + h + " in package opmath")
	}
	fg.helpersMu.Lock()
	fg.usedHelpers[h] = true
	fg.helpersMu.Unlock()
	return fg.prefix + exported(h)
}
