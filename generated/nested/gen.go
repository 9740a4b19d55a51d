package nested

//go:generate go run ../../cmd/backpropgen -o nested_grad.go ../../testdata/nested.bp
