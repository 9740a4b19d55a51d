package parser

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateFmt = flag.Bool("update", false, "rewrite the .golden files of testdata/fmt")

// TestFormatGolden formats each testdata/fmt/NAME.input and compares the
// result with NAME.golden; -update rewrites the goldens (never an input).
func TestFormatGolden(t *testing.T) {
	inputs, _ := filepath.Glob("../testdata/fmt/*.input")
	if len(inputs) == 0 {
		t.Fatal("no testdata/fmt/*.input")
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Format(filepath.Base(in), src)
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(in, ".input") + ".golden"
			if *updateFmt {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("Format differs (-want +got):\n%s", diff)
			}
			again, err := Format(filepath.Base(golden), got)
			if err != nil || string(again) != string(got) {
				t.Errorf("not idempotent (err %v):\n%s", err, cmp.Diff(string(got), string(again)))
			}
		})
	}
}

// fmtCorpus is every .bp file of the repository that parses, and the
// golden inputs.
func fmtCorpus(t *testing.T) map[string][]byte {
	t.Helper()
	corpus := map[string][]byte{}
	for _, pattern := range []string{"../testdata/*.bp", "../testdata/difftest/*.bp", "../testdata/errors/*.bp", "../testdata/fmt/*.input", "../examples/*/*.bp"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(f, src); err == nil {
				corpus[f] = src
			}
		}
	}
	if len(corpus) < 60 {
		t.Fatalf("only %d files parse", len(corpus))
	}
	return corpus
}

// Formatting twice gives what formatting once does.
func TestFormatIdempotent(t *testing.T) {
	for name, src := range fmtCorpus(t) {
		once, err := Format(name, src)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		twice, err := Format(name, once)
		if err != nil {
			t.Errorf("%s: formatted: %v", name, err)
			continue
		}
		if diff := cmp.Diff(string(once), string(twice)); diff != "" {
			t.Errorf("%s: not idempotent (-once +twice):\n%s", name, diff)
		}
	}
}

// The shipped models are formatted (CI checks this with backpropgen fmt
// -l too). The invalid models of testdata/errors are not: their goldens
// hold their positions.
func TestShippedModelsFormatted(t *testing.T) {
	for name, src := range fmtCorpus(t) {
		if strings.Contains(name, "/errors/") || strings.HasSuffix(name, ".input") {
			continue
		}
		got, err := Format(name, src)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if diff := cmp.Diff(string(src), string(got)); diff != "" {
			t.Errorf("%s is not formatted (go run ./cmd/backpropgen fmt -w %s):\n%s", name, name, diff)
		}
	}
}

// Every comment is kept, and the tokens are the same (Format checks the
// tokens itself; this checks that check).
func TestFormatKeepsComments(t *testing.T) {
	for name, src := range fmtCorpus(t) {
		got, err := Format(name, src)
		if err != nil {
			t.Fatal(err)
		}
		var want, have []string
		for _, it := range scanItems(src) {
			if it.comment {
				want = append(want, it.tok.Value)
			}
		}
		for _, it := range scanItems(got) {
			if it.comment {
				have = append(have, it.tok.Value)
			}
		}
		if diff := cmp.Diff(want, have); diff != "" {
			t.Errorf("%s: comments differ (-want +got):\n%s", name, diff)
		}
		if !sameTokens(src, got) {
			t.Errorf("%s: tokens differ", name)
		}
	}
	if sameTokens([]byte("a = b - c"), []byte("a = b -c")) != true || sameTokens([]byte("a = b - c"), []byte("a = b + c")) {
		t.Error("sameTokens compares white space or misses a changed token")
	}
}

