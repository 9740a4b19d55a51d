package difftest

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"strings"

	"github.com/backpropgen/backpropgen/internal/refeval"
	"github.com/backpropgen/backpropgen/symbolic"
)

// Tolerances, as relative errors |a-b| / max(|a|, |b|, floor).
const (
	// Values (loss, outputs, fn results) against refeval: the generator
	// keeps magnitudes moderate, so only rounding in a different order
	// separates them.
	ValueTol, ValueFloor = 1e-12, 1e-3
	// Gradients against the IR's derivative evaluated by symbolic.Eval:
	// the same formulas, evaluated in another order.
	IRTol, IRFloor = 1e-10, 1e-2
	// Gradients against central differences of refeval, as in
	// package gradcheck.
	FDTol, FDFloor = 1e-6, 1e-2
	// The two steps of central differences; a coordinate where they
	// disagree (by more than FDTol) is at a kink and skipped.
	FDStep1, FDStep2 = 1e-5, 2e-5
)

// relErr is |a-b| / max(|a|, |b|, floor); equal infinities and two NaNs
// agree.
func relErr(a, b, floor float64) float64 {
	if a == b || math.IsNaN(a) && math.IsNaN(b) {
		return 0
	}
	e := math.Abs(a-b) / math.Max(math.Max(math.Abs(a), math.Abs(b)), floor)
	if math.IsNaN(e) {
		return math.Inf(1)
	}
	return e
}

// valueErr, irErr and fdErr record the largest error within tolerance,
// to show how close passing comparisons come to it; they return e.
func (r *Result) valueErr(e float64) float64 { return worst(&r.MaxValueErr, e, ValueTol) }
func (r *Result) irErr(e float64) float64    { return worst(&r.MaxIRErr, e, IRTol) }
func (r *Result) fdErr(e float64) float64    { return worst(&r.MaxFDErr, e, FDTol) }

func worst(m *float64, e, tol float64) float64 {
	if e <= tol && e > *m {
		*m = e
	}
	return e
}

func f64(b uint64) float64 { return math.Float64frombits(b) }

// mismatches collects up to a few messages of one kind.
type mismatches struct {
	n    int
	msgs []string
}

func (m *mismatches) add(format string, a ...any) {
	m.n++
	if len(m.msgs) < 3 {
		m.msgs = append(m.msgs, fmt.Sprintf(format, a...))
	}
}

func (m *mismatches) report(r *Result, c Class, what string) {
	if m.n == 0 {
		return
	}
	more := ""
	if m.n > len(m.msgs) {
		more = fmt.Sprintf("; and %d more", m.n-len(m.msgs))
	}
	r.fail(c, "%s: %s%s", what, strings.Join(m.msgs, "; "), more)
}

func compare(p *prepared, fdMax int) {
	res, resp := p.res, p.resp
	if resp == nil {
		return
	}
	res.Compared = true
	res.NoFD = bytes.Contains(res.Case.Src, []byte("stop_gradient"))
	if p.prog.Model != nil {
		if !resp.Model {
			res.fail(Panic, "the driver ran no model")
		} else if resp.Panic != "" {
			res.fail(Panic, "%s", clip(resp.Panic, 1500))
		} else {
			compareModel(p, fdMax)
			if resp.BatchErr != "" {
				res.fail(Batch, "%s", resp.BatchErr)
			}
			if resp.AddErr != "" {
				res.fail(LossGrad, "%s", resp.AddErr)
			}
		}
	}
	if len(resp.Fns) != len(p.prog.Fns) {
		res.fail(Panic, "the driver ran %d fns of %d", len(resp.Fns), len(p.prog.Fns))
		return
	}
	for i := range p.prog.Fns {
		compareFn(p, i, fdMax)
	}
}

