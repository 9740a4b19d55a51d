package axes

//go:generate go run ../../cmd/backpropgen -o axes_grad.go ../../testdata/axes.bp
