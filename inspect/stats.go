package inspect

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"

	"github.com/backpropgen/backpropgen/symbolic"
)

// FLOPs counts floating-point operations the way Stats reports them: a
// multiply-add is 2 (a matrix-vector product [m, k]·[k] is 2mk), every
// other elementwise operation 1 per element, a transcendental function
// (exp, log, tanh, sigmoid, pow, ...) 1 per element, a sum or maximum of n
// elements n−1, an outer product one multiplication per element; views
// (indexing, transposition, broadcasting) and scatters cost nothing. A
// node in a loop body counts once per step of each loop around it.
func FLOPs(n *symbolic.Node) int64 {
	size := int64(n.Shape.Size())
	switch n.Op.Kind {
	case symbolic.Elementwise:
		if n.Op.Code == symbolic.OpAddN {
			return size * int64(len(n.Args)-1)
		}
		return size
	case symbolic.Reduce:
		return int64(n.Args[0].Shape.Size()) - 1
	case symbolic.MatMul:
		a := n.Args[0].Shape
		return 2 * size * int64(a[len(a)-1])
	case symbolic.Outer:
		return size
	}
	return 0
}

// transcendental reports whether n is a function counted as 1 FLOP that
// takes many.
func transcendental(n *symbolic.Node) bool {
	switch n.Op.Code {
	case symbolic.OpExp, symbolic.OpLog, symbolic.OpLog1p, symbolic.OpSqrt, symbolic.OpSin, symbolic.OpCos,
		symbolic.OpTan, symbolic.OpTanh, symbolic.OpAtan, symbolic.OpErf, symbolic.OpNormCDF, symbolic.OpSigmoid,
		symbolic.OpSoftplus, symbolic.OpCosh, symbolic.OpSinh, symbolic.OpAsin, symbolic.OpAcos, symbolic.OpExpm1,
		symbolic.OpLog2, symbolic.OpLog10, symbolic.OpRsqrt, symbolic.OpGelu, symbolic.OpSilu, symbolic.OpPow,
		symbolic.OpPowLog, symbolic.OpElu:
		return true
	}
	return false
}

// LineCount is the work of one .bp line, in FLOPs per call: all steps of
// the loops it is in; Steps is their number (1 outside loops, 0 for a
// line with work both in a loop and outside).
type LineCount struct {
	Line              int
	Forward, Backward int64
	Steps             int64
}

// LoopCount is the work of one loop of the model.
type LoopCount struct {
	Line                      int
	Steps                     int   // its own steps
	ForwardStep, BackwardStep int64 // one step of its body, all steps of inner loops
	Forward, Backward         int64 // all steps, and all steps of the loops around it
}

// Count is the arithmetic of one unit.
type Count struct {
	Unit                  *Unit
	Lines                 []LineCount // by line
	Loops                 []LoopCount // by line
	Forward, Backward     int64
	ForwardTr, BackwardTr int64 // of which transcendental functions
}

// steps is how many times a node in scope s runs per call.
func steps(s *symbolic.Loop) int64 {
	k := int64(1)
	for ; s != nil; s = s.Parent {
		k *= int64(s.Len())
	}
	return k
}

// CountFLOPs counts the forward pass (the values the loss and the outputs
// need) and the backward pass (the derivative nodes the gradients need),
// per .bp line and per loop.
func CountFLOPs(u *Unit) *Count {
	c := &Count{Unit: u}
	lines := map[int]*LineCount{}
	loops := map[*symbolic.Loop]*LoopCount{}
	line := func(n *symbolic.Node) *LineCount {
		lc := lines[n.Line]
		if lc == nil {
			lc = &LineCount{Line: n.Line, Steps: steps(n.Scope)}
			lines[n.Line] = lc
		}
		if lc.Steps != steps(n.Scope) {
			lc.Steps = 0 // work in and out of loops: no one number of steps
		}
		return lc
	}
	// fwdOf maps a loop (or a reverse loop) to the forward loop it counts as.
	fwdOf := func(l *symbolic.Loop) *symbolic.Loop {
		if l != nil && l.Reverse {
			return l.Fwd
		}
		return l
	}
	add := func(n *symbolic.Node, backward bool) {
		f := FLOPs(n)
		if f == 0 {
			return
		}
		total := f * steps(n.Scope)
		lc := line(n)
		if backward {
			lc.Backward += total
			c.Backward += total
		} else {
			lc.Forward += total
			c.Forward += total
		}
		if transcendental(n) {
			if backward {
				c.BackwardTr += total
			} else {
				c.ForwardTr += total
			}
		}
		for s := n.Scope; s != nil; s = s.Parent {
			l := fwdOf(s)
			lp := loops[l]
			if lp == nil {
				lp = &LoopCount{Line: l.Node.Line, Steps: l.Len()}
				loops[l] = lp
			}
			outer := steps(l.Parent)
			if backward {
				lp.Backward += total
				lp.BackwardStep += total / outer / int64(l.Len())
			} else {
				lp.Forward += total
				lp.ForwardStep += total / outer / int64(l.Len())
			}
		}
	}
	for _, n := range reach(u.forwardRoots()) {
		add(n, false)
	}
	for _, n := range reach(u.backwardRoots()) {
		if u.IsBackward(n) {
			add(n, true)
		}
	}
	for _, lc := range lines {
		c.Lines = append(c.Lines, *lc)
	}
	slices.SortFunc(c.Lines, func(a, b LineCount) int { return a.Line - b.Line })
	for _, lp := range loops {
		c.Loops = append(c.Loops, *lp)
	}
	slices.SortFunc(c.Loops, func(a, b LoopCount) int { return a.Line - b.Line })
	return c
}

