// Package parser reads .bp model files into a syntax tree.
//
// It reads source text and produces a *File whose statements and
// expressions (ast.go) carry their positions. It knows the grammar only: names,
// shapes and meaning are checked by package symbolic.
package parser

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Parse parses the .bp source src; name is used in positions and messages.
// A syntax error is returned as a *ListError.
func Parse(name string, src []byte) (*File, error) {
	f := &File{Name: name}
	src, err := text(f, src)
	if err != nil {
		return nil, err
	}
	f.Src = src
	// A valid file is parsed a statement shape at a time; a file with a
	// syntax error is parsed whole again, for participle's messages.
	gs, ok := parseStmts(name, src)
	if !ok {
		g, err := parseGrowing(name, src)
		if err != nil {
			return nil, syntaxErrors(f, err)
		}
		gs = g.Stmts
	}
	var errs ErrorList
	c := converter{file: f, errs: &errs}
	f.Stmts = c.stmts(gs)
	return f, errs.Err()
}

// parseGrowing parses src, or for a syntax error possibly only a prefix of
// it: participle lexes all its input before parsing, so finding an error on
// line 3 of a megabyte of garbage would cost as much as parsing all of it,
// and syntaxErrors parses up to MaxErrors times. Prefixes cut at a line end
// grow fourfold until the parse fails well before the cut, or the prefix is
// the whole file. An error reported a few tokens before the cut is one the
// parser found without reaching the cut (participle reports the deepest
// failure, and looks ahead three tokens), so the whole file has it too.
func parseGrowing(name string, src []byte) (*gFile, error) {
	for n := 1 << 12; n < len(src); n *= 4 {
		cut := bytes.IndexByte(src[n:], '\n')
		if cut < 0 {
			break
		}
		prefix := src[:n+cut]
		_, err := grammar.ParseBytes(name, prefix)
		var perr participle.Error
		if errors.As(err, &perr) && tokensFrom(prefix[min(perr.Position().Offset, len(prefix)):], 8) == 8 {
			return nil, err
		}
	}
	return grammar.ParseBytes(name, src)
}

// tokensFrom counts the tokens in b, up to max.
func tokensFrom(b []byte, max int) int {
	s := &bpScanner{src: b}
	n := 0
	for ; n < max; n++ {
		if t, _ := s.Next(); t.Type == tokEOF {
			break
		}
	}
	return n
}

// syntaxErrors reports the syntax error err and looks for more: the line
// of each error is blanked out and the file parsed again, and an error
// further down is reported too. An error on or before a blanked line is a
// consequence of the blanking (an unclosed brace, say) and ends the search.
func syntaxErrors(f *File, err error) error {
	var errs ErrorList
	src := append([]byte(nil), f.Src...)
	last := 0
	for errs.Len() < MaxErrors {
		pos, msg := Pos{}, err.Error()
		var perr participle.Error
		if errors.As(err, &perr) {
			pos, msg = toPos(perr.Position()), syntaxMessage(perr.Message())
			moved, movedMsg := unfinishedLine(src, pos, msg)
			if off := perr.Position().Offset; moved == pos && off < len(src) {
				movedMsg = badTokenMessage(src[off:], msg)
			}
			pos, msg = moved, movedMsg
		} else {
			pos, msg = unfinishedLine(src, pos, msg)
		}
		if errs.Len() > 0 && pos.Line <= last {
			break
		}
		errs.Add(f, pos, "%s", msg)
		if !pos.IsValid() || !blankLine(src, pos.Line) {
			break
		}
		last = pos.Line
		if _, err = parseGrowing(f.Name, src); err == nil {
			break
		}
	}
	return errs.Err()
}

// unfinishedLine moves an error found at the start of a line (or at the end
// of the file) to the end of the line before, where the statement that was
// left unfinished is: "h = (w + 1" then "loss = ..." is an unclosed
// parenthesis on the first line, not a misplaced "loss" on the second.
func unfinishedLine(src []byte, pos Pos, msg string) (Pos, string) {
	if pos.Col != 1 || pos.Line <= 1 || !strings.HasPrefix(msg, "syntax error: unexpected ") {
		return pos, msg
	}
	for n := pos.Line - 1; n >= 1; n-- {
		text := sourceLine(src, n)
		if code, _, _ := strings.Cut(text, "//"); strings.TrimSpace(code) != "" {
			code = strings.TrimRight(code, " \t")
			rest := msg[len("syntax error: unexpected "):]
			if i := strings.Index(rest, ", expected"); i >= 0 {
				rest = rest[i:]
			} else {
				rest = ""
			}
			return Pos{Line: n, Col: utf8.RuneCountInString(code) + 1}, needsName(code, "syntax error: unexpected end of line"+rest)
		}
	}
	return pos, msg
}

// forms shows how each declaring keyword is followed.
var forms = map[string]string{
	"model": "model NAME", "const": "const NAME = INT", "param": "param NAME[dims]",
	"input": "input NAME[dims]", "output": "output NAME", "fn": "fn NAME(ARGS) = EXPR", "for": "for VAR in FROM..TO { ... }",
}

