package parser

import (
	"fmt"
	"strings"
	"testing"
)

// show prints an expression fully parenthesized.
func show(e Expr) string {
	switch e := e.(type) {
	case *Number:
		return e.Text
	case *Ident:
		return e.Name
	case *Unary:
		return "(" + e.Op + show(e.X) + ")"
	case *Binary:
		return "(" + show(e.X) + " " + e.Op + " " + show(e.Y) + ")"
	case *Call:
		var args []string
		for _, a := range e.Args {
			args = append(args, show(a))
		}
		return e.Fun.Name + "(" + strings.Join(args, ", ") + ")"
	case *Index:
		var ix []string
		for _, a := range e.Indexes {
			ix = append(ix, show(a))
		}
		return show(e.X) + "[" + strings.Join(ix, ", ") + "]"
	case *Slice:
		lo, hi := "", ""
		if e.Lo != nil {
			lo = show(e.Lo)
		}
		if e.Hi != nil {
			hi = show(e.Hi)
		}
		return lo + ":" + hi
	}
	return fmt.Sprintf("%T", e)
}

func TestPrecedenceAndAssociativity(t *testing.T) {
	for src, want := range map[string]string{
		"a - b - c":         "((a - b) - c)",
		"a / b / c":         "((a / b) / c)",
		"a ^ b ^ c":         "(a ^ (b ^ c))",
		"-x ^ 2":            "(-(x ^ 2))",
		"2 ^ -x":            "(2 ^ (-x))",
		"a + b * c":         "(a + (b * c))",
		"W @ x + b":         "((W @ x) + b)",
		"a * b @ c":         "((a * b) @ c)",
		"(a + b) * c":       "((a + b) * c)",
		"f(x, y)[0] - 1.5":  "(f(x, y)[0] - 1.5)",
		"(W @ h + b)[0, 1]": "((W @ h) + b)[0, 1]",
		"-a - -b":           "((-a) - (-b))",
		"x[2:5]":            "x[2:5]",
		"W[:, 0]":           "W[:, 0]",
		"W[1:, :H+1]":       "W[1:, :(H + 1)]",
		"A[k, N-2:N][0]":    "A[k, (N - 2):N][0]",
	} {
		f, err := Parse("t.bp", []byte("x = "+src))
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got := show(f.Stmts[0].(*Assign).Value); got != want {
			t.Errorf("%s parsed as %s, want %s", src, got, want)
		}
	}
}

func TestStatementsAndPositions(t *testing.T) {
	src := "model m\nconst N = 4\nparam W[N, 2]\ninput k int\n\nfor t in 0..N {\n  h += W[t]\n}\noutput p = h\nfn f(q[3], s) {\n  return s\n}\n"
	f, err := Parse("t.bp", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{}
	for _, s := range f.Stmts {
		kinds = append(kinds, fmt.Sprintf("%T@%d:%d", s, s.Pos().Line, s.Pos().Col))
	}
	want := "*parser.ModelDecl@1:1 *parser.ConstDecl@2:1 *parser.VarDecl@3:1 *parser.VarDecl@4:1 *parser.For@6:1 *parser.OutputDecl@9:1 *parser.FnDecl@10:1"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if v := f.Stmts[3].(*VarDecl); !v.Int || v.Kind != "input" {
		t.Errorf("input k int: %+v", v)
	}
	loop := f.Stmts[4].(*For)
	if loop.Var.Name != "t" || show(loop.To) != "N" || loop.Body[0].(*Assign).Op != "+=" {
		t.Errorf("for loop: %+v", loop)
	}
	if a := f.Stmts[6].(*FnDecl).Args; len(a) != 2 || len(a[0].Dims) != 1 || a[1].Name.Name != "s" {
		t.Errorf("fn args: %+v", a)
	}
}

func TestSyntaxErrorHasPositionAndCaret(t *testing.T) {
	_, err := Parse("bad.bp", []byte("model m\nh = (x +\n"))
	if err == nil {
		t.Fatal("no error")
	}
	if got := err.Error(); got != "bad.bp:2:9: syntax error: unexpected end of line, expected expression" {
		t.Errorf("got %q", got)
	}
	_, err = Parse("bad.bp", []byte("model m\nh = x $ 2\n"))
	want := "bad.bp:2:7: syntax error: unexpected token \"$\"\n    h = x $ 2\n          ^"
	if got := err.(*ListError).Caret(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// After a syntax error the parser looks for more further down, and an error
// at the start of a line is reported where the unfinished line ends.
func TestSeveralSyntaxErrors(t *testing.T) {
	_, err := Parse("s.bp", []byte("model m\nh = (w + 1\nk = w $ 2\nloss = 1\n"))
	list, ok := err.(*ListError)
	if !ok || len(list.Errs) != 2 {
		t.Fatalf("got %v", err)
	}
	if got := list.Errs[0].Error(); got != `s.bp:2:11: syntax error: unexpected end of line, expected ")"` {
		t.Errorf("first: %s", got)
	}
	if got := list.Errs[1].Error(); got != `s.bp:3:7: syntax error: unexpected token "$"` {
		t.Errorf("second: %s", got)
	}
}
