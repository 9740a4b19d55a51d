package lstm

//go:generate go run ../../cmd/backpropgen -o lstm_grad.go ../../testdata/lstm.bp
