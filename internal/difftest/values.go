package difftest

import (
	"bytes"
	"fmt"
	"math"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/internal/refeval"
	"github.com/backpropgen/backpropgen/symbolic"
)

// CheckValues checks a model's numbers without compiling Go: the IR's loss
// and fn values against refeval's, and the IR's gradient (the derivative
// code generation prints) against central differences of refeval, at
// values drawn from seed. It is what a fuzzer can afford on every input;
// Run checks the generated Go itself. It returns nil for a source that
// Check rejects, and for values where refeval's result is not finite.
func CheckValues(name string, src []byte, seed int64) error {
	file, prog, err := backpropgen.Check(name, src)
	if err != nil {
		return nil
	}
	res := &Result{Case: &Case{Name: name, Src: src, Seed: seed}}
	p := &prepared{res: res, file: file, prog: prog}
	p.draw()
	if m := prog.Model; m != nil {
		p.checkModelIR()
	}
	for i, f := range prog.Fns {
		p.checkFnIR(i, f)
	}
	if len(res.Failures) > 0 {
		return fmt.Errorf("%s", res.Failures[0].Msg)
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (p *prepared) checkModelIR() {
	res, m := p.res, p.prog.Model
	loss, _, err := refeval.EvalModel(p.file, p.params, p.inputs, p.ints)
	if err != nil || !finite(loss) {
		return
	}
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
	got, err := symbolic.Eval([]*symbolic.Node{m.Loss}, env)
	if err != nil {
		res.fail(Reference, "IR: %v", err)
		return
	}
	if e := relErr(got[0][0], loss, ValueFloor); e > ValueTol {
		res.fail(WrongLoss, "the IR's loss %v, refeval's %v (relative error %.3g)", got[0][0], loss, e)
		return
	}
	grad, err := evalAdjoints(m.Gradient(), m.Params, env)
	if err != nil {
		res.fail(Reference, "%v", err)
		return
	}
	var names []string
	flat := make([]float64, 0, len(grad))
	params := map[string][]float64{}
	for _, v := range m.Params {
		for i := range v.Shape.Size() {
			names = append(names, fmt.Sprintf("%s[%d]", v.Name, i))
		}
		off := len(flat)
		flat = append(flat, p.params[v.Name]...)
		params[v.Name] = flat[off:len(flat):len(flat)]
	}
	if containsStopGradient(p.res.Case.Src) {
		return
	}
	f := func() float64 {
		l, _, _ := refeval.EvalModel(p.file, params, p.inputs, p.ints)
		return l
	}
	p.centralCheck(f, flat, grad, names, 40).report(res, GradFD, "the IR's gradient vs central differences")
}

func (p *prepared) checkFnIR(i int, fn *symbolic.Func) {
	res := p.res
	args := p.fnArgs[i]
	want, err := refeval.EvalFn(p.file, fn.Name, args)
	if err != nil || len(want.Data) == 0 || !finite(want.Data[0]) {
		return
	}
	env := map[*symbolic.Var][]float64{}
	for j, a := range fn.Args {
		env[a] = args[j]
	}
	got, err := symbolic.Eval([]*symbolic.Node{fn.Result}, env)
	if err != nil {
		res.fail(Reference, "IR: %v", err)
		return
	}
	for j := range want.Data {
		if e := relErr(got[0][j], want.Data[j], ValueFloor); e > ValueTol {
			res.fail(WrongLoss, "fn %s: the IR's value %v, refeval's %v (relative error %.3g)", fn.Name, got[0][j], want.Data[j], e)
			return
		}
	}
}

func containsStopGradient(src []byte) bool { return bytes.Contains(src, []byte("stop_gradient")) }

// intValues is the values of an integer input as the IR's interpreter
// takes them.
func intValues(ks []int) []float64 {
	out := make([]float64, len(ks))
	for i, k := range ks {
		out[i] = float64(k)
	}
	return out
}
