package main

//go:generate go run ../../cmd/backpropgen -test -o mlp_grad.go mlp.bp
