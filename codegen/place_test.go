package codegen

import (
	"fmt"
	"math"
	"testing"

	"github.com/dave/jennifer/jen"
)

func render(c jen.Code) string { return fmt.Sprintf("%#v", c) }

// Go evaluates an operation between two constants exactly and untyped
// (1/2 is the integer 0, 1/0 does not compile, n := 2 is an int), so the
// printer never emits one: it folds literals in float64 itself.
func TestPrinterNeverCombinesLiterals(t *testing.T) {
	x := ident("x")
	for _, c := range []struct {
		name string
		got  gexpr
		want string
	}{
		{"1/2", infix(lit(1), "/", lit(2)), "0.5"},
		{"1/3*3", infix(infix(lit(1), "/", lit(3)), "*", lit(3)), "1"},
		{"0.1+0.2", infix(lit(0.1), "+", lit(0.2)), "0.30000000000000004"},
		{"1/0", infix(lit(1), "/", lit(0)), "math.Inf(1)"},
		{"x/0", infix(x, "/", lit(0)), "x * math.Inf(1)"},
		{"-(2)", negate(lit(2)), "-2"},
		{"-(0)", negate(lit(0)), "math.Copysign(0, -1)"},
		{"NaN", lit(math.NaN()), "math.NaN()"},
		{"1*x", infix(lit(1), "*", x), "x"},
		{"x*1", infix(x, "*", lit(1)), "x"},
		{"x/1", infix(x, "/", lit(1)), "x"},
		{"x-0", infix(x, "-", lit(0)), "x"},
		{"x+0 stays (-0 + 0 = +0)", infix(x, "+", lit(0)), "x + 0"},
		{"x-(-0) stays", infix(x, "-", lit(math.Copysign(0, -1))), "x - math.Copysign(0, -1)"},
		{"a-(b-c)", infix(x, "-", infix(ident("y"), "-", ident("z"))), "x - (y - z)"},
		{"x - -2", infix(x, "-", lit(-2)), "x - -2"},
	} {
		if got := render(c.got.c); got != c.want {
			t.Errorf("%s: printed %q, want %q", c.name, got, c.want)
		}
	}
	if got := render(define("n", lit(2))); got != "n := float64(2)" {
		t.Errorf("define of a literal: %q, want a float64", got)
	}
	if got := render(define("n", x)); got != "n := x" {
		t.Errorf("define: %q", got)
	}
}

func TestIndicesPrintAndCompareStructurally(t *testing.T) {
	p := fieldPlace("ws", "h").at(vix("t").plus(1))
	if got := render(p.code([]ix{vix("i"), cix(2)})); got != "ws.h[t+1][i][2]" {
		t.Errorf("printed %q", got)
	}
	if got := render(fieldPlace("ws", "h").code([]ix{vix("t").plus(-3), cix(0)})); got != "ws.h[t-3][0]" {
		t.Errorf("printed %q", got)
	}
	if !hasPrefix([]ix{vix("t").plus(1), vix("i")}, p.pre) || hasPrefix([]ix{vix("t")}, p.pre) {
		t.Error("hasPrefix compares offsets")
	}
}
