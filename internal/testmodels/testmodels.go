// Package testmodels writes large .bp models for the tests and
// benchmarks of parsing and generation speed.
package testmodels

import (
	"fmt"
	"strings"
)

// Chain is a model of n bindings, each one line of the chain
// a_i = tanh(a_{i-1}) * w + x: 36,000 of them make a megabyte.
func Chain(n int) []byte {
	var b strings.Builder
	b.WriteString("model m\nparam w[4]\ninput x[4]\na0 = w * x\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "a%d = tanh(a%d) * w + x\n", i, i-1)
	}
	fmt.Fprintf(&b, "loss = sum(a%d)\n", n-1)
	return []byte(b.String())
}

// PowChain is w^w^...^w, n deep (right-associative: the deepest
// expression the language has).
func PowChain(n int) []byte {
	return []byte("model m\nparam w\nloss = " + strings.Repeat("w^", n-1) + "w\n")
}