// Workspace is the size of a model's Workspace type in generated Go.
type Workspace struct {
	Type    string
	Fields  int
	Numbers int64 // float64s and ints
	Bytes   int64
}

// WorkspaceOf finds the model's Workspace struct (the one Forward and
// LossGrad take, named like its Params type) in the generated source code and adds up its fields' sizes: float64 and int are 8 bytes
// (backpropgen generates for 64-bit platforms' int), an array [n]T is n
// times T. The generated code uses no other field types; any other is an
// error. It returns nil if the source declares no Workspace (a file of
// fns).
func WorkspaceOf(code []byte) (*Workspace, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "generated.go", code, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	// The model's types are PREFIXParams, PREFIXWorkspace, ...; other
	// workspaces (PREFIXBatchWorkspace) are not the one a call uses.
	structs := map[string]*ast.StructType{}
	var order []string
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			if st, ok := ts.Type.(*ast.StructType); ok {
				structs[ts.Name.Name] = st
				order = append(order, ts.Name.Name)
			}
		}
	}
	for _, name := range order {
		prefix, ok := strings.CutSuffix(name, "Params")
		st := structs[prefix+"Workspace"]
		if !ok || st == nil {
			continue
		}
		w := &Workspace{Type: prefix + "Workspace"}
		for _, field := range st.Fields.List {
			n, err := numbers(field.Type)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", w.Type, err)
			}
			k := int64(max(len(field.Names), 1))
			w.Fields += int(k)
			w.Numbers += k * n
		}
		w.Bytes = 8 * w.Numbers
		return w, nil
	}
	return nil, nil
}

// numbers is how many float64s or ints a field type holds.
func numbers(t ast.Expr) (int64, error) {
	switch t := t.(type) {
	case *ast.Ident:
		if t.Name == "float64" || t.Name == "int" {
			return 1, nil
		}
	case *ast.ArrayType:
		lit, ok := t.Len.(*ast.BasicLit)
		if !ok || lit.Kind != token.INT {
			break
		}
		n, err := strconv.ParseInt(lit.Value, 10, 64)
		if err != nil {
			return 0, err
		}
		elem, err := numbers(t.Elt)
		return n * elem, err
	}
	return 0, fmt.Errorf("unexpected field type %T", t)
}

// StatsOptions give Stats what it reports besides the IR.
type StatsOptions struct {
	File   string
	Source func(int) string
	Code   []byte // the generated Go (backpropgen.Generate's output)
}

// CheapRatio is the backward/forward ratio above which Stats flags a line:
// reverse mode promises a gradient for a small constant times the cost of
// the function (the cheap-gradient principle), about 3 at most.
const CheapRatio = 3

