package difftest

import (
	"fmt"
	"strings"
	"unicode"
)

// A request asks the driver to run one model's generated code: its params
// in Flat order, its inputs in the order of the Inputs struct (the float
// inputs in declaration order, then the integer ones, as their float64
// value) and each fn's arguments, flattened. Numbers travel as
// float64 bits, so NaN and ±Inf survive JSON and nothing is rounded.
type request struct {
	Pkg    string
	Params []uint64
	Inputs []uint64
	Fns    []fnRequest
}

type fnRequest struct {
	Name string
	Args []uint64
}

// A response is what the generated code computed.
type response struct {
	Pkg      string
	Panic    string // the recovered panic, and where
	Model    bool
	Loss     uint64
	Outputs  [][]uint64
	Backward []uint64 // the gradient Backward added to a zero Params
	LGLoss   uint64
	LossGrad []uint64
	// BackwardTo and LossGradTo wrote over a Params of NaNs; Predicted
	// are Predict's outputs.
	BackwardTo []uint64
	LGToLoss   uint64
	LossGradTo []uint64
	Predicted  [][]uint64
	// BatchErr says how LossGradBatch or ForwardBatch, over a tile and
	// one of scaled copies of the sample, differed from LossGrad and
	// Forward on each ("" if they agreed).
	BatchErr string
	// AddErr says how Backward or LossGrad into a gradient of ones
	// differed from ones plus their gradient into zeros ("" if not).
	AddErr string
	Fns    []fnResponse
}

type fnResponse struct {
	Name      string
	Panic     string
	Value     []uint64
	HasGrad   bool
	GradValue uint64
	Partials  []uint64
}

// goName is the generated Go name of a .bp name (codegen's exported).
func goName(name string) string {
	r := []rune(name)
	if r[0] == '_' {
		return "X" + name
	}
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// driverPkg is one generated package as the driver sees it.
type driverPkg struct {
	Pkg    string
	Model  string   // the model's name, "" for a file of fns
	Fns    []string // fns by .bp name
	Scalar []bool   // per fn: its result is a scalar, so FGrad exists
	Tiled  bool     // the package has tiled.go's SetTiled
}

// tiledSource is the file beside a generated model's that lets the driver
// set the variable tiled by which its batch methods choose between their
// tile code and their per-sample code, so that both are checked.
func tiledSource(pkg, tiled string) []byte {
	return []byte(fmt.Sprintf(`package %s

// SetTiled sets %s and returns its value before.
func SetTiled(on bool) (was bool) {
	was, %s = %s, on
	return was
}
`, pkg, tiled, tiled, tiled))
}

// driverSource is the main program that imports every package and runs
// requests read from stdin, one JSON object a line, answering each on
// stdout.
func driverSource(pkgs []driverPkg) []byte {
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n\t\"bufio\"\n\t\"encoding/json\"\n\t\"os\"\n")
	for _, p := range pkgs {
		fmt.Fprintf(&b, "\t%q\n", "scratch/"+p.Pkg)
	}
	b.WriteString(")\n\nvar entries = map[string]entry{\n")
	for _, p := range pkgs {
		fmt.Fprintf(&b, "\t%q: {", p.Pkg)
		if p.Model != "" {
			fmt.Fprintf(&b, "params: func() any { return new(%s.%sParams) }, ", p.Pkg, goName(p.Model))
			if p.Tiled {
				fmt.Fprintf(&b, "tiled: %s.SetTiled, ", p.Pkg)
			}
		}
		b.WriteString("fns: map[string][2]any{")
		for i, f := range p.Fns {
			grad := "nil"
			if p.Scalar[i] {
				grad = fmt.Sprintf("%s.%sGrad", p.Pkg, goName(f))
			}
			fmt.Fprintf(&b, "%q: {%s.%s, %s}, ", f, p.Pkg, goName(f), grad)
		}
		b.WriteString("}},\n")
	}
	b.WriteString("}\n\n")
	b.WriteString(`func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<30)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			panic(err)
		}
		if err := enc.Encode(run(&req)); err != nil {
			panic(err)
		}
		out.Flush()
	}
}
`)
	return []byte(b.String())
}

