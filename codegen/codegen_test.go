package codegen

import (
	"go/ast"
	"go/importer"
	goparser "go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen/symbolic"
)

// Generate is the last phase of a one-way pipeline: it reads the program
// and its derivatives and changes neither, so generating twice from one
// program gives the same bytes, and differentiating again changes nothing.
func TestGenerateDoesNotChangeTheProgram(t *testing.T) {
	for _, path := range shipped(t) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		prog := lower(t, name, src)
		grads := prog.Differentiate()
		sizes := graphSizes(prog)
		a, err := Generate(prog, grads, Options{Package: "m"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := graphSizes(prog); !slices.Equal(got, sizes) {
			t.Errorf("%s: Generate changed the graphs' sizes from %v to %v", name, sizes, got)
		}
		again := prog.Differentiate()
		if again.Model != grads.Model || len(again.Fns) != len(grads.Fns) {
			t.Errorf("%s: differentiating again made new derivatives", name)
		}
		b, err := Generate(prog, again, Options{Package: "m"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(a) != string(b) {
			t.Errorf("%s: generating twice from one program gave different Go", name)
		}
	}
}

func graphSizes(prog *symbolic.Program) []int {
	var n []int
	if prog.Model != nil {
		n = append(n, len(prog.Model.Graph.Nodes))
	}
	for _, fn := range prog.Fns {
		n = append(n, len(fn.Graph.Nodes))
	}
	return n
}

// A model over fuseMaxNodes gets a LossGrad (and LossGradTo) that calls
// Forward and then Backward (BackwardTo), and the file still type-checks.
func TestLargeModelLossGradCallsForwardAndBackward(t *testing.T) {
	saved := fuseMaxNodes
	fuseMaxNodes = 10
	defer func() { fuseMaxNodes = saved }()
	src, err := os.ReadFile("../testdata/mnist.bp")
	if err != nil {
		t.Fatal(err)
	}
	prog := lower(t, "mnist.bp", src)
	code, err := Generate(prog, prog.Differentiate(), Options{Package: "mnist"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"func (p *MnistParams) LossGrad(ws *MnistWorkspace, in *MnistInputs, g *MnistParams) float64 {\n\tloss := p.Forward(ws, in, nil)\n\tp.Backward(ws, in, g)\n\treturn loss\n}",
		"func (p *MnistParams) LossGradTo(ws *MnistWorkspace, in *MnistInputs, g *MnistParams) float64 {\n\tloss := p.Forward(ws, in, nil)\n\tp.BackwardTo(ws, in, g)\n\treturn loss\n}",
	} {
		if !strings.Contains(string(code), want) {
			t.Errorf("no\n%s\nin the generated code", want)
		}
	}
	fset := token.NewFileSet()
	f, err := goparser.ParseFile(fset, "mnist_grad.go", code, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&types.Config{Importer: importer.Default()}).Check("mnist", fset, []*ast.File{f}, nil); err != nil {
		t.Error(err)
	}
}
