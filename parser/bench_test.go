package parser

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen/internal/testmodels"
)

// distinct returns a model of n bindings of as many shapes (up to 2^14),
// each of 29 tokens: a3 = x * w * w + x + x ..., the operators the bits of 3.
func distinct(n int) []byte {
	var b strings.Builder
	b.WriteString("model m\nparam w[4]\ninput x[4]\n")
	for i := range n {
		fmt.Fprintf(&b, "a%d = x", i)
		for bit := range 14 {
			if i>>bit&1 == 1 {
				b.WriteString(" * w")
			} else {
				b.WriteString(" + x")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("loss = sum(x)\n")
	return []byte(b.String())
}

// BenchmarkParseLarge parses a megabyte model of 36,000 bindings.
func BenchmarkParseLarge(b *testing.B) {
	src := testmodels.Chain(36000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("chain.bp", src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseDistinct parses 4,000 bindings of as many shapes: the cost
// of a statement participle parses.
func BenchmarkParseDistinct(b *testing.B) {
	src := distinct(4000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("distinct.bp", src); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseIsLinear checks that allocations grow linearly with the number
// of statements (counts of allocations are steady, unlike times), for
// statements of one shape and of as many shapes as statements.
func TestParseIsLinear(t *testing.T) {
	for _, c := range []struct {
		name  string
		model func(int) []byte
		n     int
	}{{"chain", testmodels.Chain, 4000}, {"distinct", distinct, 250}} {
		small, large := allocs(t, c.model(c.n)), allocs(t, c.model(4*c.n))
		if r := float64(large) / float64(small); r > 5 {
			t.Errorf("%s: %d statements take %d allocations, %d take %d: %.1f times as many", c.name, c.n, small, 4*c.n, large, r)
		} else {
			t.Logf("%s: 4x the statements take %.2fx the allocations", c.name, r)
		}
	}
}

// allocs returns how many allocations parsing src takes.
func allocs(t *testing.T, src []byte) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := Parse("m.bp", src); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs
}