// driverRuntime is the driver's reflect-based part, the same for every run.
const driverRuntime = `package main

import (
	"fmt"
	"math"
	"reflect"
	"runtime/debug"
)

type entry struct {
	params func() any
	tiled  func(bool) bool // sets the batch methods' choice of code; nil if there is none
	fns    map[string][2]any
}

type request struct {
	Pkg    string
	Params []uint64
	Inputs []uint64
	Fns    []fnRequest
}

type fnRequest struct {
	Name string
	Args []uint64
}

type response struct {
	Pkg      string
	Panic    string
	Model      bool
	Loss       uint64
	Outputs    [][]uint64
	Backward   []uint64
	LGLoss     uint64
	LossGrad   []uint64
	BackwardTo []uint64
	LGToLoss   uint64
	LossGradTo []uint64
	Predicted  [][]uint64
	BatchErr   string
	AddErr     string
	Fns        []fnResponse
}

type fnResponse struct {
	Name      string
	Panic     string
	Value     []uint64
	HasGrad   bool
	GradValue uint64
	Partials  []uint64
}

func run(req *request) *response {
	resp := &response{Pkg: req.Pkg}
	e := entries[req.Pkg]
	if e.params != nil {
		resp.Model = true
		runModel(e, req, resp)
	}
	for _, f := range req.Fns {
		resp.Fns = append(resp.Fns, runFn(e.fns[f.Name], f))
	}
	return resp
}

func caught(stage string, msg *string) {
	if r := recover(); r != nil {
		*msg = fmt.Sprintf("%s: %v\n%s", stage, r, debug.Stack())
	}
}

func runModel(e entry, req *request, resp *response) {
	stage := "setup"
	defer func() {
		if r := recover(); r != nil {
			resp.Panic = fmt.Sprintf("%s: %v\n%s", stage, r, debug.Stack())
		}
	}()
	p := reflect.ValueOf(e.params())
	flat := p.MethodByName("Flat").Call(nil)[0].Interface().([]float64)
	if len(flat) != len(req.Params) {
		panic(fmt.Sprintf("Flat has %d numbers, the model %d", len(flat), len(req.Params)))
	}
	for i, b := range req.Params {
		flat[i] = math.Float64frombits(b)
	}
	fwd := p.MethodByName("Forward")
	ft := fwd.Type()
	ws := reflect.New(ft.In(0).Elem())
	in := reflect.New(ft.In(1).Elem())
	rest := fill(in.Elem(), req.Inputs)
	if len(rest) != 0 {
		panic(fmt.Sprintf("%d inputs left over", len(rest)))
	}
	out := reflect.New(ft.In(2).Elem())
	stage = "Forward"
	resp.Loss = math.Float64bits(fwd.Call([]reflect.Value{ws, in, out})[0].Float())
	resp.Outputs = fields(out)
	stage = "Backward"
	g := reflect.New(p.Elem().Type())
	p.MethodByName("Backward").Call([]reflect.Value{ws, in, g})
	resp.Backward = bits(g.MethodByName("Flat").Call(nil)[0].Interface().([]float64))
	stage = "LossGrad"
	ws2 := reflect.New(ft.In(0).Elem())
	g2 := reflect.New(p.Elem().Type())
	resp.LGLoss = math.Float64bits(p.MethodByName("LossGrad").Call([]reflect.Value{ws2, in, g2})[0].Float())
	resp.LossGrad = bits(g2.MethodByName("Flat").Call(nil)[0].Interface().([]float64))
	runOverwrite(p, ws, in, resp)
	stage = "adds"
	resp.AddErr = runAdds(p, in, resp.LossGrad)
	stage = "batch"
	if e.tiled == nil {
		resp.BatchErr = runBatch(p, in)
	} else { // both codes, whichever the batch methods use
		was := e.tiled(true)
		if msg := runBatch(p, in); msg != "" {
			resp.BatchErr = "with the tile code: " + msg
		}
		e.tiled(false)
		if msg := runBatch(p, in); msg != "" && resp.BatchErr == "" {
			resp.BatchErr = "with the per-sample code: " + msg
		}
		e.tiled(was)
	}
	stage = "Predict"
	pred := reflect.New(ft.In(2).Elem())
	p.MethodByName("Predict").Call([]reflect.Value{reflect.New(ft.In(0).Elem()), in, pred})
	resp.Predicted = fields(pred)
}

// runOverwrite runs BackwardTo (after a Forward, on ws) and LossGradTo,
// each into a Params of NaNs, which they must overwrite.
func runOverwrite(p, ws, in reflect.Value, resp *response) {
	nans := func() reflect.Value {
		g := reflect.New(p.Elem().Type())
		for i, flat := 0, g.MethodByName("Flat").Call(nil)[0].Interface().([]float64); i < len(flat); i++ {
			flat[i] = math.NaN()
		}
		return g
	}
	g := nans()
	p.MethodByName("Forward").Call([]reflect.Value{ws, in, reflect.Zero(p.MethodByName("Forward").Type().In(2))})
	p.MethodByName("BackwardTo").Call([]reflect.Value{ws, in, g})
	resp.BackwardTo = bits(g.MethodByName("Flat").Call(nil)[0].Interface().([]float64))
	g = nans()
	ws2 := reflect.New(ws.Elem().Type())
	resp.LGToLoss = math.Float64bits(p.MethodByName("LossGradTo").Call([]reflect.Value{ws2, in, g})[0].Float())
	resp.LossGradTo = bits(g.MethodByName("Flat").Call(nil)[0].Interface().([]float64))
}

// runAdds runs Forward and Backward, and LossGrad, each into a gradient
// of ones, which they must add to: the result less one must be want, the
// gradient into zeros (within 1e-12 of the largest entry, or of 1: adding
// to one rounds small entries).
func runAdds(p, in reflect.Value, want []uint64) string {
	fwd := p.MethodByName("Forward")
	for _, name := range []string{"Backward", "LossGrad"} {
		ws := reflect.New(fwd.Type().In(0).Elem())
		g := reflect.New(p.Elem().Type())
		flat := g.MethodByName("Flat").Call(nil)[0].Interface().([]float64)
		for i := range flat {
			flat[i] = 1
		}
		if name == "Backward" {
			fwd.Call([]reflect.Value{ws, in, reflect.Zero(fwd.Type().In(2))})
		}
		p.MethodByName(name).Call([]reflect.Value{ws, in, g})
		got := make([]float64, len(flat))
		for i, v := range flat {
			got[i] = v - 1
		}
		if msg := near(got, f64s(want)); msg != "" {
			return name + " into a gradient of ones, less one: " + msg
		}
	}
	return ""
}

// runBatch runs LossGradBatch and ForwardBatch on a tile and one more of
// copies of in, each copy's float inputs scaled by 1 + s/1000, and
// compares them with LossGrad and Forward on each copy, within 1e-12 of
// the largest magnitude in each tensor (the batch adds in another order).
func runBatch(p, in reflect.Value) string {
	lgb := p.MethodByName("LossGradBatch")
	bws := reflect.New(lgb.Type().In(0).Elem())
	n := int(bws.MethodByName("Tile").Call(nil)[0].Int()) + 1
	ins := reflect.MakeSlice(reflect.SliceOf(in.Elem().Type()), n, n)
	base := in.MethodByName("Flat").Call(nil)[0].Interface().([]float64)
	for s := range n {
		ins.Index(s).Set(in.Elem())
		flat := ins.Index(s).Addr().MethodByName("Flat").Call(nil)[0].Interface().([]float64)
		for i := range flat {
			flat[i] = base[i] * (1 + float64(s)/1000)
		}
	}
	fwd := p.MethodByName("Forward")
	ws := reflect.New(fwd.Type().In(0).Elem())
	outT := fwd.Type().In(2).Elem()
	want, got := reflect.New(p.Elem().Type()), reflect.New(p.Elem().Type())
	wantOut, gotOut := reflect.MakeSlice(reflect.SliceOf(outT), n, n), reflect.MakeSlice(reflect.SliceOf(outT), n, n)
	wantLoss := 0.0
	for s := range n {
		wantLoss += p.MethodByName("LossGrad").Call([]reflect.Value{ws, ins.Index(s).Addr(), want})[0].Float()
		fwd.Call([]reflect.Value{ws, ins.Index(s).Addr(), wantOut.Index(s).Addr()})
	}
	gotLoss := lgb.Call([]reflect.Value{bws, ins, got})[0].Float()
	fwdLoss := p.MethodByName("ForwardBatch").Call([]reflect.Value{bws, ins, gotOut})[0].Float()
	if msg := near([]float64{gotLoss}, []float64{wantLoss}); msg != "" {
		return "LossGradBatch's loss: " + msg
	}
	if msg := near([]float64{fwdLoss}, []float64{wantLoss}); msg != "" {
		return "ForwardBatch's loss: " + msg
	}
	sizes := p.MethodByName("Layout").Call(nil)[2].Interface().([]int)
	g, w := got.MethodByName("Flat").Call(nil)[0].Interface().([]float64), want.MethodByName("Flat").Call(nil)[0].Interface().([]float64)
	off := 0
	for k, size := range sizes {
		if msg := near(g[off:off+size], w[off:off+size]); msg != "" {
			return fmt.Sprintf("LossGradBatch's gradient of param %d: %s", k, msg)
		}
		off += size
	}
	for s := range n {
		var a, b []uint64
		for _, f := range fields(gotOut.Index(s).Addr()) {
			a = append(a, f...)
		}
		for _, f := range fields(wantOut.Index(s).Addr()) {
			b = append(b, f...)
		}
		if msg := near(f64s(a), f64s(b)); msg != "" {
			return fmt.Sprintf("ForwardBatch's outputs of sample %d: %s", s, msg)
		}
	}
	return ""
}

func f64s(b []uint64) []float64 {
	out := make([]float64, len(b))
	for i, x := range b {
		out[i] = math.Float64frombits(x)
	}
	return out
}

// near describes the first element of got that differs from want by more
// than 1e-12 of the largest finite magnitude in want, or 1e-12 if that is
// less than 1 (a tensor whose every entry cancels to almost nothing);
// non-finite values must be equal (NaN to NaN).
func near(got, want []float64) string {
	scale := 1.0
	for _, w := range want {
		if !math.IsInf(w, 0) && !math.IsNaN(w) {
			scale = max(scale, math.Abs(w))
		}
	}
	for i, w := range want {
		a := got[i]
		switch {
		case math.IsNaN(w) || math.IsInf(w, 0) || math.IsNaN(a) || math.IsInf(a, 0):
			if !(a == w || math.IsNaN(a) && math.IsNaN(w)) {
				return fmt.Sprintf("[%d] = %v, want %v", i, a, w)
			}
		case math.Abs(a-w) > 1e-12*scale:
			return fmt.Sprintf("[%d] = %v, want %v (difference %.3g of the largest, %v)", i, a, w, math.Abs(a-w)/scale, scale)
		}
	}
	return ""
}

func fields(out reflect.Value) [][]uint64 {
	var outs [][]uint64
	for i := range out.Elem().NumField() {
		outs = append(outs, flatten(out.Elem().Field(i), nil))
	}
	return outs
}

func runFn(fs [2]any, req fnRequest) (resp fnResponse) {
	resp.Name = req.Name
	defer caught(req.Name, &resp.Panic)
	f := reflect.ValueOf(fs[0])
	vals := f.Call(args(f.Type(), req.Args))
	resp.Value = flatten(vals[0], nil)
	if fs[1] == nil {
		return resp
	}
	resp.HasGrad = true
	gf := reflect.ValueOf(fs[1])
	vals = gf.Call(args(gf.Type(), req.Args))
	resp.GradValue = math.Float64bits(vals[0].Float())
	for _, v := range vals[1:] {
		resp.Partials = flatten(v, resp.Partials)
	}
	return resp
}

func args(ft reflect.Type, x []uint64) []reflect.Value {
	var out []reflect.Value
	for i := range ft.NumIn() {
		v := reflect.New(ft.In(i)).Elem()
		x = fill(v, x)
		out = append(out, v)
	}
	if len(x) != 0 {
		panic(fmt.Sprintf("%d arguments left over", len(x)))
	}
	return out
}

// fill sets v (a float64, an int, an array of them or a struct of those)
// from x in order and returns what is left.
func fill(v reflect.Value, x []uint64) []uint64 {
	switch v.Kind() {
	case reflect.Float64:
		v.SetFloat(math.Float64frombits(x[0]))
		return x[1:]
	case reflect.Int:
		v.SetInt(int64(math.Float64frombits(x[0])))
		return x[1:]
	case reflect.Array:
		for i := range v.Len() {
			x = fill(v.Index(i), x)
		}
		return x
	case reflect.Struct:
		for i := range v.NumField() {
			x = fill(v.Field(i), x)
		}
		return x
	}
	panic("cannot fill a " + v.Type().String())
}

func flatten(v reflect.Value, out []uint64) []uint64 {
	switch v.Kind() {
	case reflect.Float64:
		return append(out, math.Float64bits(v.Float()))
	case reflect.Array:
		for i := range v.Len() {
			out = flatten(v.Index(i), out)
		}
		return out
	}
	panic("cannot flatten a " + v.Type().String())
}

func bits(x []float64) []uint64 {
	out := make([]uint64, len(x))
	for i, f := range x {
		out[i] = math.Float64bits(f)
	}
	return out
}
`