func compareModel(p *prepared, fdMax int) {
	res, resp, m := p.res, p.resp, p.prog.Model
	loss, outs, err := refeval.EvalModel(p.file, p.params, p.inputs, p.ints)
	if err != nil {
		res.fail(Reference, "refeval: %v", err)
	} else {
		if got := f64(resp.Loss); res.valueErr(relErr(got, loss, ValueFloor)) > ValueTol {
			res.fail(WrongLoss, "Forward's loss %v, refeval's %v (relative error %.3g)", got, loss, relErr(got, loss, ValueFloor))
		}
		if len(resp.Outputs) != len(m.Outputs) {
			res.fail(WrongOutput, "Outputs has %d fields, the model %d outputs", len(resp.Outputs), len(m.Outputs))
		} else {
			var bad mismatches
			for i, o := range m.Outputs {
				want := outs[o.Name].Data
				if len(want) != len(resp.Outputs[i]) {
					bad.add("%s has %d numbers, refeval's %d", o.Name, len(resp.Outputs[i]), len(want))
					continue
				}
				for j, w := range want {
					if got := f64(resp.Outputs[i][j]); res.valueErr(relErr(got, w, ValueFloor)) > ValueTol {
						bad.add("%s[%d] = %v, refeval %v", o.Name, j, got, w)
					}
				}
			}
			bad.report(res, WrongOutput, "outputs")
		}
	}

	// LossGrad must be Forward and Backward, to the bit; the overwrite
	// forms what the adding ones add to a cleared g; Predict Forward's
	// outputs.
	var lg mismatches
	compareOverwrite(&lg, resp, paramNames(m))
	if resp.LGLoss != resp.Loss {
		lg.add("LossGrad's loss %v, Forward's %v", f64(resp.LGLoss), f64(resp.Loss))
	}
	names := paramNames(m)
	if len(resp.LossGrad) != len(resp.Backward) {
		lg.add("LossGrad's gradient has %d numbers, Backward's %d", len(resp.LossGrad), len(resp.Backward))
	} else {
		for i := range resp.Backward {
			if resp.LossGrad[i] != resp.Backward[i] {
				lg.add("d/d%s: LossGrad %v, Backward %v", names[i], f64(resp.LossGrad[i]), f64(resp.Backward[i]))
			}
		}
	}
	lg.report(res, LossGrad, "LossGrad")
	grad := make([]float64, len(resp.Backward))
	for i, b := range resp.Backward {
		grad[i] = f64(b)
	}
	if len(grad) != len(names) {
		res.fail(Panic, "the gradient has %d numbers, the params %d", len(grad), len(names))
		return
	}

	// The IR's derivative.
	env := map[*symbolic.Var][]float64{}
	for _, v := range m.Params {
		env[v] = p.params[v.Name]
	}
	for _, v := range m.Inputs {
		if v.Int {
			env[v] = intValues(p.ints[v.Name])
		} else {
			env[v] = p.inputs[v.Name]
		}
	}
	if ir, err := evalAdjoints(m.Gradient(), m.Params, env); err != nil {
		res.fail(Reference, "%v", err)
	} else {
		var bad mismatches
		for i := range grad {
			res.CoordsIR++
			if e := res.irErr(relErr(grad[i], ir[i], IRFloor)); e > IRTol {
				bad.add("d/d%s: Backward %v, IR %v (relative error %.3g)", names[i], grad[i], ir[i], e)
			}
		}
		bad.report(res, GradIR, "gradient vs IR")
	}

	// Central differences of refeval.
	if res.NoFD || err != nil {
		return
	}
	flat := make([]float64, 0, len(grad))
	for _, v := range m.Params {
		flat = append(flat, p.params[v.Name]...)
	}
	params := map[string][]float64{}
	off := 0
	for _, v := range m.Params {
		n := v.Shape.Size()
		params[v.Name] = flat[off : off+n : off+n]
		off += n
	}
	var ferr error
	f := func() float64 {
		l, _, err := refeval.EvalModel(p.file, params, p.inputs, p.ints)
		if err != nil && ferr == nil {
			ferr = err
		}
		return l
	}
	bad := p.centralCheck(f, flat, grad, names, fdMax)
	if ferr != nil {
		res.fail(Reference, "refeval at a perturbed point: %v", ferr)
		return
	}
	bad.report(res, GradFD, "gradient vs central differences")
}

