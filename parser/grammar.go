package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The participle grammar. These types never leave this package: Parse turns
// them into the syntax tree of ast.go, folding operator chains on the way.

var bpLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `//[^\n]*`},
	{Name: "Whitespace", Pattern: `[ \t\r\n]+`},
	// A float needs a digit after its point, so that 0..T lexes as 0 .. T.
	{Name: "Float", Pattern: `\d+\.\d+([eE][-+]?\d+)?|\d+[eE][-+]?\d+`},
	{Name: "Int", Pattern: `\d+`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Punct", Pattern: `\.\.|\+=|[-+*/^@=(),\[\]{}]`},
	{Name: "Bad", Pattern: `.`},
})

var grammar = participle.MustBuild[gFile](
	participle.Lexer(bpLexer),
	participle.Elide("Comment", "Whitespace"),
	participle.UseLookahead(3),
)

type gFile struct {
	Stmts []*gStmt `@@*`
}

type gStmt struct {
	Pos    lexer.Position
	Fn     *gFn     `  @@`
	Model  *gIdent  `| "model" @@`
	Const  *gConst  `| "const" @@`
	Param  *gVar    `| "param" @@`
	Input  *gVar    `| "input" @@`
	Output *gOutput `| "output" @@`
	For    *gFor    `| "for" @@`
	Return *gExpr   `| "return" @@`
	Assign *gAssign `| @@`
}

type gIdent struct {
	Pos  lexer.Position
	Name string `@Ident`
}

type gConst struct {
	Name  *gIdent `@@ "="`
	Value *gExpr  `@@`
}

type gVar struct {
	Name *gIdent  `@@`
	Dims []*gExpr `( "[" @@ ( "," @@ )* "]" )?`
	Int  bool     `@"int"?`
}

type gOutput struct {
	Name  *gIdent `@@`
	Value *gExpr  `( "=" @@ )?`
}

type gFor struct {
	Var  *gIdent  `@@ "in"`
	From *gExpr   `@@ ".."`
	To   *gExpr   `@@`
	Body []*gStmt `"{" @@* "}"`
}

type gFn struct {
	Name  *gIdent  `"fn" @@`
	Args  []*gVar  `"(" ( @@ ( "," @@ )* )? ")"`
	Short *gExpr   `( "=" @@`
	Body  []*gStmt `| "{" @@* "}" )`
}

type gAssign struct {
	Name  *gIdent `@@`
	Op    string  `@( "=" | "+=" )`
	Value *gExpr  `@@`
}

// gExpr is a chain of additive operators: Left (op Right)*.
type gExpr struct {
	Left *gTerm   `@@`
	Rest []*gAddT `@@*`
}

type gAddT struct {
	Pos   lexer.Position
	Op    string `@( "+" | "-" )`
	Right *gTerm `@@`
}

// gTerm is a chain of multiplicative operators, * / and @.
type gTerm struct {
	Left *gUnary  `@@`
	Rest []*gMulT `@@*`
}

type gMulT struct {
	Pos   lexer.Position
	Op    string  `@( "*" | "/" | "@" )`
	Right *gUnary `@@`
}

// gUnary binds looser than ^, so -x^2 is -(x^2) as in mathematics.
type gUnary struct {
	Pos   lexer.Position
	Neg   *gUnary `  "-" @@`
	Power *gPower `| @@`
}

// gPower is right-associative: the exponent is a unary, which may itself be
// a power, so a^b^c is a^(b^c).
type gPower struct {
	Base  *gPostfix `@@`
	OpPos *gCaret   `( @@`
	Exp   *gUnary   `  @@ )?`
}

type gCaret struct {
	Pos lexer.Position
	Op  string `@"^"`
}

type gPostfix struct {
	Primary  *gPrimary  `@@`
	Suffixes []*gSuffix `@@*`
}

type gSuffix struct {
	Pos   lexer.Position
	Call  *gArgs   `  "(" @@ ")"`
	Index []*gExpr `| "[" @@ ( "," @@ )* "]"`
}

type gArgs struct {
	Args []*gExpr `( @@ ( "," @@ )* )?`
}

type gPrimary struct {
	Pos    lexer.Position
	Number *string `  @( Float | Int )`
	Ident  *string `| @Ident`
	Paren  *gExpr  `| "(" @@ ")"`
}
