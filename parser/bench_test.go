package parser

import (
	"fmt"
	"strings"
	"testing"
)

// chain returns a model of n bindings, each a line like
// a7 = tanh(a6) * w + x: at n = 36000, the megabyte model of the issue
// on parsing time (chain36000.bp).
func chain(n int) []byte {
	var b strings.Builder
	b.WriteString("model m\nparam w[4]\ninput x[4]\na0 = w * x\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "a%d = tanh(a%d) * w + x\n", i, i-1)
	}
	fmt.Fprintf(&b, "loss = sum(a%d)\n", n-1)
	return []byte(b.String())
}

// BenchmarkParseLarge parses a megabyte model of 36,000 bindings.
func BenchmarkParseLarge(b *testing.B) {
	src := chain(36000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("chain.bp", src); err != nil {
			b.Fatal(err)
		}
	}
}
