package parser

import (
	"strings"
	"sync"
)

// Pos is a position in a .bp file. Line and Col count from 1; the zero Pos
// means "no position" (for nodes the compiler makes up).
type Pos struct {
	Line, Col int
}

// IsValid reports whether p is a real position.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Node is any syntax tree node.
type Node interface {
	Pos() Pos
	node()
}

// Expr is an expression node.
type Expr interface {
	Node
	exprNode()
}

// Stmt is a top-level declaration or a statement inside a block.
type Stmt interface {
	Node
	stmtNode()
}

// File is a parsed .bp file.
type File struct {
	Name  string // the file name as given, used in messages
	Src   []byte
	Stmts []Stmt

	startsOnce sync.Once
	starts     []int // offsets of the lines of Src, made by Line
}

// Line returns the text of the 1-based line n of the file, without its newline.
// It finds the line from an index of line starts, made once, so that
// quoting every line of a large file takes linear time. It is safe for
// concurrent use (codegen emits functions concurrently).
func (f *File) Line(n int) string {
	f.startsOnce.Do(func() {
		f.starts = []int{0}
		for i, c := range f.Src {
			if c == '\n' {
				f.starts = append(f.starts, i+1)
			}
		}
	})
	if n < 1 || n > len(f.starts) {
		return ""
	}
	end := len(f.Src)
	if n < len(f.starts) {
		end = f.starts[n] - 1
	}
	return strings.TrimRight(string(f.Src[f.starts[n-1]:end]), "\r")
}

// Expressions.
type (
	// Number is a numeric literal. IsInt reports that it was written
	// without a fraction or exponent, so it can size a tensor.
	Number struct {
		P     Pos
		Text  string
		Value float64
		IsInt bool
	}

	// Ident is a name.
	Ident struct {
		P    Pos
		Name string
	}

	// Unary is -X.
	Unary struct {
		P  Pos
		Op string
		X  Expr
	}

	// Binary is X Op Y; P is the operator's position.
	Binary struct {
		P    Pos
		Op   string // + - * / @ ^
		X, Y Expr
	}

	// Call is Fun(Args...).
	Call struct {
		P    Pos
		Fun  *Ident
		Args []Expr
	}

	// Index is X[Indexes...]; P is the position of "[".
	Index struct {
		P       Pos
		X       Expr
		Indexes []Expr
	}

	// Slice is Lo:Hi, an index of an Index that keeps the range [Lo, Hi)
	// of its axis; Lo or Hi is nil when left out (0 and the axis's
	// length). P is the position of its first token.
	Slice struct {
		P      Pos
		Lo, Hi Expr
	}
)

// Statements and declarations.
type (
	// ModelDecl is "model NAME".
	ModelDecl struct {
		P    Pos
		Name *Ident
	}

	// ConstDecl is "const NAME = VALUE".
	ConstDecl struct {
		P     Pos
		Name  *Ident
		Value Expr
	}

	// VarDecl is "param NAME[dims]" or "input NAME[dims]" or "input NAME int",
	// and also a shaped fn argument "NAME[dims]".
	VarDecl struct {
		P    Pos
		Kind string // "param", "input" or "arg"
		Name *Ident
		Dims []Expr
		Int  bool
	}

	// OutputDecl is "output NAME" or "output NAME = VALUE".
	OutputDecl struct {
		P     Pos
		Name  *Ident
		Value Expr // nil for "output NAME"
	}

	// Assign is "NAME = VALUE" or "NAME += VALUE".
	Assign struct {
		P     Pos
		Name  *Ident
		Op    string // "=" or "+="
		Value Expr
	}

	// Return is "return VALUE" inside a fn block.
	Return struct {
		P     Pos
		Value Expr
	}

	// For is "for VAR in FROM..TO { BODY }".
	For struct {
		P        Pos
		Var      *Ident
		From, To Expr
		Body     []Stmt
	}

	// FnDecl is "fn NAME(ARGS) = EXPR" or "fn NAME(ARGS) { BODY }".
	// The short form is stored as a body holding a single Return.
	FnDecl struct {
		P    Pos
		Name *Ident
		Args []*VarDecl
		Body []Stmt
	}
)

