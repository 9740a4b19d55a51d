package layers

//go:generate go run ../../cmd/backpropgen -o layers_grad.go ../../testdata/layers.bp
