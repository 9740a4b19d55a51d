package mnist

//go:generate go run ../../cmd/backpropgen -o mnist_grad.go ../../testdata/mnist.bp
