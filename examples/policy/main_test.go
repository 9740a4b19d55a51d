package main

import (
	"io"
	"testing"
)

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// REINFORCE with the generated policy gradient: the average return of the
// last updates is well above that of the first ones.
func TestReturnRises(t *testing.T) {
	curve := run(io.Discard, 1, 60)
	first, last := mean(curve[:10]), mean(curve[len(curve)-10:])
	if !(last > 2*first) {
		t.Errorf("average return went from %.1f to %.1f", first, last)
	}
	t.Logf("average return %.1f over the first 10 updates, %.1f over the last 10", first, last)
}
