package main

import (
	"bytes"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backpropgen/backpropgen/internal/scratch"
)

const testGolden = "testdata/xor_grad_test.go.golden"

// TestTestFlag writes xor's test with -test and compares it with the
// golden file (go test -update rewrites it); a second run gives the same
// bytes, and they are gofmt-clean.
func TestTestFlag(t *testing.T) {
	t.Setenv("GOPACKAGE", "")
	dir := t.TempDir()
	out := filepath.Join(dir, "xor_grad.go")
	if code, stdout, stderr := runCmd("-test", "-o", out, "../../testdata/xor.bp"); code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	got, err := os.ReadFile(filepath.Join(dir, "xor_grad_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(testGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(testGolden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("xor_grad_test.go differs from %s (-want +got):\n%s", testGolden, diff)
	}
	if formatted, err := format.Source(got); err != nil || !bytes.Equal(formatted, got) {
		t.Errorf("the test file is not gofmt-clean (%v)", err)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("the Go file: %v", err)
	}
	if code, _, stderr := runCmd("-o", out, "-test", "../../testdata/xor.bp"); code != 0 {
		t.Fatalf("second run: exit %d, %s", code, stderr)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "xor_grad_test.go")); !bytes.Equal(again, got) {
		t.Errorf("a second run wrote a different test file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("files left in the directory: %v, want the Go file and its test", entries)
	}
}

func TestTestFlagMisuse(t *testing.T) {
	misuse(t, "-test writes a test beside the generated file, which it needs: give the file with -o (-o model_grad.go -test writes model_grad_test.go too)",
		"-test", "../../testdata/xor.bp")
	misuse(t, "check writes nothing: -test cannot be used with it", "check", "-test", "../../testdata/xor.bp")
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "m_test.go"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd("-test", "-o", filepath.Join(dir, "m.go"), "../../testdata/xor.bp"); code != 2 || !strings.Contains(stderr, "is a directory") {
		t.Errorf("test file path is a directory: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.go")); err == nil {
		t.Errorf("the Go file was written although its test could not be")
	}
}

// A failed run leaves both files exactly as they were.
func TestTestFlagKeepsFilesOnFailure(t *testing.T) {
	dir := t.TempDir()
	out, test := filepath.Join(dir, "m_grad.go"), filepath.Join(dir, "m_grad_test.go")
	for _, f := range []string{out, test} {
		if err := os.WriteFile(f, []byte("package old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, _ := runCmd("-test", "-o", out, "../../testdata/errors/shape_matmul.bp"); code != 1 {
		t.Errorf("exit %d for an invalid model, want 1", code)
	}
	for _, f := range []string{out, test} {
		if b, _ := os.ReadFile(f); string(b) != "package old\n" {
			t.Errorf("%s changed by a failed run: %q", filepath.Base(f), b)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// The tests -test writes for shipped models compile and pass in a module
// of their own (xor; policy, whose integer input must be drawn within
// range; blackscholes, a file of fns), and the one for xor fails, naming
// the parameter, once its gradient is broken.
func TestWrittenTestsPass(t *testing.T) {
	dir := t.TempDir()
	scratch.Module(t, dir, "example.com/shipped")
	for _, name := range []string{"xor", "policy", "blackscholes"} {
		pkg := filepath.Join(dir, name)
		if err := os.Mkdir(pkg, 0o755); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := runCmd("-test", "-o", filepath.Join(pkg, name+"_grad.go"), "../../testdata/"+name+".bp"); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
	}
	out := scratch.Go(t, dir, "test", "./...")
	for _, name := range []string{"xor", "policy", "blackscholes"} {
		if !strings.Contains(out, "ok  \texample.com/shipped/"+name) {
			t.Errorf("go test did not pass %s:\n%s", name, out)
		}
	}

	// Backward adds −db2 into g.B2: the gradient of b2 has the wrong sign.
	file := filepath.Join(dir, "xor", "xor_grad.go")
	code, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	broken := bytes.Replace(code, []byte("g.B2[0] += db2[0]"), []byte("g.B2[0] -= db2[0]"), 1)
	if bytes.Equal(broken, code) {
		t.Fatal("xor_grad.go has no line g.B2[0] += db2[0] to break")
	}
	if err := os.WriteFile(file, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := scratch.Command(dir, "test", "./xor").CombinedOutput()
	if err == nil {
		t.Fatalf("go test passed a broken gradient:\n%s", res)
	}
	if !strings.Contains(string(res), "b2[0] (Flat()[32]): analytic") {
		t.Errorf("the failure does not name b2[0]:\n%s", res)
	}
}
