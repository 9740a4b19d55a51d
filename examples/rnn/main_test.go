package main

import (
	"io"
	"testing"
)

func TestPredictsSineWave(t *testing.T) {
	res := run(io.Discard, 1, 600)
	if !(res.testMSE < res.constMSE/20) {
		t.Errorf("test MSE %v, constant predictor %v: not far below", res.testMSE, res.constMSE)
	}
}
