package gru

//go:generate go run ../../cmd/backpropgen -o gru_grad.go ../../testdata/gru.bp
