package refeval

import (
	"math"

	"github.com/backpropgen/backpropgen/parser"
)

// axisBuiltin is a built-in that works along one axis of its argument, an
// optional second argument (negative counts from the end). Without it, a
// reduction folds every element and a normalizer (last) works along the
// last axis.
type axisBuiltin struct {
	last   bool
	reduce func(v []float64) float64   // a line along the axis to a number
	norm   func(v []float64) []float64 // a line along the axis to a line
}

var axisBuiltins = map[string]axisBuiltin{
	"sum":         {reduce: sumData},
	"mean":        {reduce: func(v []float64) float64 { return sumData(v) / float64(len(v)) }},
	"amax":        {reduce: maxData},
	"logsumexp":   {last: true, reduce: logSumExp},
	"softmax":     {last: true, norm: softmaxData},
	"log_softmax": {last: true, norm: logSoftmaxData},
}

func maxData(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		if x > m || math.IsNaN(x) {
			m = x
		}
	}
	return m
}

// softmaxData is e^(x − logsumexp(v)) for each x of v.
func softmaxData(v []float64) []float64 {
	l := logSumExp(v)
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Exp(x - l)
	}
	return out
}

// logSoftmaxData is x − logsumexp(v) for each x of v.
func logSoftmaxData(v []float64) []float64 {
	l := logSumExp(v)
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x - l
	}
	return out
}

// axisCall evaluates a call of an axis built-in.
func (in *interp) axisCall(e *env, c *parser.Call, b axisBuiltin) Tensor {
	if len(c.Args) != 1 && len(c.Args) != 2 {
		fail(c.P, "%s takes 1 argument and an optional axis, got %d", c.Fun.Name, len(c.Args))
	}
	x := in.tensor(e, c.Args[0])
	rank := len(x.Shape)
	axis := rank - 1
	switch {
	case len(c.Args) == 2:
		axis = in.constInt(c.Args[1])
		if axis < 0 {
			axis += rank
		}
		if axis < 0 || axis >= rank {
			fail(c.Args[1].Pos(), "axis %d of shape %v", axis, x.Shape)
		}
	case rank == 0 && b.last:
		fail(c.P, "%s of a scalar", c.Fun.Name)
	case rank == 0:
		return scalar(b.reduce(x.Data))
	case !b.last:
		return scalar(b.reduce(x.Data))
	}
	return alongAxis(x, axis, b)
}

// alongAxis applies b to every line of x along axis.
func alongAxis(x Tensor, axis int, b axisBuiltin) Tensor {
	outer, n, inner := size(x.Shape[:axis]), x.Shape[axis], size(x.Shape[axis+1:])
	var out Tensor
	if b.norm != nil {
		out = Tensor{Shape: x.Shape, Data: make([]float64, len(x.Data))}
	} else {
		shape := append(append([]int{}, x.Shape[:axis]...), x.Shape[axis+1:]...)
		out = Tensor{Shape: shape, Data: make([]float64, outer*inner)}
	}
	line := make([]float64, n)
	for o := range outer {
		for i := range inner {
			for k := range n {
				line[k] = x.Data[(o*n+k)*inner+i]
			}
			if b.norm == nil {
				out.Data[o*inner+i] = b.reduce(line)
				continue
			}
			for k, v := range b.norm(line) {
				out.Data[(o*n+k)*inner+i] = v
			}
		}
	}
	return out
}

// crossEntropyRows is cross_entropy(logits, labels) of a matrix of logits
// and a vector of integer inputs, one label per row: the sum over the rows
// of logsumexp(row) − row[label].
func (in *interp) crossEntropyRows(e *env, c *parser.Call, logits Tensor) Tensor {
	id, ok := c.Args[1].(*parser.Ident)
	var labels value
	if ok {
		labels, ok = e.get(id.Name)
	}
	rows, classes := logits.Shape[0], logits.Shape[1]
	if !ok || !labels.isInt || len(labels.intShape) != 1 || labels.intShape[0] != rows {
		fail(c.Args[1].Pos(), "cross_entropy of %v logits needs %d integer labels", logits.Shape, rows)
	}
	s := 0.0
	for r := range rows {
		row := logits.Data[r*classes : (r+1)*classes]
		k := labels.ints[r]
		if k < 0 || k >= classes {
			fail(c.Args[1].Pos(), "label %d is outside 0..%d", k, classes-1)
		}
		s += logSumExp(row) - row[k]
	}
	return scalar(s)
}
