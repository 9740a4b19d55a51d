package main

import (
	"io"
	"math/rand"
	"testing"
)

// All three batch sizes learn; full batch takes one step per epoch so it
// is the slowest per epoch to improve; and parallel equals sequential.
func TestBatchSizes(t *testing.T) {
	curves := run(io.Discard, 30)
	for _, c := range curves {
		first, last := c.loss[0], c.loss[len(c.loss)-1]
		if !(last < first) {
			t.Errorf("batch %d: loss went from %v to %v", c.batch, first, last)
		}
	}
	if !(curves[0].loss[29] < curves[2].loss[29]) {
		t.Errorf("after 30 epochs SGD (loss %v) should be ahead of full batch (%v), having taken 512 times the steps",
			curves[0].loss[29], curves[2].loss[29])
	}
	if !identical(dataset(rand.New(rand.NewSource(1)), 512)) {
		t.Errorf("parallel mini-batch gradient differs from the sequential one")
	}
}
