package parser

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// Format returns the .bp source src in its canonical layout, as gofmt does
// for Go; name is used in error messages. A file with a syntax error is
// refused with the parser's errors (a *ListError).
//
// The layout is decided token by token, and only white space changes:
// the tokens, and so the syntax tree, are those of src (Format checks
// this), numbers and names are kept as written, and so are parentheses,
// which the syntax tree does not record. The style is the shipped
// models':
//
//   - every statement starts a line; a block's "{" ends the line of its
//     for or fn (unless a comment comes between them), and its "}" has a
//     line of its own;
//   - a block's body is indented 4 spaces per level; a statement that
//     runs over several lines keeps its line breaks, and its continuation
//     lines are indented 4 more, and 4 more per line with brackets still
//     open (a line starting with a closing bracket is indented as the
//     line that opened it);
//   - one space each side of = += + - * / @ and in, after a comma and a
//     keyword, and before "{"; none around ^, .. and a slice's :, after unary -, inside
//     brackets, or before a call's "(" or an index's "[";
//   - comments are kept where they are: a comment on a line of its own
//     is indented as the code it precedes; trailing comments on
//     consecutive lines are aligned one space past the longest of those
//     lines, as gofmt aligns them; trailing spaces are removed;
//   - blank lines are kept, runs of them collapsed to one, except at the
//     start and end of the file and of a block, and inside a statement;
//   - lines end in "\n" (not "\r\n"), the file ends with one, and a byte
//     order mark is dropped.
func Format(name string, src []byte) ([]byte, error) {
	f, err := Parse(name, src)
	if err != nil {
		return nil, err
	}
	items := scanItems(f.Src)
	starts, returns := stmtStarts(f)
	out := layout(items, starts, returns)
	if !sameTokens(f.Src, out) {
		return nil, fmt.Errorf("%s: internal error: formatting changed the tokens (please report this with the model)", name)
	}
	return out, nil
}

// An item is a token or a comment, in source order.
type item struct {
	tok      lexer.Token // Value holds the comment's text for a comment
	comment  bool
	trailing bool // a comment after a token on its line
	unary    bool // a unary "-"
}

// scanItems lexes src (a file that parses) into its tokens and comments.
// Comments are found in the gaps between tokens, which hold nothing else.
func scanItems(src []byte) []item {
	var items []item
	s := &bpScanner{src: src, pos: lexer.Position{Line: 1, Column: 1}}
	end, line, hasTok := 0, 1, false // after the last token, and its line
	for {
		t, _ := s.Next()
		for off := end; off < t.Pos.Offset; {
			gap := src[off:t.Pos.Offset]
			nl := bytes.IndexByte(gap, '\n')
			text := gap
			if nl >= 0 {
				text = gap[:nl]
			}
			if i := bytes.Index(text, []byte("//")); i >= 0 {
				c := strings.TrimRight(string(text[i:]), " \t\r")
				pos := lexer.Position{Line: line, Offset: off + i}
				items = append(items, item{tok: lexer.Token{Value: c, Pos: pos}, comment: true, trailing: hasTok})
			}
			if nl < 0 {
				break
			}
			off, line, hasTok = off+nl+1, line+1, false
		}
		if t.EOF() {
			return items
		}
		items = append(items, item{tok: t})
		end, line, hasTok = t.Pos.Offset+len(t.Value), t.Pos.Line, true
	}
}

// stmtStarts returns the positions of the first tokens of f's statements,
// at every depth, and separately those of its Returns: a short fn's body
// (fn f(x) = EXPR) is a Return made up by the parser, positioned in its
// expression, so a Return starts a line only if "return" is there.
func stmtStarts(f *File) (starts, returns map[Pos]bool) {
	starts, returns = map[Pos]bool{}, map[Pos]bool{}
	var add func([]Stmt)
	add = func(ss []Stmt) {
		for _, s := range ss {
			switch s := s.(type) {
			case *Return:
				returns[s.P] = true
				continue
			case *For:
				add(s.Body)
			case *FnDecl:
				add(s.Body)
			}
			starts[s.Pos()] = true
		}
	}
	add(f.Stmts)
	return starts, returns
}

