package codegen

import (
	"strings"
	"testing"
)

// Small snippets and the Go they become, one construct each, in the style
// of go/printer's and starlark's small tests. Each expected function was
// read and checked by hand; the golden files and the differential test
// check whole models.
func TestSnippets(t *testing.T) {
	for _, c := range []struct {
		name string
		src  string
		fn   string // the function to compare: "F" or a model method
		want string
	}{{
		name: "one op",
		src:  "fn f(x) = tanh(x)",
		fn:   "F",
		want: `func F(x float64) float64 {
	return math.Tanh(x)
}`,
	}, {
		name: "literals are folded in float64, never as Go integer constants",
		src:  "fn f(x) = x / 2 + 1 / 2",
		fn:   "F",
		want: `func F(x float64) float64 {
	return x/2 + 0.5
}`,
	}, {
		name: "a division by a literal zero",
		src:  "fn f(x) = x / 0",
		fn:   "F",
		want: `func F(x float64) float64 {
	return x * math.Inf(1)
}`,
	}, {
		name: "a square is a product",
		src:  "fn f(x) = x^2",
		fn:   "F",
		want: `func F(x float64) float64 {
	return x * x
}`,
	}, {
		name: "a sum of four or fewer terms is written out, pairwise",
		src:  "fn f(v[4]) = sum(v)",
		fn:   "F",
		want: `func F(v [4]float64) float64 {
	return v[0] + v[1] + (v[2] + v[3])
}`,
	}, {
		name: "a short sum is one running sum",
		src:  "fn f(v[5]) = sum(v)",
		fn:   "F",
		want: `func F(v [5]float64) float64 {
	var sum float64
	for k := range 5 {
		sum += v[k]
	}
	return sum
}`,
	}, {
		name: "a long sum is four partial sums",
		src:  "fn f(v[8]) = sum(v * v)",
		fn:   "F",
		want: `func F(v [8]float64) float64 {
	var sum0, sum1, sum2, sum3 float64
	for k := 0; k < 8; k += 4 {
		sum0 += v[k] * v[k]
		sum1 += v[k+1] * v[k+1]
		sum2 += v[k+2] * v[k+2]
		sum3 += v[k+3] * v[k+3]
	}
	return sum0 + sum1 + (sum2 + sum3)
}`,
	}, {
		name: "a matrix-vector product reads each row through its address",
		src:  "fn f(W[2, 5], x[5]) = sum(W @ x)",
		fn:   "F",
		want: `func F(W [2][5]float64, x [5]float64) float64 {
	row := &W[0]
	var sum float64
	for k := range 5 {
		sum += row[k] * x[k]
	}
	row2 := &W[1]
	var sum2 float64
	for k2 := range 5 {
		sum2 += row2[k2] * x[k2]
	}
	return sum + sum2
}`,
	}, {
		name: "a loop accumulating into the loss",
		src:  "model m\nparam w\ninput x[3]\nloss = 0\nfor t in 0..3 {\n  loss += w * x[t]\n}\n",
		fn:   "Forward",
		want: `func (p *MParams) Forward(ws *MWorkspace, in *MInputs, out *MOutputs) float64 {
	var loss float64
	// m.bp:5: for t in 0..3 {
	for t := range 3 {
		// m.bp:6: loss += w * x[t]
		loss += p.W * in.X[t]
	}
	return loss
}`,
	}, {
		name: "its backward loop runs the steps in reverse, the adjoint of loss not carried",
		src:  "model m\nparam w\ninput x[3]\nloss = 0\nfor t in 0..3 {\n  loss += w * x[t]\n}\n",
		fn:   "Backward",
		want: `func (p *MParams) Backward(ws *MWorkspace, in *MInputs, g *MParams) {
	// backward of m.bp:5: for t in 0..3 {
	for t := 2; t >= 0; t-- {
		// backward of m.bp:6: loss += w * x[t]
		g.W += in.X[t]
	}
}`,
	}, {
		name: "a layer's elementwise work fused into one loop, a short row of its weight gradient written out",
		src:  "model m\nparam W[3, 3]\ninput x[3]\nh = tanh(W @ x)\nloss = sum(h * h)\n",
		fn:   "Backward",
		want: `func (p *MParams) Backward(ws *MWorkspace, in *MInputs, g *MParams) {
	// backward of m.bp:4: h = tanh(W @ x)
	for i := range 3 {
		ti := (ws.h[i] + ws.h[i]) * (1 - ws.t[i])
		row := &g.W[i]
		row[0] += ti * in.X[0]
		row[1] += ti * in.X[1]
		row[2] += ti * in.X[2]
	}
}`,
	}, {
		name: "a window that moves with the loop is read in place, not copied",
		src:  "model m\nparam w[3]\ninput x[6]\nloss = 0\nfor t in 3..6 {\n  loss += dot(w, x[t - 3:t])\n}\n",
		fn:   "Forward",
		want: `func (p *MParams) Forward(ws *MWorkspace, in *MInputs, out *MOutputs) float64 {
	var loss float64
	// m.bp:5: for t in 3..6 {
	for t := 3; t < 6; t++ {
		// m.bp:6: loss += dot(w, x[t - 3:t])
		loss += p.W[0]*in.X[t-3] + p.W[1]*in.X[t-2] + p.W[2]*in.X[t-1]
	}
	return loss
}`,
	}, {
		name: "and its weight's gradient reads it in place",
		src:  "model m\nparam w[3]\ninput x[6]\nloss = 0\nfor t in 3..6 {\n  loss += dot(w, x[t - 3:t])\n}\n",
		fn:   "Backward",
		want: `func (p *MParams) Backward(ws *MWorkspace, in *MInputs, g *MParams) {
	// backward of m.bp:5: for t in 3..6 {
	for t := 5; t >= 3; t-- {
		// backward of m.bp:6: loss += dot(w, x[t - 3:t])
		for i := range 3 {
			g.W[i] += in.X[t+i-3]
		}
	}
}`,
	}, {
		name: "a moving slice's gradient is added into the rows the step read",
		src:  "model m\nparam x[6]\nloss = 0\nfor t in 2..6 {\n  loss += x[t] * sum(x[t - 2:t])\n}\n",
		fn:   "Backward",
		want: `func (p *MParams) Backward(ws *MWorkspace, in *MInputs, g *MParams) {
	// backward of m.bp:4: for t in 2..6 {
	for t := 5; t >= 2; t-- {
		// backward of m.bp:5: loss += x[t] * sum(x[t - 2:t])
		t2 := p.X[t]
		// backward of m.bp:2: param x[6]
		g.X[t-2] += t2
		g.X[t-1] += t2
		g.X[t] += ws.sum[t-2]
	}
}`,
	}, {
		name: "a gather's gradient is added into the rows the integers pick",
		src:  "model m\nparam E[4, 2]\ninput tok[3] int\nh = tanh(E[tok])\nloss = sum(h * h)\n",
		fn:   "Backward",
		want: `func (p *MParams) Backward(ws *MWorkspace, in *MInputs, g *MParams) {
	if err := in.Validate(); err != nil {
		panic(err)
	}
	// backward of m.bp:4: h = tanh(E[tok])
	for i2 := range 3 {
		g.E[in.Tok[i2]][0] += (ws.h[i2][0] + ws.h[i2][0]) * (1 - ws.t[i2][0])
		g.E[in.Tok[i2]][1] += (ws.h[i2][1] + ws.h[i2][1]) * (1 - ws.t[i2][1])
	}
}`,
	}, {
		name: "a batched sample of rows times a shared matrix: a kernel call per row, and the weight gradient summed over the rows by accumulating calls, the first of which writes in the To form",
		src:  "model m\nparam W[16, 16]\ninput X[3, 16]\nloss = sum(tanh(X @ transpose(W)))",
		fn:   "lossGradTileTo",
		want: `func (p *MParams) lossGradTileTo(ws *MBatchWorkspace, g *MParams) float64 {
	// m.bp:4: loss = sum(tanh(X @ transpose(W)))
	for p2 := range 3 {
		mGemmNN(16, 32, 16, unsafe.Slice(&p.W[0][0], 256), unsafe.Slice(&ws.x[p2][0][0], 512), unsafe.Slice(&ws.t[p2][0][0], 512), false)
	}
	for i := range 3 {
		for j := range 16 {
			for n := range 32 {
				ws.tanh[i][j][n] = math.Tanh(ws.t[i][j][n])
			}
		}
	}
	var loss float64
	for k4 := range 32 {
		var sum2 float64
		for k5 := range 3 {
			for k6 := range 16 {
				sum2 += ws.tanh[k5][k6][k4]
			}
		}
		loss += sum2
	}
	// backward of m.bp:4: loss = sum(tanh(X @ transpose(W)))
	for i := range 3 {
		for j := range 16 {
			for n := range 32 {
				ws.t2[i][j][n] = 1 - ws.tanh[i][j][n]*ws.tanh[i][j][n]
			}
		}
	}
	for p3 := range 3 {
		mGemmNT(16, 16, 32, unsafe.Slice(&ws.t2[p3][0][0], 512), unsafe.Slice(&ws.x[p3][0][0], 512), unsafe.Slice(&g.W[0][0], 256), p3 > 0)
	}
	return loss
}`,
	}, {
		name: "products of one vector in one pass, rows interleaved, each finished by its epilogue",
		src:  "fn f(A[8, 16], B[8, 16], x[16]) = sum(tanh(A @ x + 1) * tanh(B @ x))",
		fn:   "F",
		want: `func F(A, B [8][16]float64, x [16]float64) float64 {
	var t [8]float64
	var t2 [8]float64
	// m.bp:1: fn f(A[8, 16], B[8, 16], x[16]) = sum(tanh(A @ x + 1) * tanh(B @ x))
	for i2 := 0; i2 < 8; i2 += 2 {
		row := &A[i2]
		row2 := &A[i2+1]
		row3 := &B[i2]
		row4 := &B[i2+1]
		var dot0, dot1, dot2, dot3 float64
		for k := 0; k < 16; k += 4 {
			x2 := x[k]
			x3 := x[k+1]
			x4 := x[k+2]
			x5 := x[k+3]
			dot0 += row[k]*x2 + row[k+1]*x3 + (row[k+2]*x4 + row[k+3]*x5)
			dot1 += row2[k]*x2 + row2[k+1]*x3 + (row2[k+2]*x4 + row2[k+3]*x5)
			dot2 += row3[k]*x2 + row3[k+1]*x3 + (row3[k+2]*x4 + row3[k+3]*x5)
			dot3 += row4[k]*x2 + row4[k+1]*x3 + (row4[k+2]*x4 + row4[k+3]*x5)
		}
		t[i2] = dot0 + 1
		t[i2+1] = dot1 + 1
		t2[i2] = dot2
		t2[i2+1] = dot3
	}
	var sum0, sum1, sum2, sum3 float64
	for k2 := 0; k2 < 8; k2 += 4 {
		sum0 += math.Tanh(t[k2]) * math.Tanh(t2[k2])
		sum1 += math.Tanh(t[k2+1]) * math.Tanh(t2[k2+1])
		sum2 += math.Tanh(t[k2+2]) * math.Tanh(t2[k2+2])
		sum3 += math.Tanh(t[k2+3]) * math.Tanh(t2[k2+3])
	}
	return sum0 + sum1 + (sum2 + sum3)
}`,
	}, {
		name: "a sum of vector-matrix products in passes over the rows of both",
		src:  "fn f(A[8, 8], B[8, 8], u[8], v[8]) = sum(tanh(u @ A + v @ B))",
		fn:   "F",
		want: `func F(A, B [8][8]float64, u, v [8]float64) float64 {
	var t [8]float64
	// m.bp:1: fn f(A[8, 8], B[8, 8], u[8], v[8]) = sum(tanh(u @ A + v @ B))
	v2 := u[0]
	row := &A[0]
	v3 := u[1]
	row2 := &A[1]
	v4 := v[0]
	row3 := &B[0]
	v5 := v[1]
	row4 := &B[1]
	for j2 := range 8 {
		t[j2] = v2*row[j2] + v3*row2[j2] + (v4*row3[j2] + v5*row4[j2])
	}
	for k := 2; k < 8; k += 2 {
		v6 := u[k]
		row5 := &A[k]
		v7 := u[k+1]
		row6 := &A[k+1]
		v8 := v[k]
		row7 := &B[k]
		v9 := v[k+1]
		row8 := &B[k+1]
		for j3 := range 8 {
			t[j3] += v6*row5[j3] + v7*row6[j3] + (v8*row7[j3] + v9*row8[j3])
		}
	}
	var sum0, sum1, sum2, sum3 float64
	for k2 := 0; k2 < 8; k2 += 4 {
		sum0 += math.Tanh(t[k2])
		sum1 += math.Tanh(t[k2+1])
		sum2 += math.Tanh(t[k2+2])
		sum3 += math.Tanh(t[k2+3])
	}
	return sum0 + sum1 + (sum2 + sum3)
}`,
	}, {
		name: "a backward step: the gradient update beside its term, the next adjoint written over the state",
		src:  "model m\nparam w[3]\ninput x[4, 3]\nh = zeros(3)\nloss = 0\nfor t in 0..4 {\n  h = tanh(h * w + x[t])\n  loss += sum(h)\n}\n",
		fn:   "Backward",
		want: `func (p *MParams) Backward(ws *MWorkspace, in *MInputs, g *MParams) {
	var dh [3]float64
	// backward of m.bp:6: for t in 0..4 {
	for t := 3; t >= 0; t-- {
		// backward of m.bp:7: h = tanh(h * w + x[t])
		for i := range 3 {
			t2i := (dh[i] + 1) * (1 - ws.h[t+1][i]*ws.h[t+1][i])
			g.W[i] += t2i * ws.h[t][i]
			dh[i] = t2i * p.W[i]
		}
	}
}`,
	}} {
		t.Run(c.name, func(t *testing.T) {
			prog := lower(t, "m.bp", []byte(c.src))
			src := []byte(c.src)
			code, err := Generate(prog, prog.Differentiate(), Options{Package: "m", Source: func(line int) string {
				return strings.Split(string(src), "\n")[line-1]
			}})
			if err != nil {
				t.Fatal(err)
			}
			if got := funcDecl(string(code), c.fn); got != c.want {
				t.Errorf("%s\ngenerates\n%s\nwant\n%s", c.src, got, c.want)
			}
		})
	}
}

// funcDecl returns the declaration of the function or method name in
// code, from func to its closing brace.
func funcDecl(code, name string) string {
	for _, head := range []string{"\nfunc " + name + "(", ") " + name + "("} {
		i := strings.Index(code, head)
		if i < 0 {
			continue
		}
		start := strings.LastIndex(code[:i+len(head)], "\nfunc") + 1
		end := strings.Index(code[start:], "\n}\n")
		return code[start : start+end+2]
	}
	return "(no function " + name + ")"
}
