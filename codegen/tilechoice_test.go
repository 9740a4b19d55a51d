package codegen

import (
	"bytes"
	"os"
	"path"
	"strings"
	"testing"
)

// The batch methods' choice between the tile code and the per-sample code
// (tilechoice.go), for shipped models of each kind: mnist's blocked
// per-sample products against kernel products over the tile, and policy's
// unblocked ones but small kernel products (the tile code only with the
// archsimd kernels); deep's unblocked products over stacked layers and
// xor's tiny unblocked ones with no kernels (the tile code with any
// kernels); calib's work with no matrix-vector products (the per-sample
// code with any); attention's small products of a sample's rows, which
// become kernels over the tile (the tile code with archsimd), and layers'
// convolutions, kernels in both codes but for a fifth of the per-sample
// code's products; the attention example's products, which are kernels
// per sample already (the per-sample code with any). The main file says
// it in the variable, and the archsimd file's init sets the variable
// exactly where the two choices differ.
func TestTileChoice(t *testing.T) {
	for _, c := range []struct {
		model          string
		portable, simd bool
	}{
		{"mnist", false, true},
		{"classify", false, true},
		{"rnn", false, true},
		{"policy", false, true},
		{"deep", true, true},
		{"deeprelu", true, true},
		{"calib", false, false},
		{"xor", true, true},
		{"attention", false, true},
		{"layers", false, true},
		{"../examples/attention/reverse", false, false},
	} {
		src, err := os.ReadFile("../testdata/" + c.model + ".bp")
		c.model = path.Base(c.model)
		if err != nil {
			t.Fatal(err)
		}
		prog := lower(t, c.model+".bp", src)
		main, err := Generate(prog, prog.Differentiate(), Options{Package: "m"})
		if err != nil {
			t.Fatalf("%s: %v", c.model, err)
		}
		simd, err := SIMD(prog, main, Options{Package: "m"})
		if err != nil {
			t.Fatalf("%s: %v", c.model, err)
		}
		v := c.model + "Tiled"
		decl := "\nvar " + v + " = false\n"
		switch {
		case c.portable:
			decl = "\nvar " + v + " = true\n"
		case c.simd:
			decl = "\nvar " + v + " = false " + setBySIMD + "\n"
		}
		if !strings.Contains(string(main), decl) {
			t.Errorf("%s: the main file does not declare%s", c.model, strings.TrimRight(decl, "\n"))
		}
		if !strings.Contains(string(main), "\tif "+v+" {\n") {
			t.Errorf("%s: the batch methods do not test %s", c.model, v)
		}
		sets := strings.Contains(string(simd), "\t\t"+v+" = true\n")
		if sets != (c.simd && !c.portable) {
			t.Errorf("%s: the archsimd file sets %s: %v, want %v", c.model, v, sets, c.simd && !c.portable)
		}
	}
}

// percent rounds to the nearest whole percentage and is 0% of nothing.
func TestPercent(t *testing.T) {
	for _, c := range []struct {
		a, b int
		want string
	}{{0, 0, "0%"}, {1, 3, "33%"}, {2, 3, "67%"}, {1280, 102912, "1%"}, {5, 5, "100%"}} {
		if got := percent(c.a, c.b); got != c.want {
			t.Errorf("percent(%d, %d) = %s, want %s", c.a, c.b, got, c.want)
		}
	}
}

// A model with kernel products clears the AVX upper state first thing in
// each method that computes (internal/kernels' ClearUpper says why), but
// in a LossGrad that only calls Forward and Backward; a model without
// kernels has no such call, nor the variable.
func TestClearUpperFirst(t *testing.T) {
	for _, c := range []struct {
		model string
		calls int
	}{{"mnist", 9}, {"xor", 0}} {
		src, err := os.ReadFile("../testdata/" + c.model + ".bp")
		if err != nil {
			t.Fatal(err)
		}
		prog := lower(t, c.model+".bp", src)
		main, err := Generate(prog, prog.Differentiate(), Options{Package: "m"})
		if err != nil {
			t.Fatal(err)
		}
		call := "\t" + c.model + "ClearUpper()\n"
		if got := strings.Count(string(main), call); got != c.calls {
			t.Errorf("%s: %d calls of %sClearUpper, want %d", c.model, got, c.model, c.calls)
		}
		for _, m := range methodStarts(main) {
			body := string(main[m[1]:])
			if c.calls > 0 && !strings.HasPrefix(body, call) && !strings.HasPrefix(body, "\tloss := p.Forward(ws, in, nil)\n") {
				t.Errorf("%s: %s does not start with the call", c.model, strings.TrimSpace(string(main[m[0]:m[1]])))
			}
		}
		if decl := strings.Contains(string(main), "var "+c.model+"ClearUpper = func() {}"); decl != (c.calls > 0) {
			t.Errorf("%s: declares %sClearUpper: %v", c.model, c.model, decl)
		}
	}
}

// methodStarts returns, for each method of src that methodStart matches,
// the offsets of its signature line and of the line after it.
func methodStarts(src []byte) [][2]int {
	var out [][2]int
	for off := 0; off < len(src); {
		end := bytes.IndexByte(src[off:], '\n')
		if end < 0 {
			break
		}
		if methodStart.Match(src[off : off+end]) {
			out = append(out, [2]int{off, off + end + 1})
		}
		off += end + 1
	}
	return out
}