// needsName rewords "expected name" at the end of a line that ends with a
// declaring keyword ("model" alone on its line).
func needsName(code, msg string) string {
	f := strings.Fields(code)
	if !strings.HasSuffix(msg, "expected name") || len(f) == 0 || forms[f[len(f)-1]] == "" {
		return msg
	}
	k := f[len(f)-1]
	return fmt.Sprintf("syntax error: %s needs a name: %s", k, forms[k])
}

// badTokenMessage explains a syntax error at the start of b when the token
// there is a likely mistake: a C comment, a number not in decimal, a quoted
// name, or a keyword used as a name.
func badTokenMessage(b []byte, msg string) string {
	typ, n := scanToken(b)
	tok := string(b[:n])
	switch {
	case typ == tokBad && tok == "/*":
		return "syntax error: /* is not a comment: comments run from // to the end of the line"
	case typ == tokBad && isDigit(tok[0]):
		if v, err := strconv.ParseInt(strings.ReplaceAll(tok, "_", ""), 0, 64); err == nil {
			return fmt.Sprintf("syntax error: %s: numbers are written in decimal (%d)", tok, v)
		}
		return fmt.Sprintf("syntax error: bad number %s", tok)
	case typ == tokBad && strings.ContainsAny(tok[:1], "\"'`"):
		if name := strings.Trim(tok, "\"'`"); name != "" && isLetter(name[0]) {
			return fmt.Sprintf("syntax error: %s: names are not quoted (write %s)", tok, name)
		}
		return fmt.Sprintf("syntax error: unexpected %s: the language has no strings", tok)
	case typ == tokKeyword && (strings.HasSuffix(msg, "expected name") || strings.HasSuffix(msg, "expected expression")):
		return fmt.Sprintf("syntax error: %s is a keyword and cannot be a name", tok)
	}
	return msg
}

// blankLine replaces the text of 1-based line n of src with spaces,
// reporting whether the line exists.
func blankLine(src []byte, n int) bool {
	line := 1
	for i, b := range src {
		if line == n && b != '\n' {
			src[i] = ' '
		}
		if b == '\n' {
			line++
			if line > n {
				return true
			}
		}
	}
	return line >= n
}

// syntaxMessage rewords participle's messages in the terms a user wrote.
func syntaxMessage(m string) string {
	m = strings.ReplaceAll(m, `unexpected token "<EOF>"`, "unexpected end of file")
	for _, r := range [][2]string{
		{"GExpr", "expression"}, {"GTerm", "expression"}, {"GUnary", "expression"},
		{"GPower", "expression"}, {"GPostfix", "expression"}, {"GPrimary", "expression"},
		{"GIdent", "name"}, {"GIndex", "index"}, {"GStmt", "statement"}, {"GVar", "name"},
		{"GConst", "name"}, {"GFor", "name"}, {"GOutput", "name"}, {"GOpen", `"{"`}, {"GClose", `"}"`},
	} {
		m = strings.ReplaceAll(m, r[0], r[1])
	}
	if i := strings.Index(m, " (expected"); i >= 0 {
		return "syntax error: " + m[:i] + ", expected" + strings.TrimSuffix(m[i+len(" (expected"):], ")")
	}
	return "syntax error: " + m
}

func toPos(p lexer.Position) Pos { return Pos{Line: p.Line, Col: p.Column} }

type converter struct {
	file *File
	errs *ErrorList
}

// stmts converts the flat statement list of the grammar, nesting the
// statements between a for's or a fn's "{" and its "}" into its body.
func (c *converter) stmts(gs []*gStmt) []Stmt {
	out, rest := c.block(gs, nil)
	for len(rest) > 0 { // only a stray "}" stops the top level
		c.errs.Add(c.file, toPos(rest[0].Close.Pos), "syntax error: unexpected token \"}\"")
		more, r := c.block(rest[1:], nil)
		out, rest = append(out, more...), r
	}
	return out
}

// block converts statements up to the "}" closing open (nil at the top
// level), returning them and the statements from that "}" on.
func (c *converter) block(gs []*gStmt, open *gOpen) ([]Stmt, []*gStmt) {
	var out []Stmt
	for len(gs) > 0 {
		g := gs[0]
		if g.Close != nil {
			if open != nil {
				return out, gs[1:]
			}
			return out, gs
		}
		var s Stmt
		s, gs = c.stmt(g, gs[1:])
		if s != nil {
			out = append(out, s)
		}
	}
	if open != nil {
		c.errs.Add(c.file, toPos(open.Pos), "syntax error: unexpected end of file: this \"{\" is never closed")
	}
	return out, nil
}