func TestFormatSmall(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"empty fn block", "fn f(x){return x}", "fn f(x) {\n    return x\n}\n"},
		{"CRLF and a byte order mark", "\uFEFFmodel m\r\nparam w // w\r\nloss = w*w\r\n", "model m\nparam w // w\nloss = w * w\n"},
		{"no final newline", "fn f(x) = x", "fn f(x) = x\n"},
		{"statements on one line", "model m param w loss = w output loss", "model m\nparam w\nloss = w\noutput loss\n"},
		{"a name that starts like return", "fn f(return_x) = return_x", "fn f(return_x) = return_x\n"},
		{"unary minus", "fn f(x)=- x*-x-(-x)^-2 - - x+- (x+1)", "fn f(x) = -x * -x - (-x)^-2 - -x + -(x + 1)\n"},
		{"ranges and ints", "model m\nconst N=2*3\ninput k  int\nparam w[N+1]\nloss = 0\nfor i in 1 .. N - 1 {\nloss += w[ i ]\n}\n", "model m\nconst N = 2 * 3\ninput k int\nparam w[N + 1]\nloss = 0\nfor i in 1..N - 1 {\n    loss += w[i]\n}\n"},
		{"nested blocks", "model m\nparam w\nloss = 0\nfor i in 0..2 {\nfor j in 0..2 {\nloss += w\n}\n}\n", "model m\nparam w\nloss = 0\nfor i in 0..2 {\n    for j in 0..2 {\n        loss += w\n    }\n}\n"},
		{"a comment before a block's brace", "fn f(x) // c\n{ return x }", "fn f(x) // c\n{\n    return x\n}\n"},
		{"only comments", "// a\n\n\n// b\n", "// a\n\n// b\n"},
		{"slices", "fn f(x) = x[ 1 : 3 , : ] + x[:,0] + x[N-1 :]", "fn f(x) = x[1:3, :] + x[:, 0] + x[N - 1:]\n"},
		{"numbers as written", "fn f(x) = 1.50 * x + 2E+3 + 0.0e-0", "fn f(x) = 1.50 * x + 2E+3 + 0.0e-0\n"},
	} {
		got, err := Format("c.bp", []byte(c.src))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%s: got\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}

// A file with a syntax error is refused with the parser's errors.
func TestFormatSyntaxError(t *testing.T) {
	src := []byte("model m\nparam w\nloss = (w + 1\n")
	_, perr := Parse("bad.bp", src)
	out, err := Format("bad.bp", src)
	var list *ListError
	if out != nil || !errors.As(err, &list) || err.Error() != perr.Error() {
		t.Fatalf("Format = %q, %v; want the parser's %v", out, err, perr)
	}
	if !strings.HasPrefix(err.Error(), "bad.bp:3:") {
		t.Errorf("error not positioned: %v", err)
	}
}

// FuzzFormat checks, for any text that parses, that Format succeeds, keeps
// the tokens and is idempotent.
func FuzzFormat(f *testing.F) {
	files, _ := filepath.Glob("../testdata/*.bp")
	more, _ := filepath.Glob("../testdata/fmt/*.input")
	for _, file := range append(files, more...) {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if _, err := Parse("f.bp", src); err != nil {
			return
		}
		once, err := Format("f.bp", src)
		if err != nil {
			t.Fatalf("Format: %v", err)
		}
		twice, err := Format("f.bp", once)
		if err != nil || string(twice) != string(once) {
			t.Fatalf("not idempotent (err %v):\n%s", err, cmp.Diff(string(once), string(twice)))
		}
	})
}

func TestTokens(t *testing.T) {
	src := "// é\nmodel m // c\n\tloss = 2.5*w[0] \"q\"\n"
	want := []Token{
		{CommentToken, "// é", Pos{1, 1}},
		{KeywordToken, "model", Pos{2, 1}}, {NameToken, "m", Pos{2, 7}}, {CommentToken, "// c", Pos{2, 9}},
		{NameToken, "loss", Pos{3, 2}}, {PunctToken, "=", Pos{3, 7}}, {NumberToken, "2.5", Pos{3, 9}},
		{PunctToken, "*", Pos{3, 12}}, {NameToken, "w", Pos{3, 13}}, {PunctToken, "[", Pos{3, 14}},
		{NumberToken, "0", Pos{3, 15}}, {PunctToken, "]", Pos{3, 16}}, {BadToken, `"q"`, Pos{3, 18}},
	}
	if diff := cmp.Diff(want, Tokens([]byte(src))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
