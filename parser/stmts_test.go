package parser

import (
	"errors"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/alecthomas/participle/v2"

	"github.com/backpropgen/backpropgen/internal/testmodels"
)

// agree checks that parseStmts parses src as grammar does: the same
// statements, or both a syntax error.
func agree(t *testing.T, src []byte) {
	t.Helper()
	want, err := grammar.ParseBytes("a.bp", src)
	got, ok := parseStmts("a.bp", src)
	switch {
	case ok != (err == nil):
		t.Fatalf("parseStmts ok = %v, grammar error %v, for\n%s", ok, err, src)
	case ok && !reflect.DeepEqual(got, want.Stmts):
		t.Fatalf("parseStmts and grammar differ for\n%s", src)
	}
}

// seeds are the shipped models and error cases.
func seeds(t testing.TB) [][]byte {
	paths, _ := filepath.Glob("../testdata/*.bp")
	errs, _ := filepath.Glob("../testdata/errors/*.bp")
	var out [][]byte
	for _, p := range append(paths, errs...) {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, src)
	}
	if len(out) < 50 {
		t.Fatalf("found only %d models", len(out))
	}
	return out
}

var agreeFull = flag.Bool("agree.full", false, "TestParseStmtsAgrees: 100 mutations of each model instead of 24 (CI runs this)")

// TestParseStmtsAgrees checks parsing by statement shapes against parsing
// the file whole, on the shipped models, the error cases and mutations of
// them like TestMutatedModelsNeverCrash's: 24 of each by default, 8 of each
// kind, and 100 with -agree.full.
func TestParseStmtsAgrees(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	pieces := []string{"+", "-", "*", "/", "@", "^", "(", ")", "[", "]", ",", "=", "+=", "0", "2.5", "x", "W1", "sum(", "{", "}", "\n", "fn ", "param ", "output ", "return ", "int", "..", "[3]", "x = ", "x += "}
	perModel := 24
	if *agreeFull {
		perModel = 100
	}
	for _, src := range seeds(t) {
		agree(t, src)
		for k := range min(len(src), perModel) {
			i, j := r.Intn(len(src)), r.Intn(len(src))
			if i > j {
				i, j = j, i
			}
			j = min(j, i+8)
			var m []byte
			switch k % 3 {
			case 0:
				m = append(append(m, src[:i]...), src[j:]...)
			case 1:
				m = append(append(m, src[:j]...), src[i:]...)
			default:
				m = append(append(append(m, src[:i]...), pieces[r.Intn(len(pieces))]...), src[j:]...)
			}
			agree(t, m)
		}
	}
	agree(t, testmodels.Chain(3000))
}

func FuzzParseStmts(f *testing.F) {
	for _, src := range seeds(f) {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) < 1<<14 {
			agree(t, src)
		}
	})
}

// TestStartsStmt checks startsStmt against the grammar: a token starts a
// statement if participle gets past it.
func TestStartsStmt(t *testing.T) {
	for _, tok := range append(Keywords, "x", "1", "2.5", "$", "/*", "0x1", "..", "+=", "+", "-", "*", "/", "^", "@", "=", "(", ")", ",", "[", "]", "{", "}") {
		lx, _ := bpLexer.LexBytes("t.bp", []byte(tok))
		first, _ := lx.Next()
		_, err := stmtGrammar.ParseString("t.bp", tok)
		var perr participle.Error
		starts := err == nil || errors.As(err, &perr) && perr.Position().Offset > 0
		if got := startsStmt(&first); got != starts {
			t.Errorf("startsStmt(%q) = %v, but the grammar says %v (%v)", tok, got, starts, err)
		}
	}
}

// tokens gives the lexer's tokens, in chunks or across them.
func TestTokensAcrossChunks(t *testing.T) {
	src := testmodels.Chain(3 * tokenChunk / 8) // about three chunks
	lx, _ := bpLexer.LexBytes("a.bp", src)
	var all []string
	for {
		tok, err := lx.Next()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, tok.Value)
		if tok.EOF() {
			break
		}
	}
	if len(all) < 2*tokenChunk {
		t.Fatalf("only %d tokens", len(all))
	}
	lx, _ = bpLexer.LexBytes("a.bp", src)
	ts := &tokens{lx: lx}
	for _, c := range []struct{ i, n int }{{0, 5}, {tokenChunk - 3, 7}, {2*tokenChunk - 1, 2}, {len(all) - 2, 5}, {tokenChunk, 1}} {
		got := ts.from(c.i, c.n)
		want := all[c.i:min(c.i+c.n, len(all))]
		if len(got) != len(want) {
			t.Fatalf("from(%d, %d): %d tokens, want %d", c.i, c.n, len(got), len(want))
		}
		for k := range got {
			if got[k].Value != want[k] || ts.at(c.i+k).Value != want[k] {
				t.Errorf("from(%d, %d)[%d] = %q, want %q", c.i, c.n, k, got[k].Value, want[k])
			}
		}
	}
	if !ts.at(len(all) + 10).EOF() {
		t.Error("past the end is not EOF")
	}
}
