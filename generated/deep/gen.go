package deep

//go:generate go run ../../cmd/backpropgen -o deep_grad.go ../../testdata/deep.bp