// An outLine is a line of the output: indentation, code and a trailing
// comment, or a blank line if all are empty.
type outLine struct {
	indent  int
	code    strings.Builder
	comment string
}

// printer lays out the items of one file.
type printer struct {
	lines   []*outLine
	cur     *outLine // the line being written, nil between lines
	level   int      // block depth
	prev    *item    // the last token written
	last    int      // source line of the last item written
	starts  map[Pos]bool
	returns map[Pos]bool

	// Within a statement: the source lines of the brackets open, and
	// whether a continuation line has started outside all brackets.
	open []int
	cont bool
}

func layout(items []item, starts, returns map[Pos]bool) []byte {
	p := &printer{starts: starts, returns: returns}
	for i := range items {
		it := &items[i]
		switch {
		case it.comment && it.trailing && p.cur != nil:
			p.cur.comment = it.tok.Value
			p.cur = nil
		case it.comment:
			p.ownLineComment(it, items[i+1:])
		default:
			p.token(it)
		}
		p.last = it.tok.Pos.Line
	}
	return p.bytes()
}

func (p *printer) isStart(it *item) bool {
	pos := Pos{Line: it.tok.Pos.Line, Col: it.tok.Pos.Column}
	return !it.comment && (p.starts[pos] || p.returns[pos] && it.tok.Value == "return")
}

// ownLineComment writes a comment on a line of its own, indented as the
// next token's line will be.
func (p *printer) ownLineComment(it *item, rest []item) {
	p.cur = nil
	indent := p.level
	for i := range rest {
		if n := &rest[i]; !n.comment {
			if !p.isStart(n) && n.tok.Value != "}" && n.tok.Value != "{" && p.prev != nil && p.prev.tok.Value != "{" && p.prev.tok.Value != "}" {
				indent = p.contIndent(n, true)
			}
			break
		}
	}
	if indent == p.level {
		p.blankLine(it)
	}
	p.lines = append(p.lines, &outLine{indent: indent, comment: it.tok.Value})
}

// blankLine writes a blank line before an item at statement level if the
// source has one, and it is not at the start of the file or of a block.
func (p *printer) blankLine(it *item) {
	if it.tok.Pos.Line <= p.last+1 || len(p.lines) == 0 {
		return
	}
	if strings.HasSuffix(p.lines[len(p.lines)-1].code.String(), "{") {
		return
	}
	p.lines = append(p.lines, &outLine{})
}

func (p *printer) token(it *item) {
	v := it.tok.Value
	newLine, indent := false, p.level
	switch {
	case p.isStart(it):
		newLine = true
		p.open, p.cont = p.open[:0], false
		p.blankLine(it)
	case v == "}":
		newLine = true
		p.level--
		indent = p.level
	case p.cur == nil || p.prev.tok.Value == "{" || p.prev.tok.Value == "}":
		newLine = p.cur == nil || v != "{"
		if newLine && v != "{" { // a "{" after a comment is indented as its for or fn
			indent = p.contIndent(it, false)
		}
	case v == "{":
		// stays on the line of its for or fn
	case it.tok.Pos.Line > p.prev.tok.Pos.Line:
		newLine, indent = true, p.contIndent(it, false)
	}
	it.unary = v == "-" && (p.prev == nil || !endsOperand(p.prev))
	if newLine {
		p.cur = &outLine{indent: indent}
		p.lines = append(p.lines, p.cur)
	} else if space(p.prev, it) {
		p.cur.code.WriteByte(' ')
	}
	p.cur.code.WriteString(v)
	switch v {
	case "(", "[":
		p.open = append(p.open, it.tok.Pos.Line)
	case ")", "]":
		if len(p.open) > 0 {
			p.open = p.open[:len(p.open)-1]
		}
	case "{":
		p.level++
	}
	p.prev = it
}

