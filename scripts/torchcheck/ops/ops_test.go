package ops

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/backpropgen/backpropgen"
)

// tol is the largest relative difference allowed from torch's float64
// values: |got − want| ≤ tol·max(|want|, 1e-300).
const tol = 1e-12

// reference is one model's entry of testdata/torch.json, written by
// scripts/torch_check_layers.py: params, float and int inputs flattened in
// declaration order (row-major), the outputs likewise, the loss and its
// gradient for every param.
type reference struct {
	Params  []float64 `json:"params"`
	Floats  []float64 `json:"floats"`
	Ints    []int     `json:"ints"`
	Outputs []float64 `json:"outputs"`
	Loss    float64   `json:"loss"`
	Grad    []float64 `json:"grad"`
}

func load(t *testing.T) map[string]reference {
	t.Helper()
	b, err := os.ReadFile("testdata/torch.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Models map[string]reference `json:"models"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Models
}

type params[W, I, O, P any] interface {
	*P
	Forward(*W, *I, *O) float64
	LossGrad(*W, *I, *P) float64
	Flat() []float64
}

type inputs[I any] interface {
	*I
	Flat() []float64
	Ints() []int
}

// floats is the float64s of an outputs struct, field after field, each
// row-major (the fields are float64 arrays, laid out contiguously).
func floats[O any](out *O) []float64 {
	n := int(reflect.TypeFor[O]().Size()) / 8
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(out)), n)
}

func check[W, I, O, P any, PP params[W, I, O, P], IP inputs[I]](t *testing.T, ref reference) {
	var p, g P
	var in I
	var ws W
	var out O
	set := func(what string, dst []float64, src []float64) {
		if len(dst) != len(src) {
			t.Fatalf("%s: %d numbers in the model, %d in torch.json", what, len(dst), len(src))
		}
		copy(dst, src)
	}
	set("params", PP(&p).Flat(), ref.Params)
	set("float inputs", IP(&in).Flat(), ref.Floats)
	ints := IP(&in).Ints()
	if len(ints) != len(ref.Ints) {
		t.Fatalf("int inputs: %d in the model, %d in torch.json", len(ints), len(ref.Ints))
	}
	copy(ints, ref.Ints)
	if err := validate(&in); err != nil {
		t.Fatal(err)
	}

	compare := func(what string, got, want []float64) {
		if len(got) != len(want) {
			t.Fatalf("%s: %d numbers, torch has %d", what, len(got), len(want))
		}
		for i := range got {
			if d := math.Abs(got[i]-want[i]) / math.Max(math.Abs(want[i]), 1e-300); !(d <= tol) {
				t.Errorf("%s[%d] = %.17g, torch %.17g (relative error %.2g)", what, i, got[i], want[i], d)
			}
		}
	}
	loss := PP(&p).Forward(&ws, &in, &out)
	compare("loss", []float64{loss}, []float64{ref.Loss})
	compare("outputs", floats(&out), ref.Outputs)
	loss2 := PP(&p).LossGrad(&ws, &in, &g)
	compare("LossGrad's loss", []float64{loss2}, []float64{ref.Loss})
	compare("gradient", PP(&g).Flat(), ref.Grad)
}

func validate(in any) error {
	if v, ok := in.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

// TestTorch compares every model's outputs, loss and gradient with
// PyTorch's (testdata/torch.json, written by
// /usr/bin/python3 scripts/torch_check_layers.py).
func TestTorch(t *testing.T) {
	refs := load(t)
	cases := map[string]func(*testing.T, reference){
		"bcast":          check[BcastWorkspace, BcastInputs, BcastOutputs, BcastParams],
		"sum_axis":       check[SumAxisWorkspace, SumAxisInputs, SumAxisOutputs, SumAxisParams],
		"mean_axis":      check[MeanAxisWorkspace, MeanAxisInputs, MeanAxisOutputs, MeanAxisParams],
		"amax_axis":      check[AmaxAxisWorkspace, AmaxAxisInputs, AmaxAxisOutputs, AmaxAxisParams],
		"logsumexp_axis": check[LogsumexpAxisWorkspace, LogsumexpAxisInputs, LogsumexpAxisOutputs, LogsumexpAxisParams],
		"softmax":        check[SoftmaxWorkspace, SoftmaxInputs, SoftmaxOutputs, SoftmaxParams],
		"log_softmax":    check[LogSoftmaxWorkspace, LogSoftmaxInputs, LogSoftmaxOutputs, LogSoftmaxParams],
		"xent":           check[XentWorkspace, XentInputs, XentOutputs, XentParams],
		"conv1":          check[Conv1Workspace, Conv1Inputs, Conv1Outputs, Conv1Params],
		"conv2":          check[Conv2Workspace, Conv2Inputs, Conv2Outputs, Conv2Params],
		"maxpool":        check[MaxpoolWorkspace, MaxpoolInputs, MaxpoolOutputs, MaxpoolParams],
		"avgpool":        check[AvgpoolWorkspace, AvgpoolInputs, AvgpoolOutputs, AvgpoolParams],
		"lnorm":          check[LnormWorkspace, LnormInputs, LnormOutputs, LnormParams],
		"attn":           check[AttnWorkspace, AttnInputs, AttnOutputs, AttnParams],
		"offsets":        check[OffsetsWorkspace, OffsetsInputs, OffsetsOutputs, OffsetsParams],
		"gather":         check[GatherWorkspace, GatherInputs, GatherOutputs, GatherParams],
	}
	if len(cases) != len(refs) {
		t.Errorf("%d models here, %d in torch.json", len(cases), len(refs))
	}
	for name, f := range cases {
		ref, ok := refs[name]
		if !ok {
			t.Errorf("%s: not in torch.json (run /usr/bin/python3 scripts/torch_check_layers.py)", name)
			continue
		}
		t.Run(name, func(t *testing.T) { f(t, ref) })
	}
}

// TestGenerated checks that every model's generated file is what
// backpropgen writes for its .bp now (go generate ./scripts/torchcheck/ops
// rewrites them).
func TestGenerated(t *testing.T) {
	models, _ := filepath.Glob("*.bp")
	if len(models) != 16 {
		t.Errorf("%d models, want 16", len(models))
	}
	for _, path := range models {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out, simd, err := backpropgen.GenerateFiles(path, src, "ops")
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		name := strings.TrimSuffix(path, ".bp") + "_grad.go"
		if want, err := os.ReadFile(name); err != nil || !bytes.Equal(out, want) {
			t.Errorf("%s is stale or missing (run go generate ./scripts/torchcheck/ops): %v", name, err)
		}
		simdName := strings.TrimSuffix(name, ".go") + "_simd.go"
		want, err := os.ReadFile(simdName)
		if (simd == nil) != (err != nil) || simd != nil && !bytes.Equal(simd, want) {
			t.Errorf("%s is stale (run go generate ./scripts/torchcheck/ops)", simdName)
		}
	}
}
