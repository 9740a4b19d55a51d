package parser

import (
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Parsing a valid file statement by statement.
//
// grammar parses a file as one "@@*", and participle spends some four
// hundred allocations on each statement of a line's length: a megabyte of
// bindings took seconds, and parseGrowing parsed a valid file's prefixes
// too. parseStmts lexes the file once and has participle parse each
// statement shape once: a shape is the statement's tokens and the token
// after it, with every name and number alike. Any statement of a known
// shape gets a copy of that parse with its own names, numbers and
// positions.
//
// This gives the parse of the whole file because the grammar is LL(1) and
// no statement can go on with a token that starts one (a keyword, "}" or a
// name): in a valid file, participle decides each step of a statement on
// one token, never consumes a token on a path it abandons, and ends the
// statement at the token after it, whatever follows that. It matches names
// and numbers by type, never by value. TestParseStmtsAgrees checks this
// against grammar on every model, error case and mutation the tests have.

// stmtGrammar parses one statement.
var stmtGrammar = participle.MustBuild[gStmt](
	participle.Lexer(bpLexer),
	participle.UseLookahead(3),
)

// parseStmts parses src as grammar does, reporting false for a syntax
// error, which parseGrowing then finds and reports.
func parseStmts(name string, src []byte) ([]*gStmt, bool) {
	lx, _ := bpLexer.LexBytes(name, src)
	ts := &tokens{lx: lx}
	shapes := &shapeNode{}
	var gs []*gStmt
	for c := 0; !ts.at(c).EOF(); {
		s := shapes.find(ts, c)
		if s == nil {
			if s = parseShape(ts, c); s == nil {
				return nil, false
			}
			shapes.add(ts.from(c, s.n+1), s)
		}
		g := relocate(s.stmt, ts.from(c, s.n+1))
		if g == nil {
			return nil, false
		}
		gs = append(gs, g)
		c += s.n
	}
	// "@@*" stops at MaxIterations, and the file is then an error.
	if len(gs) >= participle.MaxIterations {
		return nil, false
	}
	return gs, true
}

// tokens lexes as far as it is asked to: a syntax error at the top of a
// megabyte is found without lexing the rest. Tokens are kept in chunks of
// a fixed size, so that a large file's are never copied to grow a slice.
type tokens struct {
	lx     lexer.Lexer
	chunks [][]lexer.Token // tokenChunk tokens each, the last one filling
	n      int             // tokens lexed
	eof    bool            // the last one is EOF
}

const tokenChunk = 4096

func (t *tokens) get(i int) *lexer.Token { return &t.chunks[i/tokenChunk][i%tokenChunk] }

// at returns token i, or EOF past the end.
func (t *tokens) at(i int) *lexer.Token {
	t.lex(i + 1)
	return t.get(min(i, t.n-1))
}

// from returns up to n tokens from token i, fewer if the file ends,
// the last one then EOF.
func (t *tokens) from(i, n int) []lexer.Token {
	t.lex(i + n)
	end := min(i+n, t.n)
	if end <= i {
		return nil
	}
	if i/tokenChunk == (end-1)/tokenChunk {
		return t.chunks[i/tokenChunk][i%tokenChunk : (end-1)%tokenChunk+1]
	}
	out := make([]lexer.Token, end-i) // across two chunks
	for j := range out {
		out[j] = *t.get(i + j)
	}
	return out
}

func (t *tokens) lex(n int) {
	for t.n < n && !t.eof {
		if t.n%tokenChunk == 0 {
			t.chunks = append(t.chunks, make([]lexer.Token, 0, tokenChunk))
		}
		tok, _ := t.lx.Next()
		last := &t.chunks[len(t.chunks)-1]
		*last = append(*last, tok)
		t.n++
		t.eof = tok.EOF()
	}
}

// A shape is parsed once, from placeholder tokens: a name or number at
// index i has the value "\x00i", and every token's position has Offset i.
type shape struct {
	stmt *gStmt
	n    int // tokens in the statement
}

// tokKind is what participle can tell tokens apart by.
type tokKind struct {
	typ   lexer.TokenType
	value string // but for names and numbers
}

func kindOf(t *lexer.Token) tokKind {
	if isPlaceheld(t.Type) {
		return tokKind{typ: t.Type}
	}
	return tokKind{t.Type, t.Value}
}

func isPlaceheld(t lexer.TokenType) bool { return t == tokIdent || t == tokInt || t == tokFloat }

// shapeNode is a trie of shapes by their tokens' kinds.
type shapeNode struct {
	next  map[tokKind]*shapeNode
	shape *shape
}

// find returns the shape of the statement at token c, if known.
func (n *shapeNode) find(ts *tokens, c int) *shape {
	for i := c; ; i++ {
		t := ts.at(i)
		if n = n.next[kindOf(t)]; n == nil {
			return nil
		}
		if n.shape != nil {
			return n.shape
		}
		if t.EOF() {
			return nil
		}
	}
}

// add records s, the shape of toks.
func (n *shapeNode) add(toks []lexer.Token, s *shape) {
	for i := range toks {
		k := kindOf(&toks[i])
		if n.next[k] == nil {
			if n.next == nil {
				n.next = map[tokKind]*shapeNode{}
			}
			n.next[k] = &shapeNode{}
		}
		n = n.next[k]
	}
	n.shape = s
}

// parseShape parses the statement toks starts with, from placeholder
// tokens, or returns nil for a syntax error. It shows participle a window
// of the tokens, widened until the statement fits and the token after it
// starts a statement or ends the file: participle then looked no further.
// (In "x = y[1" cut after 1, the "[" was tried and abandoned.) An error
// far from the cut is not the cut's doing, and ends the search: nil only
// sends Parse the slow way, so a megabyte of garbage is not copied into
// ever wider windows.
func parseShape(ts *tokens, c int) *shape {
	for w := 32; ; w *= 2 {
		toks := ts.from(c, w)
		whole := toks[len(toks)-1].EOF()
		if whole {
			toks = toks[:len(toks)-1]
		}
		win := placeholders(toks)
		pl, _ := lexer.Upgrade(&sliceLexer{toks: win})
		g, err := stmtGrammar.ParseFromLexer(pl, participle.AllowTrailing(true))
		n := pl.Cursor()
		if err == nil && (n < len(win)-1 && startsStmt(&win[n]) || whole && n == len(win)-1) {
			return &shape{stmt: g, n: n}
		}
		var perr participle.Error
		if whole || errors.As(err, &perr) && perr.Position().Offset < len(win)/2 {
			return nil
		}
	}
}

// startsStmt reports whether a gStmt can begin with t.
func startsStmt(t *lexer.Token) bool {
	switch t.Type {
	case tokIdent:
		return true
	case tokKeyword:
		return t.Value != "in" && t.Value != "int"
	case tokPunct:
		return t.Value == "}"
	}
	return false
}

// placeholders returns toks and an EOF token, renumbered.
func placeholders(toks []lexer.Token) []lexer.Token {
	out := make([]lexer.Token, len(toks)+1)
	for i, t := range toks {
		out[i] = lexer.Token{Type: t.Type, Value: t.Value, Pos: lexer.Position{Offset: i}}
		if isPlaceheld(t.Type) {
			out[i].Value = "\x00" + strconv.Itoa(i)
		}
	}
	out[len(toks)] = lexer.EOFToken(lexer.Position{Offset: len(toks)})
	return out
}

type sliceLexer struct{ toks []lexer.Token }

func (l *sliceLexer) Next() (lexer.Token, error) {
	t := l.toks[0]
	if !t.EOF() {
		l.toks = l.toks[1:]
	}
	return t, nil
}

var (
	positionType      = reflect.TypeFor[lexer.Position]()
	positionOffset, _ = positionType.FieldByName("Offset")
)

// relocate returns a copy of a shape's statement with the values and
// positions of toks, or nil if it holds something not from a token.
func relocate(g *gStmt, toks []lexer.Token) *gStmt {
	r := relocator{toks: toks, ok: true}
	out := reflect.New(reflect.TypeFor[gStmt]())
	r.copy(out.Elem(), reflect.ValueOf(g).Elem())
	if !r.ok {
		return nil
	}
	return out.Interface().(*gStmt)
}

type relocator struct {
	toks []lexer.Token
	ok   bool
}

func (r *relocator) copy(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if !src.IsNil() {
			p := reflect.New(src.Type().Elem())
			r.copy(p.Elem(), src.Elem())
			dst.Set(p)
		}
	case reflect.Slice:
		if !src.IsNil() {
			s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
			for i := range src.Len() {
				r.copy(s.Index(i), src.Index(i))
			}
			dst.Set(s)
		}
	case reflect.Struct:
		if src.Type() == positionType {
			// Without boxing the positions: a large file has millions.
			if i := int(src.FieldByIndex(positionOffset.Index).Int()); i < len(r.toks) {
				dst.Set(reflect.ValueOf(&r.toks[i].Pos).Elem())
			} else {
				r.ok = false
			}
			return
		}
		for i := range src.NumField() {
			r.copy(dst.Field(i), src.Field(i))
		}
	case reflect.String:
		dst.SetString(r.value(src.String()))
	default:
		dst.Set(src)
	}
}

// value returns the value a placeholder stands for.
func (r *relocator) value(s string) string {
	if !strings.HasPrefix(s, "\x00") {
		return s
	}
	i, err := strconv.Atoi(s[1:])
	if err != nil || i >= len(r.toks) || !isPlaceheld(r.toks[i].Type) {
		r.ok = false
		return s
	}
	return r.toks[i].Value
}
