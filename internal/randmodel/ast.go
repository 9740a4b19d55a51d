// Package randmodel generates random valid .bp files for the differential
// test of the compiler (internal/difftest), and shrinks them.
//
// It reads a seed and produces a File: its own small syntax tree, built by a
// type-directed generator that knows every construct of the language, and
// printed (Print) as .bp text with comments and line breaks. Reduce shrinks
// a File while a predicate holds. The package shares no code with the
// compiler: it does not import parser or symbolic.
package randmodel

// File is a generated .bp file: fns and one model.
type File struct {
	Model   string
	Consts  []*Const
	Fns     []*Fn
	Decls   []*Decl
	Body    []Stmt
	FnFirst []bool // per fn: printed before the model (else after it)

	// Layout seeds the comments and line breaks Print adds; Plain prints
	// none.
	Layout int64
	Plain  bool
}

// Const is "const NAME = V".
type Const struct {
	Name string
	V    int
}

// Dim is a dimension or loop bound: its value, and the text it is written
// as ("3", "N", "N+1"); an empty Text prints V.
type Dim struct {
	V    int
	Text string
}

// Decl is a param, an input, or a fn argument.
type Decl struct {
	Kind string // "param", "input" or "arg"
	Name string
	Dims []Dim
	Int  bool
}

// Fn is "fn NAME(ARGS) { BINDINGS return RET }", or the one-line form when
// it has no bindings.
type Fn struct {
	Name string
	Args []*Decl
	Body []Stmt // *Assign only
	Ret  Expr
}

// Stmt is a statement of the model or of a loop body.
type Stmt interface{ stmt() }

// Assign is "NAME = X" or "NAME += X".
type Assign struct {
	Name string
	Op   string
	X    Expr
}

// For is "for VAR in FROM..TO { BODY }".
type For struct {
	Var      string
	From, To Dim
	Body     []Stmt
}

// Output is "output NAME" (X nil) or "output NAME = X".
type Output struct {
	Name string
	X    Expr
}

func (*Assign) stmt() {}
func (*For) stmt()    {}
func (*Output) stmt() {}

// Expr is an expression.
type Expr interface{ expr() }

type (
	// Num is a non-negative literal; negative numbers are Neg of a Num.
	Num struct{ V float64 }
	// Name is a reference to a value, param, input, argument or const.
	Name struct{ N string }
	// Neg is -X.
	Neg struct{ X Expr }
	// Bin is X Op Y for + - * / @ ^.
	Bin struct {
		Op   string
		X, Y Expr
	}
	// Call is F(Args...), a built-in or a fn; zeros and ones take Dims.
	Call struct {
		F    string
		Args []Expr
	}
	// Index is X[Idx...]; an index is a constant, or the name of a loop
	// variable or integer input.
	Index struct {
		X   Expr
		Idx []Idx
	}
	// DimExpr is a dimension argument of zeros or ones.
	DimExpr struct{ D Dim }
)

// Idx is one index: a constant (Name empty) or a name; if Of is set, the
// element of the tensor of integer inputs Of that the constant or name
// (a loop variable) picks.
//
// With Slice set, it is the slice Lo:Hi instead, a bound of -1 left out.
//
// A loop variable's index may be offset by Off (t-1, t+2); a slice with
// Name set moves with that loop variable: Name+Lo:Name+Hi.
type Idx struct {
	V    int
	Name string
	Of   string
	Off  int

	Slice  bool
	Lo, Hi int
}

func (*Num) expr()     {}
func (*Name) expr()    {}
func (*Neg) expr()     {}
func (*Bin) expr()     {}
func (*Call) expr()    {}
func (*Index) expr()   {}
func (*DimExpr) expr() {}
