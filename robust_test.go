package backpropgen_test

import (
	"errors"
	"flag"
	"fmt"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"go/types"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/parser"
)

var (
	robustFull = flag.Bool("robust.full", false, "TestMutatedModelsNeverCrash: 200 mutations of each model instead of 24 (CI runs this)")
	robustSeed = flag.Int64("robust.seed", 1, "TestMutatedModelsNeverCrash: seed of the mutations; 0 picks one from the clock")
)

// mutationPieces are what a mutation may put in place of a span.
var mutationPieces = []string{"+", "-", "*", "/", "@", "^", "(", ")", "[", "]", ",", "=", "+=", "0", "2.5", "x", "W1", "sum(", "relu(", "{", "}", "\n", "fn ", "param ", "..", "[3]", "[2, 2]"}

// mutate damages src at a random span of up to 8 bytes in the k'th of the
// three ways: deleting the span, duplicating it, or replacing it with
// piece.
func mutate(r *rand.Rand, src []byte, k int, piece string) string {
	i, j := r.Intn(len(src)), r.Intn(len(src))
	if i > j {
		i, j = j, i
	}
	j = min(j, i+8)
	switch k {
	case 0:
		return string(src[:i]) + string(src[j:])
	case 1:
		return string(src[:j]) + string(src[i:])
	default:
		return string(src[:i]) + piece + string(src[j:])
	}
}

// TestMutatedModelsNeverCrash damages the shipped models at random (deleting
// or duplicating a span, swapping in an operator or a name) and checks that
// every result is either Go code that type-checks or a list of positioned
// errors: never an internal error, which is how Generate reports a
// recovered panic.
//
// By default each model gets 24 mutations, 8 of each way, and every piece
// is swapped in somewhere; -robust.full gives each model 200, as CI does,
// and -robust.seed=0 a fresh seed (printed).
func TestMutatedModelsNeverCrash(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/*.bp")
	if len(files) == 0 {
		t.Fatal("no models in testdata")
	}
	perModel := 24
	if *robustFull {
		perModel = 200
	}
	seed := *robustSeed
	if seed == 0 {
		seed = time.Now().UnixNano() % 1e12
	}
	fmt.Printf("TestMutatedModelsNeverCrash: %d mutations of each of %d models, seed %d (rerun with -robust.seed=%d)\n", perModel, len(files), seed, seed)
	for fi, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewSource(seed + int64(fi)))
			for k := range perModel {
				// Pieces are taken in turn, starting at a different one
				// for each model, so the sample swaps in every piece.
				piece := mutationPieces[(fi*perModel/3+k/3)%len(mutationPieces)]
				m := mutate(r, src, k%3, piece)
				if msg := generateOrErrors(m); msg != "" {
					t.Errorf("%s mutated (seed %d, mutation %d):\n%s\n%s", path, seed, k, m, msg)
					return
				}
			}
		})
	}
}

// generateOrErrors generates Go for src and returns what is wrong with the
// outcome, or "" if it is Go that type-checks or positioned errors.
func generateOrErrors(src string) string {
	code, err := backpropgen.Generate("m.bp", []byte(src), "m")
	if err == nil {
		if msg := checkGo(code); msg != "" {
			return "generated Go that does not type-check: " + msg
		}
		return ""
	}
	var list *parser.ListError
	if !errors.As(err, &list) || strings.Contains(err.Error(), "internal error") {
		return fmt.Sprintf("gave %v", err)
	}
	for _, e := range list.Errs {
		if !e.Pos.IsValid() {
			return fmt.Sprintf("error without a position: %v", e)
		}
	}
	return ""
}

// stdImporter imports the standard library for type-checking generated
// code. Neither it nor the packages it has imported (whose objects are
// loaded lazily) may be used by two type-checks at once: typesMu
// serializes them, for the parallel subtests.
var (
	stdImporter = importerDefault()
	typesMu     sync.Mutex
)

// checkGo type-checks generated code, returning the first error's text.
func checkGo(code []byte) string {
	fset := token.NewFileSet()
	f, err := goparser.ParseFile(fset, "m.go", code, 0)
	if err != nil {
		return err.Error()
	}
	conf := types.Config{Importer: stdImporter}
	typesMu.Lock()
	defer typesMu.Unlock()
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
