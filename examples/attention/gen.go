package main

//go:generate go run ../../cmd/backpropgen -test -o reverse_grad.go reverse.bp
