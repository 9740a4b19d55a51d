package codegen

import (
	"go/token"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/backpropgen/backpropgen/symbolic"
)

// namer hands out Go identifiers unique within one scope.
type namer struct {
	used map[string]bool
	next map[string]int // the next number to try after base
	log  []given        // the names handed out, for undo
}

// given is a name fresh handed out, and the counter of its base before.
type given struct {
	name, base string
	next       int
}

// mark returns a point to undo to.
func (n *namer) mark() int { return len(n.log) }

// undo takes back the names handed out since mark: code generated and then
// dropped (a loop body generated again) does not leave gaps in the names.
func (n *namer) undo(mark int) {
	for i := len(n.log) - 1; i >= mark; i-- {
		g := n.log[i]
		delete(n.used, g.name)
		n.next[g.base] = g.next
	}
	n.log = n.log[:mark]
}

// reserved are names generated code must not shadow or redeclare: Go's
// predeclared identifiers, the packages it imports, and the loop variables
// codegen names itself.
var reserved = strings.Fields(`
	bool byte complex64 complex128 error float32 float64 int int8 int16 int32 int64
	rune string uint uint8 uint16 uint32 uint64 uintptr true false iota nil
	append cap clear close complex copy delete imag len make max min new panic print
	println real recover math unsafe fmt rand i j n q q2 q3`)

// methodParams are the receiver and parameter names of the model's
// methods, which their locals must not take (a fn's function has none,
// so a fn argument p stays p).
var methodParams = strings.Fields(`err p g ws in out lr`)

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

// taken reports whether name is in use.
func (n *namer) taken(name string) bool { return n.used[name] || token.IsKeyword(name) }

// fresh returns base, or base2, base3... whichever is free first, and marks
// it used. Keywords get a trailing underscore.
func (n *namer) fresh(base string) string {
	if base == "" {
		base = "t"
	}
	base = camel(base)
	if token.IsKeyword(base) {
		base += "_"
	}
	if !n.used[base] {
		n.used[base] = true
		n.log = append(n.log, given{base, base, n.next[base]})
		return base
	}
	// Counting on from the last number given for base keeps naming linear
	// in the number of names: thousands of t's must not scan t2, t3, ...
	for i := max(2, n.next[base]); ; i++ {
		c := base + strconv.Itoa(i)
		if !n.used[c] {
			n.used[c] = true
			n.log = append(n.log, given{c, base, n.next[base]})
			n.next[base] = i + 1
			return c
		}
	}
}

// camel writes a .bp name in Go's style: c_prev is cPrev, f_exp fExp. A
// name that is all underscores stays as it is.
func camel(name string) string {
	if !strings.Contains(name, "_") {
		return name
	}
	parts := strings.Split(name, "_")
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 && unicode.IsLetter([]rune(p)[0]) {
			r := []rune(p)
			r[0] = unicode.ToUpper(r[0])
			p = string(r)
		} else if b.Len() > 0 {
			b.WriteByte('_') // x_1 stays x_1: x1 would read as another x
		}
		b.WriteString(p)
	}
	if b.Len() == 0 {
		return name
	}
	return b.String()
}

// exported returns name in Go's style with its first letter upper case.
func exported(name string) string {
	name = camel(name)
	r := []rune(name)
	if r[0] == '_' {
		return "X" + name
	}
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// unexported returns name in Go's style with its first letter lower case.
func unexported(name string) string {
	name = camel(name)
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
	switch n.Op.Code {
	case symbolic.OpMaxAll:
		return "m"
	case symbolic.OpSum:
		return "sum"
	case symbolic.OpScatter:
		return "scatter"
	case symbolic.OpSub:
		if n.Args[1].Op.Code == symbolic.OpMaxAll {
			return "shifted" // x - max(x), in softmax and its kin
		}
	}
	if n.Op.Code == symbolic.OpNeg && (n.Args[0].Name != "" || n.Args[0].Var != nil) {
		arg := n.Args[0].Name
		if v := n.Args[0].Var; v != nil {
			arg = v.Name
		}
		return "neg" + exported(arg)
	}
	if n.Op.Kind == symbolic.Elementwise && len(n.Args) == 1 && n.Op.Code != symbolic.OpNeg && !strings.Contains(n.Op.Name, "_") {
		// A function of one argument is named after it (tanh, exp), and
		// its argument if that has a name (tanhA0): not t, t2, t3 for
		// three different things.
		arg := n.Args[0].Name
		if v := n.Args[0].Var; v != nil {
			arg = v.Name
		}
		switch {
		case slices.Contains(reserved, n.Op.Name):
			return ""
		case arg == "":
			return n.Op.Name
		}
		return n.Op.Name + exported(arg)
	}
	return ""
}

// Package-level names. The generated file declares, for a model m, the
// types MParams, MInputs, MOutputs, MWorkspace, the constants MNumParams
// and MNumInputs, the variables mParamNames, mParamFields, mParamSizes,
// mInputNames, mInputFields and mInputSizes and the helpers mSigmoid, ...;
// for each fn f, F and FGrad. A fn whose names are taken (fn F beside fn
// f, fn fGrad beside fn f, fn mParams in model m) gets a trailing
// underscore until both are free: F_ and F_Grad. Locals never take a
// package-level name, so they cannot hide one.

// topNames returns the package-level names of prog's model and helpers.
func (fg *fileGen) topNames() []string {
	var names []string
	if m := fg.prog.Model; m != nil {
		t := exported(m.Name)
		names = append(names, t+"NumParams", t+"NumInputs", t+"Params", t+"Inputs", t+"Outputs", t+"Workspace")
		for _, kind := range []string{"Param", "Input"} {
			for _, list := range []string{"Names", "Fields", "Sizes"} {
				names = append(names, unexported(t)+kind+list)
			}
		}
	}
	for h := range helpers {
		names = append(names, fg.prefix+exported(h))
	}
	return names
}

// nameFns names each fn's value and gradient functions (fnName, fnName +
// "Grad") and records every package-level name in fg.globals.
func (fg *fileGen) nameFns() {
	fg.globals = fg.topNames()
	taken := map[string]bool{}
	for _, n := range fg.globals {
		taken[n] = true
	}
	fg.fnNames = map[*symbolic.Func]string{}
	for _, fn := range fg.prog.Fns {
		name := exported(fn.Name)
		for taken[name] || taken[name+"Grad"] {
			name += "_"
		}
		taken[name], taken[name+"Grad"] = true, true
		fg.fnNames[fn] = name
		fg.globals = append(fg.globals, name, name+"Grad")
	}
}

// newLocals returns a namer for a function's locals, which must not hide
// a package-level name the function may use.
func (fg *fileGen) newLocals() *namer { return newNamer(fg.globals...).reserve(methodParams...) }

// newFnLocals is newLocals for a fn's functions, which have no receiver
// and only the fn's own arguments.
func (fg *fileGen) newFnLocals() *namer { return newNamer(fg.globals...) }

// methods are the names of the methods of the Params, Inputs and Outputs
// types, which their fields must not take: a param flat becomes the field
// Flat_.
var methods = map[string][]string{
	"Params": {"Forward", "Backward", "BackwardTo", "LossGrad", "LossGradTo", "Predict",
		"Flat", "Layout", "Step", "Init"},
	"Inputs":  {"Validate", "Flat", "Ints", "Layout"},
	"Outputs": {},
}

// takenFields returns the field names of the type kind that are taken.
func takenFields(kind string) map[string]bool {
	taken := map[string]bool{}
	for _, m := range methods[kind] {
		taken[m] = true
	}
	return taken
}
