package main

//go:generate go run ../../cmd/backpropgen -test -o forecast_grad.go forecast.bp
