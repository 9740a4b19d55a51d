package builtins

//go:generate go run ../../cmd/backpropgen -o builtins_grad.go ../../testdata/builtins.bp
