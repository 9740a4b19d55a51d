package main

import (
	"io"
	"strings"
	"testing"
)

func TestData(t *testing.T) {
	all, err := load()
	if err != nil {
		t.Fatal(err)
	}
	trainSet, testSet := split(all)
	if len(all) != 1797 || len(trainSet) != 1347 || len(testSet) != 450 {
		t.Fatalf("%d images, split %d + %d; want 1797 = 1347 + 450", len(all), len(trainSet), len(testSet))
	}
	var count [10]int
	for _, im := range all {
		count[im.label]++
	}
	for d, n := range count {
		if n < 170 || n > 190 {
			t.Errorf("digit %d: %d images, want 170..190", d, n)
		}
	}
}

// TestMLP trains on 400 of the training images for 10 epochs and checks
// the accuracy on the whole test set and the confusion matrix.
func TestMLP(t *testing.T) {
	res, err := run(io.Discard, config{model: "mlp", seed: 1, epochs: 10, batch: 32, lr: 0.003, nTrain: 400})
	if err != nil {
		t.Fatal(err)
	}
	if res.accuracy < 0.90 {
		t.Errorf("test accuracy %.1f%%, want at least 90%%", 100*res.accuracy)
	}
	checkConfusion(t, res)
}

// TestCNN trains cnn.bp on 400 of the training images for 10 epochs and
// checks the accuracy on the whole test set and the confusion matrix.
func TestCNN(t *testing.T) {
	res, err := run(io.Discard, config{model: "cnn", seed: 1, epochs: 10, batch: 32, lr: 0.003, nTrain: 400})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test accuracy %.1f%%", 100*res.accuracy)
	if res.accuracy < 0.88 {
		t.Errorf("test accuracy %.1f%%, want at least 88%% (seeds 1-5: 90.4-94.0%%)", 100*res.accuracy)
	}
	checkConfusion(t, res)
}

func TestUnknownModel(t *testing.T) {
	if _, err := run(io.Discard, config{model: "rnn", epochs: 1}); err == nil || !strings.Contains(err.Error(), `unknown model "rnn"`) {
		t.Errorf("model rnn: error %v, want unknown model", err)
	}
}

// checkConfusion checks that each row of the confusion matrix counts the
// test set's images of its digit and that the diagonal gives the accuracy.
func checkConfusion(t *testing.T, res result) {
	t.Helper()
	_, testSet := split(mustLoad(t))
	var want [10]int
	for _, im := range testSet {
		want[im.label]++
	}
	total, right := 0, 0
	for i := range 10 {
		row := 0
		for j := range 10 {
			row += res.confusion[i][j]
		}
		if row != want[i] {
			t.Errorf("confusion row %d sums to %d, but the test set has %d of that digit", i, row, want[i])
		}
		total += row
		right += res.confusion[i][i]
	}
	if total != len(testSet) || float64(right)/float64(total) != res.accuracy {
		t.Errorf("confusion matrix: %d of %d on the diagonal, accuracy %v", right, total, res.accuracy)
	}
}

func mustLoad(t testing.TB) []image {
	all, err := load()
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// BenchmarkCNNLossGradBatch times the forward and backward pass of cnn.bp
// over one mini-batch of 32 training images on one goroutine: the Go side
// of scripts/cnn_bench.py.
func BenchmarkCNNLossGradBatch(b *testing.B) {
	trainSet, _ := split(mustLoad(b))
	in := make([]CnnInputs, 32)
	for i := range in {
		in[i] = cnnInputs(&trainSet[i])
	}
	var p, g CnnParams
	p.Init(1)
	ws := new(CnnBatchWorkspace)
	for b.Loop() {
		p.LossGradBatch(ws, in, &g)
	}
}

// BenchmarkCNNLossGrad times LossGrad of cnn.bp on one training image: the
// per-sample code, whose convolution and its kernels' gradient are kernel
// calls over the image's 64 patches.
func BenchmarkCNNLossGrad(b *testing.B) {
	trainSet, _ := split(mustLoad(b))
	in := cnnInputs(&trainSet[0])
	var p, g CnnParams
	p.Init(1)
	var ws CnnWorkspace
	b.ReportAllocs()
	for b.Loop() {
		p.LossGrad(&ws, &in, &g)
	}
}
