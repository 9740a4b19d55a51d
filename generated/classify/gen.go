package classify

//go:generate go run ../../cmd/backpropgen -o classify_grad.go ../../testdata/classify.bp