// Stats reports, for each unit, its numbers (parameters, inputs,
// workspace) in numbers and bytes, its FLOPs forward and backward per .bp
// line and per loop, and the size of the generated code.
func Stats(units []*Unit, o StatsOptions) ([]byte, error) {
	var b bytes.Buffer
	lines := bytes.Count(o.Code, []byte("\n"))
	fmt.Fprintf(&b, "%s: generated Go: %s lines, %s bytes\n", o.File, group(int64(lines)), group(int64(len(o.Code))))
	ws, err := WorkspaceOf(o.Code)
	if err != nil {
		return nil, err
	}
	for _, u := range units {
		b.WriteString("\n")
		c := CountFLOPs(u)
		fmt.Fprintf(&b, "%s %s (%s:%d)\n", u.Kind(), u.Name, o.File, u.Line)
		size := func(label string, vars []*symbolic.Var, ints bool) {
			var n, k int64
			for _, v := range vars {
				if v.Int != ints {
					continue
				}
				n += int64(v.Shape.Size())
				k++
			}
			if k > 0 {
				fmt.Fprintf(&b, "  %-16s %12s numbers %14s bytes\n", label, group(n), group(8*n))
			}
		}
		if u.Model != nil {
			size("parameters", u.Model.Params, false)
			size("inputs", u.Model.Inputs, false)
			size("integer inputs", u.Model.Inputs, true)
			if ws != nil {
				fmt.Fprintf(&b, "  %-16s %12s numbers %14s bytes  (the %d fields of %s, from the generated Go)\n",
					"workspace", group(ws.Numbers), group(ws.Bytes), ws.Fields, ws.Type)
			}
		} else {
			size("arguments", u.Fn.Args, false)
		}
		if u.Model != nil {
			var n int64
			for _, v := range u.Model.Params {
				n += int64(v.Shape.Size())
			}
			fmt.Fprintf(&b, "  Backward and LossGrad add the gradient into g: %s FLOPs more than below (BackwardTo and LossGradTo set it)\n", group(n))
		}
		b.WriteString("  FLOPs per call (a multiply-add counts 2; exp, tanh and other transcendental functions 1 each):\n")
		c.table(&b, o)
	}
	return b.Bytes(), nil
}

func (c *Count) table(b *bytes.Buffer, o StatsOptions) {
	where := func(line int) string {
		text := ""
		if o.Source != nil {
			text = strings.TrimSpace(o.Source(line))
		}
		s := fmt.Sprintf("%s:%d: %s", o.File, line, text)
		if r := []rune(s); len(r) > 44 {
			s = string(r[:43]) + "…"
		}
		return s
	}
	fmt.Fprintf(b, "    %-44s %12s %12s %9s\n", "line", "forward", "backward", "bwd/fwd")
	flagged := 0
	for _, lc := range c.Lines {
		if lc.Forward == 0 && lc.Backward == 0 {
			continue
		}
		note := ""
		if lc.Steps > 1 {
			note = fmt.Sprintf("  ×%d steps: %s + %s per step", lc.Steps, group(lc.Forward/lc.Steps), group(lc.Backward/lc.Steps))
		}
		ratio := "-"
		switch {
		case lc.Forward > 0:
			ratio = fmt.Sprintf("%.2f", float64(lc.Backward)/float64(lc.Forward))
			if float64(lc.Backward) > CheapRatio*float64(lc.Forward) {
				ratio += " !"
				flagged++
			}
		case lc.Backward > 0:
			ratio = "bwd only"
		}
		fmt.Fprintf(b, "    %-44s %12s %12s %9s%s\n", where(lc.Line), group(lc.Forward), group(lc.Backward), ratio, note)
	}
	total := "-"
	if c.Forward > 0 {
		total = fmt.Sprintf("%.2f", float64(c.Backward)/float64(c.Forward))
	}
	fmt.Fprintf(b, "    %-44s %12s %12s %9s\n", "total", group(c.Forward), group(c.Backward), total)
	fmt.Fprintf(b, "    %-44s %12s %12s\n", "  of which transcendental", group(c.ForwardTr), group(c.BackwardTr))
	if c.Forward > 0 && float64(c.Backward) > CheapRatio*float64(c.Forward) {
		fmt.Fprintf(b, "  ! the backward pass costs more than %d× the forward pass\n", CheapRatio)
	}
	if flagged > 0 {
		fmt.Fprintf(b, "  ! marks lines whose backward pass costs more than %d× their forward pass (the cheap-gradient principle expects about %d at most)\n", CheapRatio, CheapRatio)
	}
	for _, lp := range c.Loops {
		fmt.Fprintf(b, "  loop at %s:%d, %d steps: %s forward + %s backward FLOPs per step, %s + %s for all steps\n",
			o.File, lp.Line, lp.Steps, group(lp.ForwardStep), group(lp.BackwardStep), group(lp.Forward), group(lp.Backward))
	}
}

// group writes n with thousands separated by commas.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + group(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
