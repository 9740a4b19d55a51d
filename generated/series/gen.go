package series

//go:generate go run ../../cmd/backpropgen -o series_grad.go ../../testdata/series.bp
