package deeprelu

//go:generate go run ../../cmd/backpropgen -o deeprelu_grad.go ../../testdata/deeprelu.bp
