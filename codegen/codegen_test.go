package codegen

import (
	"os"
	"path/filepath"
	"slices"
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