func (n *Number) Pos() Pos     { return n.P }
func (n *Ident) Pos() Pos      { return n.P }
func (n *Unary) Pos() Pos      { return n.P }
func (n *Binary) Pos() Pos     { return n.P }
func (n *Call) Pos() Pos       { return n.P }
func (n *Index) Pos() Pos      { return n.P }
func (n *Slice) Pos() Pos      { return n.P }
func (n *ModelDecl) Pos() Pos  { return n.P }
func (n *ConstDecl) Pos() Pos  { return n.P }
func (n *VarDecl) Pos() Pos    { return n.P }
func (n *OutputDecl) Pos() Pos { return n.P }
func (n *Assign) Pos() Pos     { return n.P }
func (n *Return) Pos() Pos     { return n.P }
func (n *For) Pos() Pos        { return n.P }
func (n *FnDecl) Pos() Pos     { return n.P }

func (*Number) node()     {}
func (*Ident) node()      {}
func (*Unary) node()      {}
func (*Binary) node()     {}
func (*Call) node()       {}
func (*Index) node()      {}
func (*Slice) node()      {}
func (*ModelDecl) node()  {}
func (*ConstDecl) node()  {}
func (*VarDecl) node()    {}
func (*OutputDecl) node() {}
func (*Assign) node()     {}
func (*Return) node()     {}
func (*For) node()        {}
func (*FnDecl) node()     {}

func (*Number) exprNode() {}
func (*Ident) exprNode()  {}
func (*Unary) exprNode()  {}
func (*Binary) exprNode() {}
func (*Call) exprNode()   {}
func (*Index) exprNode()  {}
func (*Slice) exprNode()  {}

func (*ModelDecl) stmtNode()  {}
func (*ConstDecl) stmtNode()  {}
func (*VarDecl) stmtNode()    {}
func (*OutputDecl) stmtNode() {}
func (*Assign) stmtNode()     {}
func (*Return) stmtNode()     {}
func (*For) stmtNode()        {}
func (*FnDecl) stmtNode()     {}

// Inspect walks the tree rooted at n in depth-first order, calling f for each
// node before its children; if f returns false the children are skipped.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	switch n := n.(type) {
	case *Unary:
		Inspect(n.X, f)
	case *Binary:
		Inspect(n.X, f)
		Inspect(n.Y, f)
	case *Call:
		Inspect(n.Fun, f)
		for _, a := range n.Args {
			Inspect(a, f)
		}
	case *Index:
		Inspect(n.X, f)
		for _, a := range n.Indexes {
			Inspect(a, f)
		}
	case *Slice:
		if n.Lo != nil {
			Inspect(n.Lo, f)
		}
		if n.Hi != nil {
			Inspect(n.Hi, f)
		}
	case *ModelDecl:
		Inspect(n.Name, f)
	case *ConstDecl:
		Inspect(n.Name, f)
		Inspect(n.Value, f)
	case *VarDecl:
		Inspect(n.Name, f)
		for _, d := range n.Dims {
			Inspect(d, f)
		}
	case *OutputDecl:
		Inspect(n.Name, f)
		if n.Value != nil {
			Inspect(n.Value, f)
		}
	case *Assign:
		Inspect(n.Name, f)
		Inspect(n.Value, f)
	case *Return:
		Inspect(n.Value, f)
	case *For:
		Inspect(n.Var, f)
		Inspect(n.From, f)
		Inspect(n.To, f)
		for _, s := range n.Body {
			Inspect(s, f)
		}
	case *FnDecl:
		Inspect(n.Name, f)
		for _, a := range n.Args {
			Inspect(a, f)
		}
		for _, s := range n.Body {
			Inspect(s, f)
		}
	}
}
