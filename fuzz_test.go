package backpropgen_test

import (
	"bytes"
	"errors"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/internal/difftest"
	"github.com/backpropgen/backpropgen/parser"
)

// FuzzGenerate feeds arbitrary text and package names to the generator.
// The result must be positioned errors (or, for a bad package name, an
// error naming it), or gofmt-formatted Go that type-checks, in the package
// asked for, and whose numbers are right: the IR's loss and fn values agree
// with the reference interpreter and its gradient with central differences
// (difftest.CheckValues; TestDifferential runs the generated Go itself).
// Never an internal error. Without -fuzz it runs the shipped models, the
// invalid ones and the differential test's regression cases as seeds.
func FuzzGenerate(f *testing.F) {
	var files []string
	for _, pattern := range []string{"testdata/*.bp", "testdata/errors/*.bp", "testdata/difftest/*.bp"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	pkgs := []string{"f", "model", "func", "1abc", "a-b", "_", "main", "π"}
	for i, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, pkgs[i%len(pkgs)])
	}
	f.Fuzz(func(t *testing.T, src []byte, pkg string) {
		code, err := backpropgen.Generate("f.bp", src, pkg)
		if err == nil {
			if pkg != "" && !backpropgen.ValidPackageName(pkg) { // "" is the model's name
				t.Fatalf("package name %q accepted", pkg)
			}
			if msg := checkGo(code); msg != "" {
				t.Fatalf("generated Go does not type-check: %s\nmodel:\n%s", msg, src)
			}
			if formatted, err := format.Source(code); err != nil || !bytes.Equal(formatted, code) {
				t.Fatalf("generated Go is not gofmt-formatted (%v)\nmodel:\n%s", err, src)
			}
			if pkg != "" && !strings.Contains(string(code), "\npackage "+pkg+"\n") {
				t.Fatalf("generated Go is not in package %s", pkg)
			}
			if err := difftest.CheckValues("f.bp", src, 1); err != nil {
				t.Fatalf("wrong numbers: %v\nmodel:\n%s", err, src)
			}
			return
		}
		if strings.Contains(err.Error(), "internal error") {
			t.Fatalf("%v\nmodel:\n%s", err, src)
		}
		var list *parser.ListError
		if !errors.As(err, &list) && !strings.Contains(err.Error(), "invalid package name") {
			t.Fatalf("%v\nmodel:\n%s", err, src)
		}
	})
}
