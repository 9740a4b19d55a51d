package backpropgen_test

import (
	"errors"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"go/types"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/parser"
)

// TestMutatedModelsNeverCrash damages the shipped models at random (deleting
// or duplicating a span, swapping in an operator or a name) and checks that
// every result is either Go code that type-checks or a list of positioned
// errors: never an internal error, which is how Generate reports a
// recovered panic.
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
		for range 200 {
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
			code, err := backpropgen.Generate("m.bp", []byte(m), "m")
			if err == nil {
				if msg := checkGo(code); msg != "" {
					t.Errorf("%s mutated:\n%s\ngenerated Go that does not type-check: %s", path, m, msg)
					return
				}
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

var stdImporter = importerDefault()

// checkGo type-checks generated code, returning the first error's text.
func checkGo(code []byte) string {
	fset := token.NewFileSet()
	f, err := goparser.ParseFile(fset, "m.go", code, 0)
	if err != nil {
		return err.Error()
	}
	conf := types.Config{Importer: stdImporter}
	if _, err := conf.Check("m", fset, []*ast.File{f}, nil); err != nil {
		return err.Error()
	}
	return ""
}

// garbage returns n bytes of random text made of the language's own
// characters, in lines: every line a syntax error, none of them quick to
// dismiss as binary.
func garbage(n int) []byte {
	r := rand.New(rand.NewSource(1))
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789 +-*/^@=()[]{},.\n\t_"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.Intn(len(chars))]
	}
	return b
}

// BenchmarkGarbage generates from a megabyte of garbage: the ten errors it
// reports must come in well under a second (TestGarbageIsQuick).
func BenchmarkGarbage(b *testing.B) {
	src := garbage(1 << 20)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for range b.N {
		if _, err := backpropgen.Generate("g.bp", src, "g"); err == nil {
			b.Fatal("garbage accepted")
		}
	}
}

func TestGarbageIsQuick(t *testing.T) {
	src := garbage(1 << 20)
	start := time.Now()
	_, err := backpropgen.Generate("g.bp", src, "g")
	d := time.Since(start)
	if d > time.Second {
		t.Errorf("a megabyte of garbage took %v, want under 1s", d)
	}
	t.Logf("a megabyte of garbage: %v", d)
	var list *parser.ListError
	if !errors.As(err, &list) || len(list.Errs) != parser.MaxErrors {
		t.Errorf("want %d positioned errors, got %v", parser.MaxErrors, err)
	}
}

// TestAccepted checks inputs that once failed and now generate Go that
// type-checks: a byte order mark, a const used before its declaration.
func TestAccepted(t *testing.T) {
	for name, src := range map[string]string{
		"bom":         "\uFEFFmodel m\nparam w\nloss = w * w\n",
		"const order": "model m\nparam w[N]\nconst N = M + 1\nconst M = 2\nloss = sum(w)\n",
	} {
		code, err := backpropgen.Generate("m.bp", []byte(src), "m")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if msg := checkGo(code); msg != "" {
			t.Errorf("%s: generated Go does not type-check: %s", name, msg)
		}
	}
}

// TestNameCollisions generates models and fns whose names collide in Go
// (fn f and fn F, a param named like a method, a binding named like a
// helper): each must generate Go that type-checks, under the renaming rule
// of docs/LANGUAGE.md, with the names given here.
func TestNameCollisions(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"fn f(x) = x\nfn F(x) = 2 * x\n", "func F_Grad("},
		{"fn f(x) = x\nfn fGrad(x) = 2 * x\n", "func FGrad_Grad("},
		{"fn _f(x) = x\nfn f(x) = 2 * x\n", "func F_Grad("},
		{"fn f_exp(x) = x\nfn fExp(x) = 2 * x\n", "func FExp_Grad("},
		{"model m\nparam w\nloss = w * w\nfn mParams(x) = x\n", "func MParams_("},
		{"model m\nparam flat\nparam Forward\ninput validate int\ninput x[2]\nloss = flat * Forward * x[validate]\n", "Validate_ int"},
		{"model m\nparam w[3]\nmSigmoid = sigmoid(w)\nloss = sum(sigmoid(mSigmoid) * mSigmoid)\n", "func mSigmoid("},
		{"model m\nparam w[3]\nMParams = w * 2\nmParamNames = sum(MParams)\nloss = mParamNames * mParamNames\n", "type MParams struct"},
	} {
		code, err := backpropgen.Generate("m.bp", []byte(c.src), "m")
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if msg := checkGo(code); msg != "" {
			t.Errorf("%s: generated Go does not type-check: %s", c.src, msg)
		}
		if !strings.Contains(string(code), c.want) {
			t.Errorf("%s: generated Go has no %q", c.src, c.want)
		}
	}
}
