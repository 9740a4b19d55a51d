package symbolic

import (
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkBatch evaluates m's batched form over tile samples and compares its
// loss, gradient and outputs with those of the samples one at a time: the
// loss and gradient with their sums, the outputs sample by sample.
func checkBatch(t *testing.T, name string, m *Model, tile int, r *rand.Rand) {
	t.Helper()
	bm := m.Batch(tile)
	grad := m.Gradient()
	bgrad := bm.Gradient()
	envs := make([]map[*Var][]float64, tile)
	for s := range envs {
		envs[s] = sample(r, m)
		if s > 0 { // one set of parameters
			for _, p := range m.Params {
				envs[s][p] = envs[0][p]
			}
		}
	}
	benv := map[*Var][]float64{}
	for _, p := range m.Params {
		benv[p] = envs[0][p]
	}
	for i, v := range m.Inputs {
		n := v.Shape.Size()
		tiled := make([]float64, n*tile)
		for s := range tile {
			for j, x := range envs[s][v] {
				tiled[j*tile+s] = x
			}
		}
		benv[bm.Inputs[i]] = tiled
	}
	roots := func(m *Model, g *Grad) []*Node {
		rs := []*Node{m.Loss}
		for i, a := range g.Adjoints {
			if a == nil {
				a = m.ParamNodes[i]
				a = m.Graph.Mul(m.Graph.Const(0), a)
			}
			rs = append(rs, a)
		}
		for _, o := range m.Outputs {
			rs = append(rs, o.Node)
		}
		return rs
	}
	bvals, err := Eval(roots(bm.Model, bgrad), benv)
	if err != nil {
		t.Fatalf("%s: batched: %v", name, err)
	}
	sum := make([][]float64, 1+len(m.Params))
	for s := range tile {
		vals, err := Eval(roots(m, grad), envs[s])
		if err != nil {
			t.Fatalf("%s: sample %d: %v", name, s, err)
		}
		for i := range sum {
			if sum[i] == nil {
				sum[i] = make([]float64, len(vals[i]))
			}
			for j, v := range vals[i] {
				sum[i][j] += v
			}
		}
		for k := range m.Outputs {
			want, got := vals[1+len(m.Params)+k], bvals[1+len(m.Params)+k]
			for j, w := range want {
				if !near(got[j*tile+s], w) {
					t.Errorf("%s: output %s[%d] of sample %d: batched %g, alone %g", name, m.Outputs[k].Name, j, s, got[j*tile+s], w)
					return
				}
			}
		}
	}
	for i, want := range sum {
		what := "loss"
		if i > 0 {
			what = "gradient of " + m.Params[i-1].Name
		}
		for j, w := range want {
			if !near(bvals[i][j], w) {
				t.Errorf("%s, tile %d: %s[%d]: batched %g, sum of samples %g", name, tile, what, j, bvals[i][j], w)
				return
			}
		}
	}
}

func near(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-12*max(1, math.Abs(a), math.Abs(b))
}

func TestBatchShippedModels(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "*.bp"))
	r := rand.New(rand.NewSource(1))
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), "\nmodel ") && !strings.HasPrefix(string(src), "model ") {
			continue
		}
		for _, tile := range []int{1, 3} {
			_, prog := lowerSrc(t, filepath.Base(path), string(src))
			checkBatch(t, filepath.Base(path), prog.Model, tile, r)
		}
	}
}

func TestBatchEvalModels(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, m := range evalModels {
		_, prog := lowerSrc(t, m.name, m.src)
		if prog.Model == nil {
			continue
		}
		checkBatch(t, m.name, prog.Model, 4, r)
	}
}

// ChooseTile keeps DefaultTile for the shipped models' sizes and halves it
// for a model whose samples compute many numbers, down to minTile.
func TestChooseTile(t *testing.T) {
	for _, c := range []struct {
		src  string
		want int
	}{
		{"model a\nparam w[3]\ninput x[3]\nloss = sum(w * x)", DefaultTile},
		// 2000 and 100 steps of 3 values of 256 numbers: a tile of
		// 2^21 numbers is 32 samples of 65536 numbers at most.
		{"model b\nparam w[256]\ninput x[256]\nh = zeros(256)\nloss = 0\nfor t in 0..2000 {\n    h = tanh(w * h + x)\n    loss += sum(h)\n}", minTile},
		{"model c\nparam w[256]\ninput x[256]\nh = zeros(256)\nloss = 0\nfor t in 0..100 {\n    h = tanh(w * h + x)\n    loss += sum(h)\n}", 16},
	} {
		_, prog := lowerSrc(t, "tile.bp", c.src)
		if got := ChooseTile(prog.Model); got != c.want {
			t.Errorf("%q: tile %d, want %d", c.src[:7], got, c.want)
		}
	}
}
