package parser

import (
	"io"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// The lexer is written by hand rather than with participle's regular
// expressions: it is some fifty times faster, which matters because a file
// with syntax errors is lexed again for each error reported (syntaxErrors),
// and a megabyte of garbage must still be rejected in well under a second.

// Token types. Comments and white space are skipped, not returned.
const (
	tokEOF lexer.TokenType = lexer.EOF - iota
	tokKeyword
	tokIdent
	tokFloat
	tokInt
	tokPunct
	tokBad // anything else: one character, or a recognisable mistake (see badToken)
)

// Keywords are reserved: none of them can name a const, param, input,
// binding, fn, argument or loop variable.
var Keywords = []string{"model", "const", "param", "input", "output", "fn", "return", "for", "in", "int"}

var keywordSet = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range Keywords {
		m[k] = true
	}
	return m
}()

type bpLexerDef struct{}

var bpLexer bpLexerDef

func (bpLexerDef) Symbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF": tokEOF, "Keyword": tokKeyword, "Ident": tokIdent, "Float": tokFloat,
		"Int": tokInt, "Punct": tokPunct, "Bad": tokBad,
	}
}

func (d bpLexerDef) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexBytes(filename, src)
}

func (bpLexerDef) LexBytes(filename string, src []byte) (lexer.Lexer, error) {
	return &bpScanner{src: src, pos: lexer.Position{Filename: filename, Line: 1, Column: 1}}, nil
}

type bpScanner struct {
	src []byte
	off int
	pos lexer.Position // of src[off]
}

// advance moves past n bytes, none of them a newline.
func (s *bpScanner) advance(n int) {
	s.pos.Column += utf8.RuneCount(s.src[s.off : s.off+n])
	s.off += n
	s.pos.Offset = s.off
}

func (s *bpScanner) Next() (lexer.Token, error) {
	for s.off < len(s.src) {
		switch c := s.src[s.off]; {
		case c == '\n':
			s.off++
			s.pos.Line++
			s.pos.Column = 1
			s.pos.Offset = s.off
		case c == ' ' || c == '\t' || c == '\r':
			s.advance(1)
		case c == '/' && s.peek(1) == '/':
			n := 2
			for s.off+n < len(s.src) && s.src[s.off+n] != '\n' {
				n++
			}
			s.advance(n)
		default:
			typ, n := scanToken(s.src[s.off:])
			tok := lexer.Token{Type: typ, Value: string(s.src[s.off : s.off+n]), Pos: s.pos}
			s.advance(n)
			return tok, nil
		}
	}
	return lexer.EOFToken(s.pos), nil
}

func (s *bpScanner) peek(i int) byte {
	if s.off+i < len(s.src) {
		return s.src[s.off+i]
	}
	return 0
}

func isLetter(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// scanToken returns the type and length of the token b starts with (b is
// not empty and does not start with white space or a // comment).
func scanToken(b []byte) (lexer.TokenType, int) {
	c := b[0]
	switch {
	case isLetter(c):
		n := 1
		for n < len(b) && (isLetter(b[n]) || isDigit(b[n])) {
			n++
		}
		if keywordSet[string(b[:n])] {
			return tokKeyword, n
		}
		return tokIdent, n
	case isDigit(c):
		return scanNumber(b)
	}
	if len(b) >= 2 {
		switch string(b[:2]) {
		case "..", "+=":
			return tokPunct, 2
		case "/*":
			return tokBad, 2
		}
	}
	switch c {
	case '+', '-', '*', '/', '^', '@', '=', '(', ')', ',', '[', ']', '{', '}', ':':
		return tokPunct, 1
	case '"', '\'', '`':
		n := 1 // a quoted name: the whole string is one bad token
		for n < len(b) && b[n] != '\n' && b[n] != c {
			n++
		}
		if n < len(b) && b[n] == c {
			n++
		}
		return tokBad, n
	}
	_, n := utf8.DecodeRune(b)
	return tokBad, n
}

// scanNumber scans 2, 0.5, 1e-3, 2.5e10. A float needs a digit after its
// point, so that 0..T lexes as 0 .. T. A number run into letters (0x10,
// 3abc) is one bad token.
func scanNumber(b []byte) (lexer.TokenType, int) {
	n := digits(b, 0)
	typ := tokInt
	if n+1 < len(b) && b[n] == '.' && isDigit(b[n+1]) {
		n, typ = digits(b, n+1), tokFloat
	}
	if n < len(b) && (b[n] == 'e' || b[n] == 'E') {
		m := n + 1
		if m < len(b) && (b[m] == '+' || b[m] == '-') {
			m++
		}
		if m < len(b) && isDigit(b[m]) {
			n, typ = digits(b, m), tokFloat
		}
	}
	if n < len(b) && (isLetter(b[n]) || b[n] == '.' && n+1 < len(b) && isDigit(b[n+1])) {
		for n < len(b) && (isLetter(b[n]) || isDigit(b[n]) || b[n] == '.' && n+1 < len(b) && isDigit(b[n+1])) {
			n++
		}
		return tokBad, n
	}
	return typ, n
}
