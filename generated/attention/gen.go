package attention

//go:generate go run ../../cmd/backpropgen -o attention_grad.go ../../testdata/attention.bp
