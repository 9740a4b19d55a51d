package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The participle grammar. These types never leave this package: Parse turns
// them into the syntax tree of ast.go, folding operator chains on the way.

var grammar = participle.MustBuild[gFile](
	participle.Lexer(bpLexer),
	participle.UseLookahead(3),
)

type gFile struct {
	Stmts []*gStmt `parser:"@@*"`
}

type gStmt struct {
	Pos    lexer.Position
	Fn     *gFn     `parser:"  @@"`
	Model  *gIdent  `parser:"| 'model' @@"`
	Const  *gConst  `parser:"| 'const' @@"`
	Param  *gVar    `parser:"| 'param' @@"`
	Input  *gVar    `parser:"| 'input' @@"`
	Output *gOutput `parser:"| 'output' @@"`
	For    *gFor    `parser:"| 'for' @@"`
	Close  *gClose  `parser:"| @@"`
	Return *gExpr   `parser:"| 'return' @@"`
	Assign *gAssign `parser:"| @@"`
}

type gIdent struct {
	Pos  lexer.Position
	Name string `parser:"@Ident"`
}

type gConst struct {
	Name  *gIdent `parser:"@@ '='"`
	Value *gExpr  `parser:"@@"`
}

type gVar struct {
	Name *gIdent  `parser:"@@"`
	Dims []*gExpr `parser:"( '[' @@ ( ',' @@ )* ']' )?"`
	Int  bool     `parser:"@'int'?"`
}

type gOutput struct {
	Name  *gIdent `parser:"@@"`
	Value *gExpr  `parser:"( '=' @@ )?"`
}

// A block's "{" ends the statement that opens it (for, fn) and its "}" is
// a statement of its own; the converter nests the statements between them.
// Kept flat, a mistake inside a block is reported where it is, not as a
// missing "}" at the start of the expression that holds it.
type gFor struct {
	Var  *gIdent `parser:"@@ 'in'"`
	From *gExpr  `parser:"@@ '..'"`
	To   *gExpr  `parser:"@@"`
	Open *gOpen  `parser:"@@"`
}

type gFn struct {
	Name  *gIdent `parser:"'fn' @@"`
	Args  []*gVar `parser:"'(' ( @@ ( ',' @@ )* )? ')'"`
	Short *gExpr  `parser:"( '=' @@"`
	Open  *gOpen  `parser:"| @@ )"`
}

type gOpen struct {
	Pos   lexer.Position
	Brace string `parser:"@'{'"`
}

type gClose struct {
	Pos   lexer.Position
	Brace string `parser:"@'}'"`
}

type gAssign struct {
	Name  *gIdent `parser:"@@"`
	Op    string  `parser:"@( '=' | '+=' )"`
	Value *gExpr  `parser:"@@"`
}

// gExpr is a chain of additive operators: Left (op Right)*.
type gExpr struct {
	Left *gTerm   `parser:"@@"`
	Rest []*gAddT `parser:"@@*"`
}

type gAddT struct {
	Pos   lexer.Position
	Op    string `parser:"@( '+' | '-' )"`
	Right *gTerm `parser:"@@"`
}

// gTerm is a chain of multiplicative operators, * / and @.
type gTerm struct {
	Left *gUnary  `parser:"@@"`
	Rest []*gMulT `parser:"@@*"`
}

type gMulT struct {
	Pos   lexer.Position
	Op    string  `parser:"@( '*' | '/' | '@' )"`
	Right *gUnary `parser:"@@"`
}

// gUnary binds looser than ^, so -x^2 is -(x^2) as in mathematics.
type gUnary struct {
	Pos   lexer.Position
	Neg   *gUnary `parser:"  '-' @@"`
	Power *gPower `parser:"| @@"`
}

// gPower is right-associative: the exponent is a unary, which may itself be
// a power, so a^b^c is a^(b^c).
type gPower struct {
	Base  *gPostfix `parser:"@@"`
	OpPos *gCaret   `parser:"( @@"`
	Exp   *gUnary   `parser:"  @@ )?"`
}

type gCaret struct {
	Pos lexer.Position
	Op  string `parser:"@'^'"`
}

type gPostfix struct {
	Primary  *gPrimary  `parser:"@@"`
	Suffixes []*gSuffix `parser:"@@*"`
}

type gSuffix struct {
	Pos   lexer.Position
	Call  *gArgs    `parser:"  '(' @@ ')'"`
	Index []*gIndex `parser:"| '[' @@ ( ',' @@ )* ']'"`
}

// gIndex is an index, or a slice lo:hi with either bound left out.
type gIndex struct {
	Pos   lexer.Position
	Lo    *gExpr `parser:"(  @@"`
	Colon bool   `parser:"   ( @':'"`
	Hi    *gExpr `parser:"     @@? )?"`
	Bare  bool   `parser:"| @':'"`
	BHi   *gExpr `parser:"  @@? )"`
}

type gArgs struct {
	Args []*gExpr `parser:"( @@ ( ',' @@ )* )?"`
}

type gPrimary struct {
	Pos    lexer.Position
	Number *string `parser:"  @( Float | Int )"`
	Ident  *string `parser:"| @Ident"`
	Paren  *gExpr  `parser:"| '(' @@ ')'"`
}
