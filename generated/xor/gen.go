package xor

//go:generate go run ../../cmd/backpropgen -o xor_grad.go ../../testdata/xor.bp
