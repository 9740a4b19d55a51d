package backpropgen_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen/internal/scratch"
)

// fitModel is a new user's first model: a 1-8-1 network fitting sin.
const fitModel = `model fit

param W1[8, 1]
param b1[8]
param W2[1, 8]
param b2[1]

input x[1]
input y

h = tanh(W1 @ x + b1)
p = W2 @ h + b2
loss = (p[0] - y)^2
output p
`

// fitMain trains it with package train and prints the loss before and
// after.
const fitMain = `package main

import (
	"fmt"
	"math"

	"example.com/fit/model"
	"github.com/backpropgen/backpropgen/train"
)

func main() {
	var data []model.FitInputs
	for i := range 64 {
		x := -2 + 4*float64(i)/63
		data = append(data, model.FitInputs{X: [1]float64{x}, Y: math.Sin(x)})
	}
	var p, g model.FitParams
	p.Init(1)
	b := train.NewBatch[model.FitParams, model.FitBatchWorkspace, model.FitInputs](2)
	defer b.Close()
	opt := train.NewAdam(model.FitNumParams, 0.02)
	first := b.Grad(&p, data, &g, train.Mean)
	last := first
	for range 500 {
		opt.Step(p.Flat(), g.Flat())
		last = b.Grad(&p, data, &g, train.Mean)
	}
	fmt.Println(first, last)
}
`

// TestNewUser does what README tells a new user to do, in a module of
// its own outside the repository (which it replaces with this checkout):
// go get -tool the command, write a model and a go:generate line that
// runs it with go tool and -test, go generate, build and run a program
// that trains the model with package train, and go test, which runs the
// generated gradient check.
func TestNewUser(t *testing.T) {
	dir := t.TempDir()
	scratch.Module(t, dir, "example.com/fit")
	scratch.Go(t, dir, "get", "-tool", "github.com/backpropgen/backpropgen/cmd/backpropgen")
	files := map[string]string{
		"model/fit.bp": fitModel,
		"model/gen.go": "package model\n\n//go:generate go tool backpropgen -test -o fit_grad.go fit.bp\n",
		"main.go":      fitMain,
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scratch.Go(t, dir, "generate", "./...")
	for _, f := range []string{"fit_grad.go", "fit_grad_test.go"} {
		if _, err := os.Stat(filepath.Join(dir, "model", f)); err != nil {
			t.Fatalf("go generate did not write %s: %v", f, err)
		}
	}
	scratch.Go(t, dir, "build", "-o", "fit", ".")
	out, err := exec.Command(filepath.Join(dir, "fit")).CombinedOutput()
	if err != nil {
		t.Fatalf("the program failed: %v\n%s", err, out)
	}
	var first, last float64
	if _, err := fmt.Sscan(string(out), &first, &last); err != nil {
		t.Fatalf("the program printed %q: %v", out, err)
	}
	t.Logf("the loss fell from %g to %g", first, last)
	if !(last < first/10) {
		t.Errorf("the loss fell from %g to %g, want a tenth or less", first, last)
	}
	res := scratch.Go(t, dir, "test", "-v", "./...")
	for _, want := range []string{"--- PASS: TestFitGradients", "--- PASS: TestFitBatch", "--- PASS: TestFitParamsInit", "ok  \texample.com/fit/model"} {
		if !strings.Contains(res, want) {
			t.Errorf("go test output lacks %q:\n%s", want, res)
		}
	}
}
