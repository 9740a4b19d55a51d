package swap

//go:generate go run ../../cmd/backpropgen -o swap_grad.go ../../testdata/swap.bp
