package backpropgen_test

import (
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/parser"
)

// TestMutatedModelsNeverCrash damages the shipped models at random (deleting
// or duplicating a span, swapping in an operator or a name) and checks that
// every result is either Go code or a list of positioned errors: never an
// internal error, which is how Generate reports a recovered panic.
func TestMutatedModelsNeverCrash(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bp")
	r := rand.New(rand.NewSource(1))
	pieces := []string{"+", "-", "*", "/", "@", "^", "(", ")", "[", "]", ",", "=", "+=", "0", "2.5", "x", "W1", "sum(", "relu(", "{", "}", "\n", "fn ", "param ", "..", "[3]", "[2, 2]"}
	n := 0
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for range 150 {
			b := []byte(string(src))
			i, j := r.Intn(len(b)), r.Intn(len(b))
			if i > j {
				i, j = j, i
			}
			j = min(j, i+8)
			var m string
			switch r.Intn(3) {
			case 0:
				m = string(b[:i]) + string(b[j:])
			case 1:
				m = string(b[:j]) + string(b[i:])
			default:
				m = string(b[:i]) + pieces[r.Intn(len(pieces))] + string(b[j:])
			}
			n++
			_, err := backpropgen.Generate("m.bp", []byte(m), "m")
			if err == nil {
				continue
			}
			var list *parser.ListError
			if !errors.As(err, &list) || strings.Contains(err.Error(), "internal error") {
				t.Errorf("%s mutated:\n%s\ngave %v", path, m, err)
				return
			}
			for _, e := range list.Errs {
				if !e.Pos.IsValid() {
					t.Errorf("error without a position: %v\nmodel:\n%s", e, m)
				}
			}
		}
	}
	t.Logf("%d mutated models", n)
}
