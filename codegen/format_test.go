package codegen

import (
	"go/format"
	"strings"
	"testing"
)

// formatParts gives what go/format gives for the whole file, whether the
// file is cut at its markers or, when a marker also occurs in a comment,
// formatted whole.
func TestFormatParts(t *testing.T) {
	m := "\n// " + cutMarker + "\n"
	for _, c := range []struct {
		name string
		src  string
		cuts int
	}{
		{"cut", "// header\n\npackage p\n\nimport (\n\"math\"\n)\n\ntype T struct {\nA float64 // a\nBee [2]float64 // b\n}\n" + m +
			"// F is f.\nfunc F(x float64) float64 {\n// m.bp:3: y = exp(x)\nif x > 0 {\n// backward of m.bp:2: a = b * c\nreturn math.Exp(x)\n}\nreturn 0\n}\n" + m +
			"// G is g.\nfunc G() {\nfor i := range 4 {\n_ = i\n}\n}\n\n" + m + "var (\na = 1\nbb = 2\n)\n", 3},
		{"marker in a comment", "// from x" + m + "\npackage p\n" + m + "func F() {\n}\n", 1},
		{"no cuts", "package p\nfunc F() {\nreturn\n}\n", 0},
	} {
		got, err := formatParts([]byte(c.src), c.cuts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		whole, err := format.Source([]byte(strings.ReplaceAll(c.src, m, "\n")))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(got) != string(whole) {
			t.Errorf("%s: formatParts gives\n%s\nformatting the whole file gives\n%s", c.name, got, whole)
		}
	}
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