func (c *converter) stmt(g *gStmt, rest []*gStmt) (Stmt, []*gStmt) {
	p := toPos(g.Pos)
	switch {
	case g.Fn != nil:
		fn := &FnDecl{P: p, Name: ident(g.Fn.Name)}
		for _, a := range g.Fn.Args {
			v := c.varDecl(a, "arg")
			v.P = v.Name.P
			fn.Args = append(fn.Args, v)
		}
		if g.Fn.Short != nil {
			e := c.expr(g.Fn.Short)
			fn.Body = []Stmt{&Return{P: e.Pos(), Value: e}}
		} else {
			fn.Body, rest = c.block(rest, g.Fn.Open)
		}
		return fn, rest
	case g.For != nil:
		f := &For{P: p, Var: ident(g.For.Var), From: c.expr(g.For.From), To: c.expr(g.For.To)}
		f.Body, rest = c.block(rest, g.For.Open)
		return f, rest
	}
	return c.simpleStmt(g), rest
}

func (c *converter) simpleStmt(g *gStmt) Stmt {
	p := toPos(g.Pos)
	switch {
	case g.Model != nil:
		return &ModelDecl{P: p, Name: ident(g.Model)}
	case g.Const != nil:
		return &ConstDecl{P: p, Name: ident(g.Const.Name), Value: c.expr(g.Const.Value)}
	case g.Param != nil:
		v := c.varDecl(g.Param, "param")
		v.P = p
		return v
	case g.Input != nil:
		v := c.varDecl(g.Input, "input")
		v.P = p
		return v
	case g.Output != nil:
		o := &OutputDecl{P: p, Name: ident(g.Output.Name)}
		if g.Output.Value != nil {
			o.Value = c.expr(g.Output.Value)
		}
		return o
	case g.Return != nil:
		return &Return{P: p, Value: c.expr(g.Return)}
	case g.Assign != nil:
		return &Assign{P: p, Name: ident(g.Assign.Name), Op: g.Assign.Op, Value: c.expr(g.Assign.Value)}
	}
	return nil
}

func (c *converter) varDecl(g *gVar, kind string) *VarDecl {
	v := &VarDecl{Kind: kind, Name: ident(g.Name), Int: g.Int}
	for _, d := range g.Dims {
		v.Dims = append(v.Dims, c.expr(d))
	}
	return v
}

func ident(g *gIdent) *Ident { return &Ident{P: toPos(g.Pos), Name: g.Name} }

// expr folds an additive chain to the left: a - b - c is (a - b) - c.
func (c *converter) expr(g *gExpr) Expr {
	x := c.term(g.Left)
	for _, r := range g.Rest {
		x = &Binary{P: toPos(r.Pos), Op: r.Op, X: x, Y: c.term(r.Right)}
	}
	return x
}

// term folds a multiplicative chain to the left: a / b / c is (a / b) / c.
func (c *converter) term(g *gTerm) Expr {
	x := c.unary(g.Left)
	for _, r := range g.Rest {
		x = &Binary{P: toPos(r.Pos), Op: r.Op, X: x, Y: c.unary(r.Right)}
	}
	return x
}

func (c *converter) unary(g *gUnary) Expr {
	if g.Neg != nil {
		return &Unary{P: toPos(g.Pos), Op: "-", X: c.unary(g.Neg)}
	}
	base := c.postfix(g.Power.Base)
	if g.Power.OpPos == nil {
		return base
	}
	return &Binary{P: toPos(g.Power.OpPos.Pos), Op: "^", X: base, Y: c.unary(g.Power.Exp)}
}

func (c *converter) postfix(g *gPostfix) Expr {
	x := c.primary(g.Primary)
	for _, s := range g.Suffixes {
		p := toPos(s.Pos)
		if s.Call != nil {
			id, ok := x.(*Ident)
			if !ok {
				c.errs.Add(c.file, p, "only a named function can be called")
				continue
			}
			call := &Call{P: id.P, Fun: id}
			for _, a := range s.Call.Args {
				call.Args = append(call.Args, c.expr(a))
			}
			x = call
			continue
		}
		ix := &Index{P: p, X: x}
		for _, e := range s.Index {
			switch {
			case e.Colon:
				sl := &Slice{P: toPos(e.Pos), Lo: c.expr(e.Lo)}
				if e.Hi != nil {
					sl.Hi = c.expr(e.Hi)
				}
				ix.Indexes = append(ix.Indexes, sl)
			case e.Bare:
				sl := &Slice{P: toPos(e.Pos)}
				if e.BHi != nil {
					sl.Hi = c.expr(e.BHi)
				}
				ix.Indexes = append(ix.Indexes, sl)
			default:
				ix.Indexes = append(ix.Indexes, c.expr(e.Lo))
			}
		}
		x = ix
	}
	return x
}

func (c *converter) primary(g *gPrimary) Expr {
	p := toPos(g.Pos)
	switch {
	case g.Number != nil:
		v, err := strconv.ParseFloat(*g.Number, 64)
		if err != nil {
			c.errs.Add(c.file, p, "bad number %s", *g.Number)
		}
		return &Number{P: p, Text: *g.Number, Value: v, IsInt: !strings.ContainsAny(*g.Number, ".eE")}
	case g.Ident != nil:
		return &Ident{P: p, Name: *g.Ident}
	default:
		return c.expr(g.Paren)
	}
}
