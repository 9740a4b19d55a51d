package deepres

//go:generate go run ../../cmd/backpropgen -o deepres_grad.go ../../testdata/deepres.bp
