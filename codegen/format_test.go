package codegen

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/backpropgen/backpropgen/parser"
	"github.com/backpropgen/backpropgen/symbolic"
)

// lower parses and lowers src.
func lower(t *testing.T, name string, src []byte) *symbolic.Program {
	t.Helper()
	file, err := parser.Parse(name, src)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := symbolic.Lower(file)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// shipped are the paths of the shipped models and the differential
// test's regression cases.
func shipped(t *testing.T) []string {
	var paths []string
	for _, pattern := range []string{"../testdata/*.bp", "../testdata/difftest/*.bp"} {
		m, _ := filepath.Glob(pattern)
		paths = append(paths, m...)
	}
	if len(paths) < 20 {
		t.Fatalf("found only %d models", len(paths))
	}
	return paths
}

// Rendering and formatting the file in parts, in parallel, gives what
// rendering it whole and formatting it as one gives (as jennifer does), for
// every shipped model and every regression case of the differential test,
// and for a file name that contains the marker.
func TestRenderInParts(t *testing.T) {
	check := func(name string, src []byte) {
		opts := Options{Package: "m"}
		prog := lower(t, name, src)
		grads := prog.Differentiate()
		parts, err := generate(prog, grads, opts, false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		whole, err := generate(prog, grads, opts, true)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(parts) != string(whole) {
			t.Errorf("%s: rendered in parts:\n%s\nrendered whole:\n%s", name, parts, whole)
		}
	}
	for _, path := range shipped(t) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		check(filepath.Base(path), src)
	}
	check("x\n// "+cutMarker+"\n.bp", []byte("fn f(x) = exp(x) * x\nfn g(x, y) = f(x) + y\n"))
}

// indentComments indents the comments in the body of a function as
// jennifer renders it, and no others.
func TestIndentComments(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"// F is f. \n // More. \n func F () {\n// a\nx := 1\n// b\n}\n",
			"// F is f. \n // More. \n func F () {\n\t// a\nx := 1\n\t// b\n}\n"},
		{"// F.\n func F () {\n// a\n}\n// G.\n func G () {\n// b\n}\n",
			"// F.\n func F () {\n// a\n}\n// G.\n func G () {\n// b\n}\n"}, // two functions
		{"// T.\ntype T struct {\n// a\n}\n", "// T.\ntype T struct {\n// a\n}\n"}, // no function
	} {
		if got := string(indentComments([]byte(c.in))); got != c.want {
			t.Errorf("indentComments(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
