package rnn

//go:generate go run ../../cmd/backpropgen -o rnn_grad.go ../../testdata/rnn.bp
