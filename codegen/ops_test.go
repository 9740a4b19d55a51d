package codegen

import (
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen/symbolic"
)

// Every elementwise op prints, every op that does not is not in the table,
// and every helper the table names is a function of package opmath.
func TestEveryElementwiseOpPrints(t *testing.T) {
	for _, op := range symbolic.Ops() {
		form, ok := goForms[op.Code]
		if op.Kind != symbolic.Elementwise {
			if ok {
				t.Errorf("op %s is not elementwise but has a Go form", op.Name)
			}
			continue
		}
		if !ok {
			t.Errorf("elementwise op %s has no Go form", op.Name)
			continue
		}
		set := 0
		for _, b := range []bool{form.infix != "", form.prefix, form.fn != "", form.helper != "", form.emit != nil} {
			if b {
				set++
			}
		}
		if set != 1 {
			t.Errorf("op %s: %d forms set, want 1", op.Name, set)
		}
		if form.helper != "" && helpers[form.helper] == nil {
			t.Errorf("op %s prints as helper %s, which package opmath lacks", op.Name, form.helper)
		}
		if form.infix != "" && infixOps[form.infix].tok == nil {
			t.Errorf("op %s prints as infix %q, which is not a Go operator codegen knows", op.Name, form.infix)
		}
	}
}

// A helper is copied with its name replaced in the doc comment and the
// declaration, and package math referred to through jennifer.
func TestHelperCode(t *testing.T) {
	var b strings.Builder
	if err := helpers["Sigmoid"].code("xorSigmoid").Render(&b); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{"// xorSigmoid is 1/(1+e⁻ˣ)", "func xorSigmoid(x float64) float64", "math.Exp"} {
		if !strings.Contains(got, want) {
			t.Errorf("helper code lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Sigmoid(") && !strings.Contains(got, "xorSigmoid(") {
		t.Errorf("helper keeps its opmath name:\n%s", got)
	}
}

// Helpers that break opmath's rules are reported.
func TestParseHelpersRejects(t *testing.T) {
	for name, src := range map[string]string{
		"no doc":     "package opmath\n\nfunc F(x float64) float64 { return x }\n",
		"calls":      "package opmath\n\n// F is x.\nfunc F(x float64) float64 { return G(x) }\n\n// G is x.\nfunc G(x float64) float64 { return x }\n",
		"wrong name": "package opmath\n\n// H is x.\nfunc F(x float64) float64 { return x }\n",
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: parseHelpers accepted it", name)
				}
			}()
			parseHelpers(src)
		}()
	}
}
