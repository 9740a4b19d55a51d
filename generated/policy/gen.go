package policy

//go:generate go run ../../cmd/backpropgen -o policy_grad.go ../../testdata/policy.bp
