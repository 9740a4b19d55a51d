package randmodel

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
)

// Print returns f as .bp text. Unless f.Plain, it adds comments (own-line
// and trailing) and breaks some expressions over lines, chosen by f.Layout.
func Print(f *File) []byte {
	p := &printer{}
	if !f.Plain {
		p.r = rand.New(rand.NewSource(f.Layout))
	}
	p.comment("")
	for _, c := range f.Consts {
		p.line("", "const %s = %d", c.Name, c.V)
	}
	for i, fn := range f.Fns {
		if i < len(f.FnFirst) && f.FnFirst[i] {
			p.fn(fn)
		}
	}
	p.line("", "model %s", f.Model)
	for _, d := range f.Decls {
		if d.Int {
			p.line("", "%s %s%s int", d.Kind, d.Name, dims(d.Dims))
		} else {
			p.line("", "%s %s%s", d.Kind, d.Name, dims(d.Dims))
		}
	}
	p.stmts(f.Body, "")
	for i, fn := range f.Fns {
		if i >= len(f.FnFirst) || !f.FnFirst[i] {
			p.fn(fn)
		}
	}
	return []byte(p.b.String())
}

type printer struct {
	b strings.Builder
	r *rand.Rand // nil: no comments or line breaks
}

func (p *printer) chance(pct int) bool { return p.r != nil && p.r.Intn(100) < pct }

// comment may write an own-line comment.
func (p *printer) comment(indent string) {
	if p.chance(8) {
		fmt.Fprintf(&p.b, "%s// %s\n", indent, words[p.r.Intn(len(words))])
	}
	if p.chance(4) {
		p.b.WriteString("\n")
	}
}

var words = []string{"a comment", "the state", "x[t] is a row", "// nested", "loss = not this", "for t in 0..3 { }", "é ünïcode", "fn f(x) = x"}

func (p *printer) line(indent, format string, a ...any) {
	p.comment(indent)
	p.b.WriteString(indent)
	fmt.Fprintf(&p.b, format, a...)
	if p.chance(6) {
		p.b.WriteString(" // " + words[p.r.Intn(len(words))])
	}
	p.b.WriteString("\n")
}

func (p *printer) fn(fn *Fn) {
	var args []string
	for _, a := range fn.Args {
		args = append(args, a.Name+dims(a.Dims))
	}
	head := fmt.Sprintf("fn %s(%s)", fn.Name, strings.Join(args, ", "))
	if len(fn.Body) == 0 {
		p.line("", "%s = %s", head, p.expr(fn.Ret, 0, "    "))
		return
	}
	p.line("", "%s {", head)
	p.stmts(fn.Body, "    ")
	p.line("    ", "return %s", p.expr(fn.Ret, 0, "        "))
	p.line("", "}")
}

func (p *printer) stmts(stmts []Stmt, indent string) {
	for _, s := range stmts {
		switch s := s.(type) {
		case *Assign:
			p.line(indent, "%s %s %s", s.Name, s.Op, p.expr(s.X, 0, indent+"    "))
		case *Output:
			if s.X == nil {
				p.line(indent, "output %s", s.Name)
			} else {
				p.line(indent, "output %s = %s", s.Name, p.expr(s.X, 0, indent+"    "))
			}
		case *For:
			p.line(indent, "for %s in %s..%s {", s.Var, dimText(s.From), dimText(s.To))
			p.stmts(s.Body, indent+"    ")
			p.line(indent, "}")
		}
	}
}

func dims(ds []Dim) string {
	if len(ds) == 0 {
		return ""
	}
	var parts []string
	for _, d := range ds {
		parts = append(parts, dimText(d))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func dimText(d Dim) string {
	if d.Text != "" {
		return d.Text
	}
	return strconv.Itoa(d.V)
}

// Precedence levels, loosest first, as in docs/LANGUAGE.md.
const (
	precAdd = 1 + iota
	precMul
	precUnary
	precPow
	precAtom
)

func prec(e Expr) int {
	switch e := e.(type) {
	case *Bin:
		switch e.Op {
		case "+", "-":
			return precAdd
		case "^":
			return precPow
		}
		return precMul
	case *Neg:
		return precUnary
	}
	return precAtom
}

// expr prints e, parenthesized if its precedence is below min. indent is
// where a continuation line starts.
func (p *printer) expr(e Expr, min int, indent string) string {
	s := p.bare(e, indent)
	if prec(e) < min {
		return "(" + s + ")"
	}
	return s
}

func (p *printer) bare(e Expr, indent string) string {
	switch e := e.(type) {
	case *Num:
		return formatNum(e.V)
	case *Name:
		return e.N
	case *DimExpr:
		return dimText(e.D)
	case *Neg:
		return "-" + p.expr(e.X, precPow, indent)
	case *Bin:
		pr := prec(e)
		lmin, rmin := pr, pr+1
		if e.Op == "^" {
			lmin, rmin = precAtom, precUnary // 2^-x
		}
		sep := " "
		if p.chance(5) {
			sep = "\n" + indent
		}
		return p.expr(e.X, lmin, indent) + " " + e.Op + sep + p.expr(e.Y, rmin, indent)
	case *Call:
		var args []string
		for _, a := range e.Args {
			args = append(args, p.expr(a, 0, indent))
		}
		sep := ", "
		if len(args) > 1 && p.chance(5) {
			sep = ",\n" + indent
		}
		return e.F + "(" + strings.Join(args, sep) + ")"
	case *Index:
		var idx []string
		for _, i := range e.Idx {
			s := strconv.Itoa(i.V)
			if i.Name != "" {
				s = moved(i.Name, i.Off)
			}
			if i.Of != "" {
				s = i.Of + "[" + s + "]"
			}
			if i.Slice && i.Name != "" {
				s = moved(i.Name, i.Lo) + ":" + moved(i.Name, i.Hi)
			} else if i.Slice {
				s = ":"
				if i.Lo >= 0 {
					s = strconv.Itoa(i.Lo) + s
				}
				if i.Hi >= 0 {
					s += strconv.Itoa(i.Hi)
				}
			}
			idx = append(idx, s)
		}
		return p.expr(e.X, precAtom, indent) + "[" + strings.Join(idx, ", ") + "]"
	}
	panic(fmt.Sprintf("randmodel: unknown expression %T", e))
}

// moved is loop variable t plus off: t, t + 2, t - 1.
func moved(t string, off int) string {
	switch {
	case off > 0:
		return t + " + " + strconv.Itoa(off)
	case off < 0:
		return t + " - " + strconv.Itoa(-off)
	}
	return t
}

// formatNum writes v so that the lexer reads it back exactly: a digit after
// any point, an exponent for very small or large values.
func formatNum(v float64) string {
	return strings.Replace(strconv.FormatFloat(v, 'g', -1, 64), "e+", "e", 1)
}
