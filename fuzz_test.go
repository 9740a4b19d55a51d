package backpropgen_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/parser"
)

// FuzzGenerate feeds arbitrary text to the generator: the result must be Go
// that type-checks or positioned errors, never an internal error. Without
// -fuzz it runs the shipped models as seeds.
func FuzzGenerate(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.bp")
	errFiles, _ := filepath.Glob("testdata/errors/*.bp")
	for _, path := range append(files, errFiles...) {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		code, err := backpropgen.Generate("f.bp", src, "f")
		if err == nil {
			if msg := checkGo(code); msg != "" {
				t.Fatalf("generated Go does not type-check: %s\nmodel:\n%s", msg, src)
			}
			return
		}
		var list *parser.ListError
		if !errors.As(err, &list) || strings.Contains(err.Error(), "internal error") {
			t.Fatalf("%v\nmodel:\n%s", err, src)
		}
	})
}