// contIndent returns the indentation of a continuation line of a
// statement that starts with it, or of a comment line before it: one level
// past the statement if any continuation line has started outside
// brackets, plus one per source line with brackets still open, after
// those the line starts by closing (a comment is inside them).
func (p *printer) contIndent(it *item, comment bool) int {
	open := p.open
	closing := !comment && (it.tok.Value == ")" || it.tok.Value == "]")
	if closing && len(open) > 0 {
		open = open[:len(open)-1]
	}
	depth := 0
	for i, l := range open {
		if i == 0 || l != open[i-1] {
			depth++
		}
	}
	if depth == 0 && !closing && !comment {
		p.cont = true
	}
	indent := p.level + depth
	if p.cont || depth == 0 && !closing {
		indent++
	}
	return indent
}

// space reports whether a space separates the tokens a and b on a line.
func space(a, b *item) bool {
	x, y := a.tok.Value, b.tok.Value
	switch {
	case y == ")" || y == "]" || y == "," || x == "(" || x == "[" || a.unary:
		return false
	case x == "^" || y == "^" || x == ".." || y == "..", x == ":", y == ":" && x != ",":
		return false
	case y == "(" || y == "[":
		return !endsOperand(a)
	}
	return true
}

// endsOperand reports whether an operand can end at t: after one, "-" is
// binary, and "(" or "[" is a call or an index.
func endsOperand(it *item) bool {
	switch t := it.tok; t.Type {
	case tokIdent, tokInt, tokFloat:
		return true
	case tokPunct:
		return t.Value == ")" || t.Value == "]"
	}
	return false
}

func (p *printer) bytes() []byte {
	// Align the trailing comments of consecutive lines.
	for i := 0; i < len(p.lines); {
		j, width := i, 0
		for ; j < len(p.lines) && p.lines[j].code.Len() > 0 && p.lines[j].comment != ""; j++ {
			width = max(width, 4*p.lines[j].indent+p.lines[j].code.Len())
		}
		for k := i; k < j; k++ {
			l := p.lines[k]
			l.code.WriteString(strings.Repeat(" ", width-4*l.indent-l.code.Len()))
		}
		i = max(j, i+1)
	}
	var b bytes.Buffer
	for _, l := range p.lines {
		line := strings.Repeat("    ", l.indent) + l.code.String()
		if l.comment != "" {
			if l.code.Len() > 0 {
				line += " "
			}
			line += l.comment
		}
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// sameTokens reports whether a and b lex to the same tokens.
func sameTokens(a, b []byte) bool {
	sa := &bpScanner{src: a}
	sb := &bpScanner{src: b}
	for {
		ta, _ := sa.Next()
		tb, _ := sb.Next()
		if ta.Type != tb.Type || ta.Value != tb.Value {
			return false
		}
		if ta.EOF() {
			return true
		}
	}
}

// TokenKind is the kind of a Token.
type TokenKind int

// Token kinds.
const (
	KeywordToken TokenKind = iota // model, for, ...: Keywords
	NameToken
	NumberToken
	PunctToken // operators, brackets and commas
	CommentToken
	BadToken // a character or word the language does not have
)

// A Token is a token or a comment of a .bp file, for tools that work on
// its text, such as highlighters.
type Token struct {
	Kind TokenKind
	Text string // a comment's without its line end and trailing spaces
	Pos  Pos
}

// Tokens returns the tokens and comments of src in order. It never fails:
// what the language does not have is a BadToken.
func Tokens(src []byte) []Token {
	var out []Token
	lineStart, line := 0, 1
	for _, it := range scanItems(src) {
		for ; line < it.tok.Pos.Line; line++ {
			lineStart += bytes.IndexByte(src[lineStart:], '\n') + 1
		}
		t := Token{Text: it.tok.Value, Pos: Pos{Line: line, Col: utf8.RuneCount(src[lineStart:it.tok.Pos.Offset]) + 1}}
		switch {
		case it.comment:
			t.Kind = CommentToken
		case it.tok.Type == tokKeyword:
			t.Kind = KeywordToken
		case it.tok.Type == tokIdent:
			t.Kind = NameToken
		case it.tok.Type == tokInt || it.tok.Type == tokFloat:
			t.Kind = NumberToken
		case it.tok.Type == tokPunct:
			t.Kind = PunctToken
		default:
			t.Kind = BadToken
		}
		out = append(out, t)
	}
	return out
}
