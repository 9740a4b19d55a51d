package main

import (
	"io"
	"testing"
)

func TestLearnsXor(t *testing.T) {
	res := run(io.Discard, 1, 0.01, 20000)
	if res.loss >= 0.01 {
		t.Fatalf("loss %v after %d epochs", res.loss, res.epochs)
	}
	for i, s := range samples {
		if got := res.outs[i] > 0.5; got != (s.Y == 1) {
			t.Errorf("xor(%v) = %.3f, want %v", s.X, res.outs[i], s.Y)
		}
	}
}