// centralCheck compares grad with central differences of f at up to fdMax
// coordinates of x.
func (p *prepared) centralCheck(f func() float64, x, grad []float64, names []string, fdMax int) *mismatches {
	r := rand.New(rand.NewSource(p.res.Case.Seed))
	coords := r.Perm(len(x))
	if len(coords) > fdMax {
		coords = coords[:fdMax]
	}
	bad := &mismatches{}
	for _, i := range coords {
		c1, c2 := central(f, x, i, FDStep1), central(f, x, i, FDStep2)
		if math.IsNaN(c1) || math.IsInf(c1, 0) {
			// The function is not finite near x (x/0): differences
			// say nothing; the IR's derivative is still compared.
			p.res.NonFinite++
			continue
		}
		if relErr(c1, c2, FDFloor) > FDTol {
			p.res.Kinks++
			continue
		}
		p.res.CoordsFD++
		if e := p.res.fdErr(relErr(grad[i], c1, FDFloor)); e > FDTol {
			bad.add("d/d%s: %v, central differences %v (relative error %.3g)", names[i], grad[i], c1, e)
		}
	}
	return bad
}

func central(f func() float64, x []float64, i int, h float64) float64 {
	old := x[i]
	x[i] = old + h
	plus := f()
	x[i] = old - h
	minus := f()
	x[i] = old
	return (plus - minus) / (2 * h)
}

// evalAdjoints evaluates a derivative's adjoints, flat in the order of vars
// (zeros where an adjoint is nil).
func evalAdjoints(g *symbolic.Grad, vars []*symbolic.Var, env map[*symbolic.Var][]float64) ([]float64, error) {
	var roots []*symbolic.Node
	for _, a := range g.Adjoints {
		if a != nil {
			roots = append(roots, a)
		}
	}
	vals, err := symbolic.Eval(roots, env)
	if err != nil {
		return nil, err
	}
	var out []float64
	k := 0
	for i, v := range vars {
		if g.Adjoints[i] == nil {
			out = append(out, make([]float64, v.Shape.Size())...)
			continue
		}
		out = append(out, vals[k]...)
		k++
	}
	return out, nil
}

// paramNames names each coordinate of the params, in Flat order.
func paramNames(m *symbolic.Model) []string {
	return coordNames(m.Params)
}

func coordNames(vars []*symbolic.Var) []string {
	var names []string
	for _, v := range vars {
		if len(v.Shape) == 0 {
			names = append(names, v.Name)
			continue
		}
		idx := make([]int, len(v.Shape))
		for range v.Shape.Size() {
			parts := make([]string, len(idx))
			for j, k := range idx {
				parts[j] = fmt.Sprint(k)
			}
			names = append(names, v.Name+"["+strings.Join(parts, ", ")+"]")
			for j := len(idx) - 1; j >= 0; j-- {
				idx[j]++
				if idx[j] < v.Shape[j] {
					break
				}
				idx[j] = 0
			}
		}
	}
	return names
}

