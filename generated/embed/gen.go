package embed

//go:generate go run ../../cmd/backpropgen -o embed_grad.go ../../testdata/embed.bp
