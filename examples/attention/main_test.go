package main

import (
	"io"
	"testing"
)

// TestLearnsToReverse trains on fewer and smaller batches and checks that
// the block reverses most held-out sequences exactly, decoding greedily.
func TestLearnsToReverse(t *testing.T) {
	res := run(io.Discard, config{seed: 1, steps: 60, batch: 32, lr: 0.005, test: 100, every: 60})
	if res.exact < 0.9 {
		t.Errorf("%.0f%% of the held-out sequences reversed exactly (%.0f%% of the digits), want 90%% or more; loss %.4f",
			100*res.exact, 100*res.digits, res.loss)
	}
}

// TestEncode checks a training sample's layout.
func TestEncode(t *testing.T) {
	var in ReverseInputs
	encode([]int{1, 2, 3, 4, 5, 6}, &in)
	tokens := in.Tokens[:]
	want := []int{1, 2, 3, 4, 5, 6, separator, 6, 5, 4, 3, 2}
	for p := range want {
		if tokens[p] != want[p] {
			t.Fatalf("tokens %v, want %v", tokens, want)
		}
	}
	for p, n := range []int{6, 5, 4, 3, 2, 1} {
		if in.Next[seqLen+p] != n {
			t.Errorf("next %v, want the reversed digits from position %d", in.Next, seqLen)
		}
	}
}
