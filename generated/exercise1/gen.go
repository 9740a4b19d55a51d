package exercise1

//go:generate go run ../../cmd/backpropgen -o exercise1_grad.go ../../testdata/exercise1.bp
