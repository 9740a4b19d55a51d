package backpropgen_test

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/importer"
	goparser "go/parser"
	"go/token"
	"go/types"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/backpropgen/backpropgen"
)

// Expression swell: generated code must grow linearly with the depth of the
// model, and generating it must be quick. Each case is generated at depth n
// and 2n; doubling the depth may at most double the code (plus a constant).
func TestNoExpressionSwell(t *testing.T) {
	cases := []struct {
		name  string
		depth int
		model func(n int) string
	}{
		{"nested sin", 200, func(n int) string {
			return "fn f(x) = " + strings.Repeat("sin(", n) + "x" + strings.Repeat(")", n) + "\n"
		}},
		{"product", 50, func(n int) string {
			args, prod := make([]string, n), make([]string, n)
			for i := range n {
				args[i] = fmt.Sprintf("x%d", i)
				prod[i] = args[i]
			}
			return fmt.Sprintf("fn f(%s) = %s\n", strings.Join(args, ", "), strings.Join(prod, " * "))
		}},
		{"dense chain", 30, func(n int) string {
			var b strings.Builder
			b.WriteString("model chain\ninput x[8]\nh = x\n")
			for i := range n {
				fmt.Fprintf(&b, "param W%d[8, 8]\nparam b%d[8]\nh = tanh(W%d @ h + b%d)\n", i, i, i, i)
			}
			b.WriteString("loss = sum(h * h)\n")
			return b.String()
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines := func(n int) int {
				start := time.Now()
				out, err := backpropgen.Generate("swell.bp", []byte(c.model(n)), "swell")
				if err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); d > time.Second {
					t.Errorf("depth %d took %v to generate", n, d)
				}
				return bytes.Count(out, []byte("\n"))
			}
			half, full := lines(c.depth/2), lines(c.depth)
			if full > 2*half+20 {
				t.Errorf("code grows faster than depth: %d lines at depth %d, %d at depth %d", half, c.depth/2, full, c.depth)
			}
			t.Logf("%d lines at depth %d, %d at depth %d", half, c.depth/2, full, c.depth)
		})
	}
}

// The code for a layer does not grow with its size: mnist.bp with 10 times
// wider layers generates as many lines, give or take the declarations of
// temporaries that move from the stack to the workspace when they get big,
// and the rows left over by a product taken four rows per pass (10 rows of
// W2 leave 2, 1280 none).
func TestCodeSizeIndependentOfDimensions(t *testing.T) {
	src, err := os.ReadFile("testdata/mnist.bp")
	if err != nil {
		t.Fatal(err)
	}
	wide := strings.NewReplacer("const H = 128", "const H = 1280", "784", "7840").Replace(string(src))
	a, err1 := backpropgen.Generate("mnist.bp", src, "mnist")
	b, err2 := backpropgen.Generate("mnist.bp", []byte(wide), "mnist")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if la, lb := bytes.Count(a, []byte("\n")), bytes.Count(b, []byte("\n")); lb > la+12 || lb < la-12 {
		t.Errorf("mnist generates %d lines, with 10× wider layers %d", la, lb)
	}
}

