package backpropgen_test

import (
	"bytes"
	"fmt"
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
// temporaries that move from the stack to the workspace when they get big.
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
	if la, lb := bytes.Count(a, []byte("\n")), bytes.Count(b, []byte("\n")); lb > la+5 || lb < la-5 {
		t.Errorf("mnist generates %d lines, with 10× wider layers %d", la, lb)
	}
}
