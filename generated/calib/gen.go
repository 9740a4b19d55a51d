package calib

//go:generate go run ../../cmd/backpropgen -o calib_grad.go ../../testdata/calib.bp
