package codegen

import (
	"go/token"
	"strconv"
	"strings"
	"unicode"

	"github.com/backpropgen/backpropgen/symbolic"
)

// namer hands out Go identifiers unique within one scope.
type namer struct {
	used map[string]bool
	next map[string]int // the next number to try after base
}

// reserved are names generated code must not shadow or redeclare: Go's
// keywords and predeclared identifiers, the packages it imports, and the
// receiver and parameter names of the generated methods.
var reserved = strings.Fields(`
	bool byte complex64 complex128 error float32 float64 int int8 int16 int32 int64
	rune string uint uint8 uint16 uint32 uint64 uintptr true false iota nil
	append cap clear close complex copy delete imag len make max min new panic print
	println real recover math unsafe fmt err p g ws in out lr i j n`)

func newNamer(extra ...string) *namer {
	n := &namer{used: map[string]bool{}, next: map[string]int{}}
	for _, r := range reserved {
		n.used[r] = true
	}
	return n.reserve(extra...)
}

// newFieldNamer names struct fields, which only need to be distinct.
func newFieldNamer() *namer { return &namer{used: map[string]bool{}, next: map[string]int{}} }

func (n *namer) reserve(extra ...string) *namer {
	for _, r := range extra {
		n.used[r] = true
	}
	return n
}

// fresh returns base, or base2, base3... whichever is free first, and marks
// it used. Keywords get a trailing underscore.
func (n *namer) fresh(base string) string {
	if base == "" {
		base = "t"
	}
	if token.IsKeyword(base) {
		base += "_"
	}
	if !n.used[base] {
		n.used[base] = true
		return base
	}
	// Counting on from the last number given for base keeps naming linear
	// in the number of names: thousands of t's must not scan t2, t3, ...
	for i := max(2, n.next[base]); ; i++ {
		c := base + strconv.Itoa(i)
		if !n.used[c] {
			n.used[c] = true
			n.next[base] = i + 1
			return c
		}
	}
}

// exported returns name with its first letter upper case.
func exported(name string) string {
	r := []rune(name)
	if r[0] == '_' {
		return "X" + name
	}
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// unexported returns name with its first letter lower case.
func unexported(name string) string {
	r := []rune(name)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// hintName names the variable of an unnamed value after what it computes
// where that is short to say: tanh(c) is tanhC. Other values are t, t2, ...
func hintName(n *symbolic.Node) string {
	if n.Name != "" {
		return n.Name
	}
	switch n.Op.Name {
	case "maxall":
		return "m"
	case "sum":
		return "s"
	}
	if n.Op.Kind == symbolic.Elementwise && len(n.Args) == 1 && n.Op.Go.Prefix == "" {
		arg := n.Args[0].Name
		if v := n.Args[0].Var; v != nil {
			arg = v.Name
		}
		if arg != "" && !strings.Contains(n.Op.Name, "_") {
			return n.Op.Name + exported(arg)
		}
	}
	return ""
}
