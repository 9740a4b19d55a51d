package main

//go:generate go run ../../cmd/backpropgen -test -o mlp_grad.go mlp.bp
//go:generate go run ../../cmd/backpropgen -test -o cnn_grad.go cnn.bp
