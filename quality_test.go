package backpropgen_test

import (
	"fmt"
	"github.com/backpropgen/backpropgen/internal/kernels"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The generated code is what an expert would write, in the ways a program
// can check, over every checked-in generated package:
//   - no local is written and never read (an array assigned element by
//     element and then dropped is dead work);
//   - no local is a copy of another (a := db1i);
//   - no local holds a constant (dloss = 1, carried through a loop);
//   - no multiplication or division by a literal 1, no subtraction of a
//     literal 0. (x + 0 stays: it is not x when x is −0.)
func TestGeneratedCodeQuality(t *testing.T) {
	files, _ := filepath.Glob("generated/*/*_grad.go")
	if len(files) < 15 {
		t.Fatalf("found %d generated files", len(files))
	}
	for _, path := range files {
		for _, msg := range qualityProblems(t, path) {
			t.Errorf("%s", msg)
		}
	}
}

// qualityProblems type-checks the generated file at path (alone: generated
// files import only the standard library) and lists what it finds.
func qualityProblems(t *testing.T, path string) []string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	info := &types.Info{Defs: map[*ast.Ident]types.Object{}, Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: importer.Default()}
	if _, err := conf.Check(f.Name.Name, fset, []*ast.File{f}, info); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	q := &quality{fset: fset, info: info, reads: map[types.Object]int{}, writes: map[types.Object][]ast.Expr{}}
	kernelFuncs := kernelNames(t)
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil && !kernelFuncs[strings.TrimPrefix(fd.Name.Name, f.Name.Name)] {
			q.fn(fd)
		}
	}
	return q.problems
}

// kernelNames are the names of package kernels' functions, first letter
// upper-cased as codegen prefixes them: hand-written code copied into
// generated files, not codegen's output, so not what these checks are for.
func kernelNames(t *testing.T) map[string]bool {
	f, err := parser.ParseFile(token.NewFileSet(), "kernels.go", kernels.Source, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			names[strings.ToUpper(fd.Name.Name[:1])+fd.Name.Name[1:]] = true
		}
	}
	return names
}

type quality struct {
	fset     *token.FileSet
	info     *types.Info
	locals   []types.Object
	reads    map[types.Object]int
	writes   map[types.Object][]ast.Expr // the values assigned with =, nil for other writes
	problems []string
}

func (q *quality) report(pos token.Pos, format string, args ...any) {
	p := q.fset.Position(pos)
	q.problems = append(q.problems, p.String()+": "+fmt.Sprintf(format, args...))
}

// fn checks one function.
func (q *quality) fn(fd *ast.FuncDecl) {
	q.locals = q.locals[:0]
	pure := map[*ast.Ident]bool{} // identifiers in a write-only position
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec:
			for _, id := range n.Names {
				q.locals = append(q.locals, q.info.Defs[id])
			}
		case *ast.AssignStmt:
			q.assign(n, pure)
		case *ast.IncDecStmt: // a loop variable's i++ or t--
			if id, ok := n.X.(*ast.Ident); ok {
				q.writes[q.info.Uses[id]] = append(q.writes[q.info.Uses[id]], nil)
			}
		case *ast.BinaryExpr:
			q.identity(n)
		}
		return true
	})
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && !pure[id] {
			if obj := q.info.Uses[id]; obj != nil {
				q.reads[obj]++
			}
		}
		return true
	})
	for _, obj := range q.locals {
		if obj == nil || obj.Name() == "_" {
			continue
		}
		switch ws := q.writes[obj]; {
		case q.reads[obj] == 0:
			q.report(obj.Pos(), "%s is written and never read", obj.Name())
		case len(ws) > 0 && allLiterals(ws):
			q.report(obj.Pos(), "%s holds a constant", obj.Name())
		}
	}
}

