package mixed

//go:generate go run ../../cmd/backpropgen -o mixed_grad.go ../../testdata/mixed.bp