// A for loop is a Go for loop: rnn.bp over 1000 steps generates exactly as
// many lines as over 25, and its workspace, which saves the per-step values
// backpropagation through time needs, grows linearly in the steps.
func TestLoopCodeIndependentOfSteps(t *testing.T) {
	src, err := os.ReadFile("testdata/rnn.bp")
	if err != nil {
		t.Fatal(err)
	}
	wsSize := func(code []byte) int64 {
		fset := token.NewFileSet()
		f, err := goparser.ParseFile(fset, "rnn.go", code, 0)
		if err != nil {
			t.Fatal(err)
		}
		conf := types.Config{Importer: importer.Default()}
		pkg, err := conf.Check("rnn", fset, []*ast.File{f}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return types.SizesFor("gc", "amd64").Sizeof(pkg.Scope().Lookup("RnnWorkspace").Type())
	}
	var lines []int
	var sizes []int64
	for _, steps := range []string{"25", "1000"} {
		model := strings.Replace(string(src), "const T = 25", "const T = "+steps, 1)
		// One tile for both: the generator gives a long sequence a smaller
		// tile (ChooseTile), which changes a few lines of the tile code.
		code, _, err := backpropgen.GenerateWith("rnn.bp", []byte(model), backpropgen.Options{Package: "rnn", Tile: 32})
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, bytes.Count(code, []byte("\n")))
		sizes = append(sizes, wsSize(code))
	}
	// Not growing with T; a product over the steps may pass a size
	// threshold at one T and not the other (a weight gradient summed after
	// the sweep, defer.go), which changes a few lines.
	if d := lines[1] - lines[0]; d < -10 || d > 10 {
		t.Errorf("T = 25 generates %d lines, T = 1000 %d", lines[0], lines[1])
	}
	// Per step: the hidden state (16), the prediction error (1) and the
	// deltas of the hidden layer and the output (16 + 1), kept for the
	// weight gradients formed after the sweep; the constant allows for the
	// initial state.
	perStep := int64(8 * (16 + 1 + 16 + 1))
	for i, steps := range []int64{25, 1000} {
		if sizes[i] > steps*perStep+8*64 {
			t.Errorf("T = %d: workspace of %d bytes, more than %d per step", steps, sizes[i], perStep)
		}
	}
	t.Logf("workspace %d bytes at T = 25, %d at T = 1000", sizes[0], sizes[1])
}

// A convolution is loops over its output and kernel, or kernel calls
// over its patches, never a gather per element: a CNN on 16×16 images and
// the same on 64×64 generate as many lines, and so do its batch methods
// over a tile of 8 samples and of 64, but for the declarations of
// temporaries (which move from the stack to the workspace when they get
// big), which codeLines leaves out. (On 8×8 images, outputs of 2×2 are
// written out element by element, like any dimension of 1 or 2; a tile
// of 4 or fewer is written out too.)
func TestConvCodeIndependentOfImageSize(t *testing.T) {
	cnn := func(side int) string {
		return fmt.Sprintf(`model cnn
const S = %d
const S2 = %d
param K1[4, 2, 3, 3]
param K2[4, 4, 3, 3]
param W[10, %d]
input img[2, S, S]
input k int
c = relu(conv2d(img, K1, 1, 1))
d = relu(conv2d(max_pool2d(c, 2), K2, 2, 1))
e = avg_pool2d(c, 2) * layer_norm(avg_pool2d(c, 2), ones(S2), zeros(S2))
loss = cross_entropy(W @ flatten(d), k) + sum(e)
`, side, side/2, 4*(side/4)*(side/4))
	}
	gen := func(side, tile int) (lines, kernels int) {
		code, _, err := backpropgen.GenerateWith("cnn.bp", []byte(cnn(side)), backpropgen.Options{Package: "cnn", Tile: tile})
		if err != nil {
			t.Fatal(err)
		}
		return codeLines(code), bytes.Count(code, []byte("cnnGemm"))
	}
	l16, k16 := gen(16, 8)
	l64, k64 := gen(64, 8)
	t64, _ := gen(64, 64)
	if l16 != l64 || l64 != t64 {
		t.Errorf("a CNN on 16×16 images generates %d lines, on 64×64 %d, and on 64×64 with a tile of 64, %d", l16, l64, t64)
	}
	if k16 == 0 || k16 != k64 {
		t.Errorf("a CNN on 16×16 images calls the kernels %d times, on 64×64 %d", k16, k64)
	}
	t.Logf("%d lines for 16×16, %d for 64×64, %d for 64×64 with a tile of 64", l16, l64, t64)
}

// codeLines counts the lines of generated code but the declarations of
// arrays (locals and workspace fields), and the comments that align
// with the fields.
func codeLines(code []byte) int {
	n := 0
	for _, l := range strings.Split(string(code), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "var" {
			f = f[1:]
		}
		if len(f) >= 2 && strings.HasPrefix(f[1], "[") && strings.HasSuffix(f[1], "float64") {
			continue
		}
		n++
	}
	return n
}