// assign records the locals an assignment defines and writes, and marks
// the identifiers it only writes: x in x = e and x[i][j] = e.
func (q *quality) assign(n *ast.AssignStmt, pure map[*ast.Ident]bool) {
	for i, lhs := range n.Lhs {
		root := lhs
		for {
			ix, ok := root.(*ast.IndexExpr)
			if !ok {
				break
			}
			root = ix.X
		}
		id, ok := root.(*ast.Ident)
		if !ok {
			continue
		}
		var rhs ast.Expr
		if len(n.Rhs) == len(n.Lhs) {
			rhs = n.Rhs[i]
		}
		switch n.Tok {
		case token.DEFINE:
			obj := q.info.Defs[id]
			if obj == nil { // redeclared in a multi-value :=
				continue
			}
			q.locals = append(q.locals, obj)
			q.writes[obj] = append(q.writes[obj], rhs)
			if r, ok := rhs.(*ast.Ident); ok && isLocal(q.info.Uses[r]) {
				q.report(n.Pos(), "%s is a copy of %s", id.Name, r.Name)
			}
			pure[id] = true
		case token.ASSIGN:
			if obj := q.info.Uses[id]; obj != nil {
				q.writes[obj] = append(q.writes[obj], rhs)
				pure[id] = true
			}
		default: // x += e reads x
			if obj := q.info.Uses[id]; obj != nil {
				q.writes[obj] = append(q.writes[obj], nil)
			}
		}
	}
}

// identity reports x*1, 1*x, x/1 and x-0, which equal x for every x.
func (q *quality) identity(n *ast.BinaryExpr) {
	isLit := func(e ast.Expr, v string) bool {
		b, ok := ast.Unparen(e).(*ast.BasicLit)
		return ok && b.Value == v
	}
	switch n.Op {
	case token.MUL:
		if isLit(n.X, "1") || isLit(n.Y, "1") {
			q.report(n.Pos(), "a product with 1")
		}
	case token.QUO:
		if isLit(n.Y, "1") {
			q.report(n.Pos(), "a division by 1")
		}
	case token.SUB:
		if isLit(n.Y, "0") {
			q.report(n.Pos(), "a difference with 0")
		}
	}
}

// isLocal reports whether obj is a variable declared in a function body
// (not a parameter, a field or a package-level variable).
func isLocal(obj types.Object) bool {
	v, ok := obj.(*types.Var)
	if !ok || v.IsField() || v.Parent() == nil || v.Parent() == v.Pkg().Scope() {
		return false
	}
	// Parameters live in the function's own scope; locals in a scope
	// inside it.
	fn := v.Parent()
	for fn.Parent() != nil && fn.Parent() != v.Pkg().Scope() {
		fn = fn.Parent()
	}
	return v.Parent() != fn
}

// allLiterals reports whether every value is a literal (a nil value is a
// write of another kind, such as +=).
func allLiterals(values []ast.Expr) bool {
	for _, v := range values {
		if v == nil {
			return false
		}
		e := ast.Unparen(v)
		if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.SUB {
			e = u.X
		}
		if _, ok := e.(*ast.BasicLit); !ok {
			return false
		}
	}
	return true
}

// The quality checks find each problem they look for, and nothing in code
// that has none.
func TestQualityChecksFindProblems(t *testing.T) {
	src := `package m

func F(x [4]float64) float64 {
	var dead [4]float64
	for i := range 4 {
		dead[i] = x[i] * 2
	}
	var one float64
	one = 1
	y := x[0] * 1
	z := y
	var acc float64
	for i := 3; i >= 0; i-- {
		acc += x[i] - 0
	}
	row := &x
	row[0] += acc
	return z + one + acc + row[0]
}
`
	path := filepath.Join(t.TempDir(), "m_grad.go")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(qualityProblems(t, path), "\n")
	for _, want := range []string{"dead is written and never read", "one holds a constant", "a product with 1", "z is a copy of y", "a difference with 0"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	for _, clean := range []string{"acc", "row", " i "} {
		if strings.Contains(got, clean) {
			t.Errorf("reported %q:\n%s", clean, got)
		}
	}
}
