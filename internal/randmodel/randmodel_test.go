package randmodel_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/internal/randmodel"
)

// Every generated model must be valid. (CI's TestDifferential also fails
// on any of its 2,000 models that Check rejects.)
func TestGeneratedModelsAreValid(t *testing.T) {
	n := 150
	if testing.Short() {
		n = 60
	}
	bad := 0
	for seed := range int64(n) {
		src := randmodel.Print(randmodel.Generate(seed))
		if _, _, err := backpropgen.Check("r.bp", src); err != nil {
			bad++
			if bad <= 5 {
				t.Errorf("seed %d: %v\n%s", seed, err, src)
			}
		}
	}
	t.Logf("%d of %d rejected", bad, n)
}

// The generator covers every construct of the language within the 80
// models TestDifferential checks by default (-difftest.seed=1
// -difftest.n=80, in the root package's difftest_test.go): if a construct
// is missing, raise that default and this bound together.
func TestCoverage(t *testing.T) {
	var all strings.Builder
	for seed := int64(1); seed <= 80; seed++ {
		all.Write(randmodel.Print(randmodel.Generate(seed)))
	}
	text := all.String()
	for _, want := range []string{
		"exp(", "log(", "log1p(", "sqrt(", "sin(", "cos(", "tan(", "tanh(", "atan(", "erf(", "norm_cdf(",
		"abs(", "relu(", "leaky_relu(", "sigmoid(", "softplus(", "min(", "max(", "pow(", "sum(", "mean(",
		"dot(", "mse(", "transpose(", "logsumexp(", "softmax(", "log_softmax(", "stop_gradient(",
		"cross_entropy(", "zeros(", "ones(",
		"cosh(", "sinh(", "asin(", "acos(", "expm1(", "log2(", "log10(", "square(", "rsqrt(", "gelu(", "silu(",
		"softsign(", "elu(", "clip(", "huber(", "bce_with_logits(",
		" + ", " - ", " * ", " / ", " @ ", " ^ ", "= -", "^ -", "+= ", "output ", "input ", "param ", " int\n",
		"const ", "fn ", "return ", "for ", "// ", "+\n", ",\n", "[t]", "[t, ", "[i]", "[0, ", "[2*", " + 1]",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no generated model of seeds 1 to 80 has %q", want)
		}
	}
	for _, re := range []string{
		`param \w+\[\w+, \w+, \w+\]`,        // rank 3
		`\w+\[k\d+\]`,                       // integer input index
		`(?s)for t in [^{]*\{[^}]*for `,     // nested loops
		`fn f\d+\([^)]*\) [={][^\n]*f\d+\(`, // fns calling fns
		`\[1\]`, `\[2\]`, `\[[5-9]\]`,
		`param \w+\[8, (1[6-9]|2[0-4])\]`, // a product computed four rows per pass
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("no generated model of seeds 1 to 80 matches %s", re)
		}
	}
}
