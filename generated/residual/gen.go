package residual

//go:generate go run ../../cmd/backpropgen -o residual_grad.go ../../testdata/residual.bp
