package backpropgen_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen"
)

// BenchmarkGenerateShipped: generating each shipped model, the whole
// pipeline (parse, check, differentiate, the batched model and its
// derivative, emit and format both files). Issue 8's bound is 50 ms each.
func BenchmarkGenerateShipped(b *testing.B) {
	files, _ := filepath.Glob("testdata/*.bp")
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		name := filepath.Base(path)
		b.Run(strings.TrimSuffix(name, ".bp"), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := backpropgen.GenerateFiles(name, src, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