func compareFn(p *prepared, i int, fdMax int) {
	res, fr, fn := p.res, p.resp.Fns[i], p.prog.Fns[i]
	if fr.Panic != "" {
		res.fail(Panic, "fn %s: %s", fn.Name, clip(fr.Panic, 1500))
		return
	}
	args := p.fnArgs[i]
	want, err := refeval.EvalFn(p.file, fn.Name, args)
	if err != nil {
		res.fail(Reference, "refeval of fn %s: %v", fn.Name, err)
		return
	}
	if len(want.Data) != len(fr.Value) {
		res.fail(WrongLoss, "fn %s has %d numbers, refeval's %d", fn.Name, len(fr.Value), len(want.Data))
		return
	}
	for j, w := range want.Data {
		if got := f64(fr.Value[j]); res.valueErr(relErr(got, w, ValueFloor)) > ValueTol {
			res.fail(WrongLoss, "fn %s = %v, refeval %v", fn.Name, got, w)
			break
		}
	}
	if !fr.HasGrad {
		return
	}
	if got, f := f64(fr.GradValue), f64(fr.Value[0]); relErr(got, f, ValueFloor) > ValueTol {
		res.fail(LossGrad, "fn %s: %sGrad's value %v, %s's %v", fn.Name, goName(fn.Name), got, goName(fn.Name), f)
	}
	names := coordNames(fn.Args)
	grad := make([]float64, len(fr.Partials))
	for j, b := range fr.Partials {
		grad[j] = f64(b)
	}
	if len(grad) != len(names) {
		res.fail(Panic, "fn %s: %d partials for %d argument numbers", fn.Name, len(grad), len(names))
		return
	}
	env := map[*symbolic.Var][]float64{}
	for j, v := range fn.Args {
		env[v] = args[j]
	}
	if ir, err := evalAdjoints(fn.Gradient(), fn.Args, env); err != nil {
		res.fail(Reference, "fn %s: %v", fn.Name, err)
	} else {
		var bad mismatches
		for j := range grad {
			res.CoordsIR++
			if e := res.irErr(relErr(grad[j], ir[j], IRFloor)); e > IRTol {
				bad.add("d%s/d%s: %v, IR %v (relative error %.3g)", fn.Name, names[j], grad[j], ir[j], e)
			}
		}
		bad.report(res, GradIR, "fn "+fn.Name+" partials vs IR")
	}
	if res.NoFD {
		return
	}
	var flat []float64
	for _, a := range args {
		flat = append(flat, a...)
	}
	views := make([][]float64, len(args))
	off := 0
	for j, a := range args {
		views[j] = flat[off : off+len(a) : off+len(a)]
		off += len(a)
	}
	var ferr error
	f := func() float64 {
		t, err := refeval.EvalFn(p.file, fn.Name, views)
		if err != nil || len(t.Data) != 1 {
			if ferr == nil {
				ferr = fmt.Errorf("%v (%d numbers)", err, len(t.Data))
			}
			return math.NaN()
		}
		return t.Data[0]
	}
	bad := p.centralCheck(f, flat, grad, names, fdMax)
	if ferr != nil {
		res.fail(Reference, "refeval of fn %s at a perturbed point: %v", fn.Name, ferr)
		return
	}
	bad.report(res, GradFD, "fn "+fn.Name+" partials vs central differences")
}

// compareOverwrite compares BackwardTo and LossGradTo with Backward and
// LossGrad (equal values: assigning gives −0 where adding to a cleared g
// gives +0), and Predict's outputs with Forward's, to the bit.
func compareOverwrite(lg *mismatches, resp *response, names []string) {
	same := func(a, b uint64) bool { return a == b || f64(a) == f64(b) || math.IsNaN(f64(a)) && math.IsNaN(f64(b)) }
	if resp.LGToLoss != resp.Loss {
		lg.add("LossGradTo's loss %v, Forward's %v", f64(resp.LGToLoss), f64(resp.Loss))
	}
	for _, c := range []struct {
		name      string
		got, want []uint64
	}{{"BackwardTo", resp.BackwardTo, resp.Backward}, {"LossGradTo", resp.LossGradTo, resp.LossGrad}} {
		if len(c.got) != len(c.want) {
			lg.add("%s's gradient has %d numbers, want %d", c.name, len(c.got), len(c.want))
			continue
		}
		for i := range c.want {
			if !same(c.got[i], c.want[i]) {
				lg.add("d/d%s: %s %v, want %v", names[i], c.name, f64(c.got[i]), f64(c.want[i]))
			}
		}
	}
	if fmt.Sprint(resp.Predicted) != fmt.Sprint(resp.Outputs) {
		lg.add("Predict's outputs %v, Forward's %v", resp.Predicted, resp.Outputs)
	}
}
