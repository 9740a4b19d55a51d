package backpropgen_test

import (
	"fmt"
	"go/scanner"
	"go/token"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/parser"
)

// Formatting preserves a model's meaning: each shipped model, its white
// space scrambled (and, in the second variant, its statements run
// together on fewer lines), formats back to the shipped text, and the
// scrambled model and the formatted one generate the same Go, to the byte
// once the white space of each line is dropped while lines do not move
// (the comments quote the .bp lines), and otherwise the same Go syntax
// tree, comments aside.
func TestFormatPreservesMeaning(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bp")
	more, _ := filepath.Glob("testdata/difftest/*.bp")
	files = append(files, more...)
	if len(files) < 40 {
		t.Fatalf("only %d models", len(files))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		want, err := backpropgen.Generate(name, src, "p")
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, join := range []bool{false, true} {
			ugly := scramble(r, string(src), join)
			formatted, err := parser.Format(name, []byte(ugly))
			if err != nil {
				t.Errorf("%s: scrambled model does not format: %v\n%s", path, err, ugly)
				continue
			}
			if diff := cmp.Diff(string(src), string(formatted)); diff != "" {
				t.Errorf("%s: scrambled (join %v) and formatted differs from the shipped model (-want +got):\n%s\nscrambled:\n%s", path, join, diff, ugly)
			}
			got, err := backpropgen.Generate(name, []byte(ugly), "p")
			if err != nil {
				t.Errorf("%s: scrambled model does not compile: %v\n%s", path, err, ugly)
				continue
			}
			if !join {
				if diff := cmp.Diff(dropSpace(want), dropSpace(got)); diff != "" {
					t.Errorf("%s: scrambled model generates other Go (-formatted +scrambled, white space dropped):\n%s", path, diff)
				}
			}
			if diff := cmp.Diff(goSyntax(t, want), goSyntax(t, got)); diff != "" {
				t.Errorf("%s (join %v): scrambled model generates other Go (-formatted +scrambled, comments dropped):\n%s", path, join, diff)
			}
		}
	}
}

var (
	spaceAroundPunct = regexp.MustCompile(`[ \t]*(\+=|\.\.|[-+*/^@=(),\[\]{}])[ \t]*`)
	spaceRun         = regexp.MustCompile(`[ \t]+`)
)

// scramble changes the white space of a .bp source without changing its
// tokens or moving them to other lines: indentation, the spaces around
// punctuation (dropped, or made a tab or several), trailing spaces and
// line ends; with join, it also runs statement lines into the line
// before, and adds blank lines.
func scramble(r *rand.Rand, src string, join bool) string {
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	ws := func() string { return [...]string{"", " ", "  ", "\t", " \t "}[r.IntN(5)] }
	var out []string
	for _, line := range lines {
		code, comment, hasComment := strings.Cut(line, "//")
		code = spaceAroundPunct.ReplaceAllStringFunc(code, func(m string) string {
			return ws() + strings.Trim(m, " \t") + ws()
		})
		code = spaceRun.ReplaceAllStringFunc(code, func(string) string { return [...]string{" ", "  ", "\t"}[r.IntN(3)] })
		code = ws() + strings.TrimLeft(code, " \t")
		if hasComment {
			code += ws() + "//" + comment
		}
		code += ws()
		prev := len(out) - 1
		switch {
		case join && prev >= 0 && strings.TrimSpace(code) != "" && !hasComment && strings.TrimSpace(out[prev]) != "" &&
			!strings.Contains(out[prev], "//") && r.IntN(2) == 0:
			out[prev] += " " + code
		default:
			out = append(out, code)
			if join && strings.TrimSpace(code) == "" && r.IntN(2) == 0 {
				out = append(out, ws())
			}
		}
	}
	switch {
	case join && r.IntN(2) == 0:
		return "\n \n" + strings.Join(out, "\n") + "\n\n"
	case r.IntN(2) == 0:
		return strings.Join(out, "\r\n") + "\r\n"
	}
	return strings.Join(out, "\n")
}

// dropSpace removes the white space of each line.
func dropSpace(b []byte) string {
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), "")
	}
	return strings.Join(lines, "\n")
}

// goSyntax returns the tokens of Go source, without its comments, one a
// line.
func goSyntax(t *testing.T, src []byte) string {
	t.Helper()
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("x.go", -1, len(src)), src, func(pos token.Position, msg string) { t.Fatalf("%v: %s", pos, msg) }, 0)
	var b strings.Builder
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			return b.String()
		}
		fmt.Fprintf(&b, "%s %s\n", tok, lit)
	}
}

// The excerpts of models in the README and docs/LANGUAGE.md (fenced as
// bp) parse and are formatted.
func TestDocExcerptsFormatted(t *testing.T) {
	fence := regexp.MustCompile("(?s)```bp\n(.*?)```")
	n := 0
	for _, doc := range []string{"README.md", "docs/LANGUAGE.md"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range fence.FindAllSubmatch(text, -1) {
			n++
			got, err := parser.Format(doc, m[1])
			if err != nil {
				t.Errorf("%s: excerpt does not parse: %v\n%s", doc, err, m[1])
				continue
			}
			if diff := cmp.Diff(string(m[1]), string(got)); diff != "" {
				t.Errorf("%s: excerpt is not formatted (-want +got):\n%s", doc, diff)
			}
		}
	}
	if n < 5 {
		t.Errorf("only %d excerpts fenced as bp", n)
	}
}
