package inspect_test

import (
	"os"
	"testing"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/inspect"
)

func load(t *testing.T, name string) (*inspect.Unit, []byte) {
	t.Helper()
	path := "../testdata/" + name
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, prog, err := backpropgen.Check(path, src)
	if err != nil {
		t.Fatal(err)
	}
	units := inspect.Units(prog, prog.Differentiate())
	code, err := backpropgen.Generate(path, src, "")
	if err != nil {
		t.Fatal(err)
	}
	return units[len(units)-1], code
}

type lineWant struct {
	line              int
	forward, backward int64
}

func checkCount(t *testing.T, c *inspect.Count, forward, backward int64, lines []lineWant) {
	t.Helper()
	if c.Forward != forward || c.Backward != backward {
		t.Errorf("total: %d forward, %d backward FLOPs; counted by hand: %d, %d", c.Forward, c.Backward, forward, backward)
	}
	got := map[int]inspect.LineCount{}
	for _, lc := range c.Lines {
		got[lc.Line] = lc
	}
	for _, w := range lines {
		if g := got[w.line]; g.Forward != w.forward || g.Backward != w.backward {
			t.Errorf("line %d: %d forward, %d backward FLOPs; counted by hand: %d, %d", w.line, g.Forward, g.Backward, w.forward, w.backward)
		}
	}
}

// TestFLOPsXor checks the counts for xor.bp against a count by hand.
func TestFLOPsXor(t *testing.T) {
	u, code := load(t, "xor.bp")
	checkCount(t, inspect.CountFLOPs(u), 68, 68, []lineWant{
		// h = tanh(W1 @ x + b1): W1 x is 2·8·2 = 32 (a multiply-add is 2),
		// + b1 is 8, tanh 8 (a transcendental counts 1): 48. Backward:
		// h⊙h 8, 1 − that 8, δh ⊙ that 8, δb1 xᵀ 8·2 = 16: 40.
		{12, 2*8*2 + 8 + 8, 8 + 8 + 8 + 8*2},
		// p = sigmoid(W2 @ h + b2): 2·1·8 + 1 + 1 = 18. Backward: 1 − p,
		// p ⊙ that, δp ⊙ that (1 each), δb2 hᵀ 8, W2ᵀ δb2 2·8 = 16: 27.
		{13, 2*1*8 + 1 + 1, 1 + 1 + 1 + 8 + 2*8},
		// loss = (p[0] - y)^2: indexing is free, − and ^ are 1 each.
		// Backward: 2·(p[0] − y) is 1, placing it in δp is free.
		{14, 2, 1},
	})
	ws, err := inspect.WorkspaceOf(code)
	if err != nil {
		t.Fatal(err)
	}
	// XorWorkspace holds h [8], p [1] and one float64.
	if ws == nil || ws.Type != "XorWorkspace" || ws.Numbers != 8+1+1 || ws.Bytes != 80 || ws.Fields != 3 {
		t.Errorf("workspace %+v, want XorWorkspace, 3 fields, 10 numbers, 80 bytes", ws)
	}
}

// TestFLOPsMnist checks the counts for mnist.bp against a count by hand.
func TestFLOPsMnist(t *testing.T) {
	u, code := load(t, "mnist.bp")
	const (
		fwd14 = 2*784*128 + 128 + 128 // W1 x, + b1, relu
		fwd15 = 2*128*10 + 10         // W2 h, + b2
		// -dot(target, log_softmax(logits)), as logits − m − log Σ e^(logits−m):
		// max over 10 is 9 comparisons, − m 10, exp 10, Σ 9, log 1,
		// − log Σ 10, target ⊙ 10, Σ 9, negation 1.
		fwd16 = 9 + 10 + 10 + 9 + 1 + 10 + 10 + 9 + 1
		// δlogits = −target + (Σ target / Σ e)·e: −target 10, Σ target 9,
		// the division 1, the product 10, the sum 10.
		bwd16 = 10 + 9 + 1 + 10 + 10
		bwd15 = 10*128 + 2*10*128   // δlogits hᵀ, W2ᵀ δlogits
		bwd14 = 128 + 128 + 128*784 // 1[h > 0], δh ⊙ that, δb1 xᵀ
	)
	checkCount(t, inspect.CountFLOPs(u), fwd14+fwd15+fwd16, bwd14+bwd15+bwd16,
		[]lineWant{{14, fwd14, bwd14}, {15, fwd15, bwd15}, {16, fwd16, bwd16}})
	ws, err := inspect.WorkspaceOf(code)
	if err != nil || ws == nil {
		t.Fatal(ws, err)
	}
	if ws.Bytes != 8*ws.Numbers || ws.Numbers < 128+10 {
		t.Errorf("workspace %+v: less than h and logits", ws)
	}
}

// TestFLOPsLoop: a loop's body counts once per step (rnn.bp, 25 steps).
func TestFLOPsLoop(t *testing.T) {
	u, _ := load(t, "rnn.bp")
	c := inspect.CountFLOPs(u)
	if len(c.Loops) != 1 {
		t.Fatalf("%d loops", len(c.Loops))
	}
	l := c.Loops[0]
	// h = tanh(Wx @ xs[t] + Wh @ h + bh): 2·16·4 + 2·16·16 + 16 + 16 + 16;
	// loss += ((Wy @ h + by)[0] - ys[t])^2: 2·16 + 1 + 1 + 1 + 1.
	const step = 2*16*4 + 2*16*16 + 16 + 16 + 16 + 2*16 + 1 + 1 + 1 + 1
	if l.Steps != 25 || l.ForwardStep != step || l.Forward != 25*step || c.Forward != 25*step {
		t.Errorf("loop %+v, total forward %d; want 25 steps of %d", l, c.Forward, step)
	}
	if l.Backward != 25*l.BackwardStep {
		t.Errorf("backward %d is not 25 × %d", l.Backward, l.BackwardStep)
	}
}
