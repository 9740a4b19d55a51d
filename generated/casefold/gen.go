package casefold

//go:generate go run ../../cmd/backpropgen -o casefold_grad.go ../../testdata/casefold.bp
