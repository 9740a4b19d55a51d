package blackscholes

//go:generate go run ../../cmd/backpropgen -o blackscholes_grad.go ../../testdata/blackscholes.bp
