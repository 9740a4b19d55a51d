package randmodel_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/internal/randmodel"
	"github.com/backpropgen/backpropgen/symbolic"
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
		"softsign(", "elu(", "clip(", "huber(", "bce_with_logits(", "amax(",
		"flatten(", "conv1d(", "conv2d(", "max_pool2d(", "avg_pool2d(", "layer_norm(", "attention(",
		"concat(", "reshape(", ":]", ":, ", "[:", ", -1)",
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
		`param \w+\[8, (1[79]|2[13])\]`,     // a product computed four rows per pass
		`param \w+\[8, (3[26]|4[048])\]`,    // and its gradient added four rows per pass
		`(?m)^input ks\d+\[\w+\] int$`,      // a tensor of integer inputs
		`\[ks\d+\[[a-z]\]`, `\[ks\d+\[\d\]`, // its elements as indices
		`cross_entropy\([^\n]*, ks\d+\)`, // over the rows of a matrix
		`(sum|mean|amax|logsumexp)\([^\n]*, \d\)`, `(sum|mean|amax|logsumexp)\([^\n]*, -\d\)`,
		`softmax\([^\n]*, -?\d\)`, // a normalizer along an axis
		// Layers with a stride, padding, and pooling windows over 1.
		`conv1d\([^\n]*, 2, [12]\)`, `conv2d\([^\n]*, 2, \d\)`, `conv2d\([^\n]*, \d, [12]\)`,
		`max_pool2d\([^\n]*, [23]\)`, `avg_pool2d\([^\n]*, [23]\)`,
		`attention\([^\n]*, 1\)`,                         // causal
		`\[\d+:\d+\]`, `\[\d+, \d*:`, `\[\d*:\d*, \d+\]`, // slices, and indices beside them
		`\[[tijlu] [-+] \d+[],]`,              // an index that moves with a loop variable
		`\[[tijlu]( [-+] \d+)?:[tijlu] \+ \d`, // a slice that moves with one
		`\[ks\d+\[[tijlu] [-+] \d\]`,          // its element at a moving position
		`\)?\[ks\d+\]`,                        // a whole tensor of integers gathers rows
		`(?m)^input ks\d+\[\w+, \w+\] int$`,   // a matrix of them
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("no generated model of seeds 1 to 80 matches %s", re)
		}
	}
	// Constructs the text does not show: broadcasting along leading axes
	// (an expand in the IR), a normalizer of a matrix by its default axis.
	ops := map[symbolic.OpCode]int{}
	for seed := int64(1); seed <= 80; seed++ {
		_, prog, err := backpropgen.Check("r.bp", randmodel.Print(randmodel.Generate(seed)))
		if err != nil || prog.Model == nil {
			continue
		}
		symbolic.Walk([]*symbolic.Node{prog.Model.Loss}, func(n *symbolic.Node) {
			if n.Op.Code == symbolic.OpExpand && len(n.Args[0].Shape) > 0 {
				ops[n.Op.Code]++
			}
			if n.Op.Code == symbolic.OpReduceMax {
				ops[n.Op.Code]++
			}
		})
	}
	for _, c := range []symbolic.OpCode{symbolic.OpExpand, symbolic.OpReduceMax} {
		if ops[c] == 0 {
			t.Errorf("no generated model of seeds 1 to 80 lowers to op %s", symbolic.Ops()[c].Name)
		}
	}
	// Batched over a tile of 32, products of a sample's rows and a shared
	// matrix are bmatmuls: one product (W @ X) or a stack over the rows
	// (X @ W), each with the shared matrix transposed and not, and of both
	// kinds some big enough for kernel calls (codegen/batchmm.go's sizes).
	forms := map[[2]bool]int{}
	big := map[bool]int{}
	for seed := int64(1); seed <= 80; seed++ {
		_, prog, err := backpropgen.Check("r.bp", randmodel.Print(randmodel.Generate(seed)))
		if err != nil || prog.Model == nil {
			continue
		}
		bm := prog.Model.Batch(32)
		symbolic.Walk([]*symbolic.Node{bm.Loss}, func(n *symbolic.Node) {
			if n.Op.Code != symbolic.OpBMatMul {
				return
			}
			f := symbolic.BMatMulOf(n)
			forms[[2]bool{f.StackB, f.TransA}]++
			if call := f.M * f.N * f.K; call >= 1024 && f.P*call >= 4096 {
				big[f.StackB]++
			}
		})
	}
	for _, stack := range []bool{false, true} {
		for _, trans := range []bool{false, true} {
			if forms[[2]bool{stack, trans}] == 0 {
				t.Errorf("no generated model of seeds 1 to 80 has a batched product of rows, stacked %v, transposed %v", stack, trans)
			}
		}
		if big[stack] == 0 {
			t.Errorf("no generated model of seeds 1 to 80 has a batched product of rows, stacked %v, big enough for a kernel", stack)
		}
	}
}
