// Package difftest is the differential test of the whole compiler: it
// compiles .bp models with backpropgen, builds all of them into one scratch
// Go module, runs the generated Forward, Backward, LossGrad and fn code
// through a reflect-based driver, and compares every number with
// references that share no code with codegen: refeval (an interpreter of
// the syntax tree) and its central differences for values and gradients,
// and symbolic.Eval (an interpreter of the IR) for the IR's own derivative.
//
// It reads Cases (.bp text and a seed for the values) and produces a Result
// per case: the failures, by Class, and what was checked.
package difftest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/format"
	"go/importer"
	goparser "go/parser"
	"go/token"
	"go/types"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/codegen"
	"github.com/backpropgen/backpropgen/parser"
	"github.com/backpropgen/backpropgen/symbolic"
)

// Class is a kind of failure.
type Class string

// The classes, in the order a case's failures are listed: the first one a
// case has is its class.
const (
	Rejected    Class = "rejected by Check"
	NoCompile   Class = "does not compile"
	Panic       Class = "panic"
	Reference   Class = "reference error"
	WrongLoss   Class = "wrong loss"
	WrongOutput Class = "wrong output"
	LossGrad    Class = "LossGrad ≠ Forward+Backward"
	GradIR      Class = "wrong gradient vs IR"
	GradFD      Class = "wrong gradient vs FD"
	Batch       Class = "batch ≠ per-sample sum"
)

// Classes lists every class in order.
var Classes = []Class{Rejected, NoCompile, Panic, Reference, WrongLoss, WrongOutput, LossGrad, GradIR, GradFD, Batch}

// Case is a model to test: its source, and the seed of its param, input
// and fn argument values.
type Case struct {
	Name string // a .bp base name, for messages
	Src  []byte
	Seed int64
}

// Failure is one thing wrong with a case.
type Failure struct {
	Class Class
	Msg   string
}

// Result is what was found for a case.
type Result struct {
	Case     *Case
	Failures []Failure
	Compiled bool
	Compared bool
	CoordsIR int // gradient coordinates checked against the IR
	CoordsFD int // ... and against central differences
	Kinks    int // coordinates skipped at kinks
	// NonFinite counts coordinates skipped because central differences
	// are not finite there.
	NonFinite int
	NoFD      bool
	// The largest relative errors of comparisons that passed.
	MaxValueErr, MaxIRErr, MaxFDErr float64
}

// Class is the case's first failure's class, "" if it passed.
func (r *Result) Class() Class {
	if len(r.Failures) == 0 {
		return ""
	}
	return r.Failures[0].Class
}

// Signature says how a case fails, for the reducer's "fails the same way":
// its class, and for code that does not compile the first error's text
// without names.
func (r *Result) Signature() string {
	c := r.Class()
	if c == NoCompile {
		return string(c) + ": " + normalize(r.Failures[0].Msg)
	}
	return string(c)
}

var (
	reQuoted = regexp.MustCompile(`"[^"]*"`)
	rePos    = regexp.MustCompile(`[\w./-]*\.go:\d+(:\d+)?:?`)
	reIdent  = regexp.MustCompile(`\b[A-Za-z_][A-Za-z_0-9]*\b`)
	// keep are the words of Go's errors that normalize leaves alone.
	keep = map[string]bool{"use": true, "as": true, "in": true, "and": true, "not": true, "of": true, "to": true,
		"int": true, "for": true, "is": true, "has": true, "no": true, "nil": true, "too": true, "few": true,
		"any": true, "new": true, "var": true, "can": true, "got": true, "want": true, "float64": true}
)

// normalize drops positions and generated names from a Go error.
func normalize(msg string) string {
	msg, _, _ = strings.Cut(msg, "\n")
	msg = rePos.ReplaceAllString(msg, "")
	msg = reQuoted.ReplaceAllString(msg, `"…"`)
	msg = reIdent.ReplaceAllStringFunc(msg, func(w string) string {
		if keep[w] || len(w) > 3 && strings.ToLower(w) == w && !strings.ContainsAny(w, "_0123456789") {
			return w
		}
		return "_"
	})
	return strings.TrimSpace(msg)
}

func (r *Result) fail(c Class, format string, a ...any) {
	r.Failures = append(r.Failures, Failure{c, fmt.Sprintf(format, a...)})
}

// sortFailures orders failures by class, keeping the order within one.
func (r *Result) sortFailures() {
	sort.SliceStable(r.Failures, func(i, j int) bool {
		return slices.Index(Classes, r.Failures[i].Class) < slices.Index(Classes, r.Failures[j].Class)
	})
}

// Options tune Run.
type Options struct {
	// Dir is the scratch module's directory; a temporary one (removed
	// after) if empty.
	Dir string
	// FDCoords caps the parameter coordinates checked by central
	// differences per model (and per fn); 0 means 40.
	FDCoords int
	// CompileOnly stops after generating and type-checking the Go.
	CompileOnly bool
	// Log, if set, is told what is being done.
	Log func(format string, a ...any)
}

// prepared is a case that compiled to Go, with its values.
type prepared struct {
	res    *Result
	file   *parser.File
	prog   *symbolic.Program
	pkg    string
	code   []byte
	tiled  string // the variable that chooses the batch methods' code, "" if there is none
	req    request
	params map[string][]float64
	inputs map[string][]float64
	ints   map[string][]int
	fnArgs [][][]float64 // per fn, per argument
	resp   *response
}

// Run tests the cases and returns a result for each, in order.
func Run(ctx context.Context, cases []*Case, opt Options) ([]*Result, error) {
	if opt.FDCoords == 0 {
		opt.FDCoords = 40
	}
	logf := opt.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	results := make([]*Result, len(cases))
	var ready []*prepared
	for i, c := range cases {
		results[i] = &Result{Case: c}
		if p := prepare(results[i], fmt.Sprintf("m%04d", i)); p != nil {
			ready = append(ready, p)
		}
	}
	if opt.CompileOnly || len(ready) == 0 {
		return results, nil
	}
	dir := opt.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "difftest")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	start := time.Now()
	built, err := build(ctx, dir, ready)
	if err != nil {
		return nil, err
	}
	logf("built %d of %d packages in %v", len(built), len(ready), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if err := runDriver(ctx, dir, built); err != nil {
		return nil, err
	}
	logf("ran them in %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	var wg sync.WaitGroup
	work := make(chan *prepared)
	for range max(1, runtime.NumCPU()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				compare(p, opt.FDCoords)
			}
		}()
	}
	for _, p := range built {
		work <- p
	}
	close(work)
	wg.Wait()
	logf("compared them in %v", time.Since(start).Round(time.Millisecond))
	for _, r := range results {
		r.sortFailures()
	}
	return results, nil
}

// TileOf is the tile of the batch methods a case's code is generated with,
// chosen by its seed: mostly the generator's own, sometimes 1 (every
// sample a tile), 3 (odd) or 8, so that the driver's tile-and-one samples
// cross tiles of several sizes.
func TileOf(seed int64) int {
	return [...]int{0, 0, 1, 3, 8}[uint64(seed)%5]
}

// prepare checks and generates a case, type-checks the Go and draws its
// values; nil if it cannot go further.
func prepare(res *Result, pkg string) *prepared {
	c := res.Case
	name := c.Name + ".bp"
	file, prog, err := backpropgen.Check(name, c.Src)
	if err != nil {
		res.fail(Rejected, "%v", err)
		return nil
	}
	code, _, err := backpropgen.GenerateWith(name, c.Src, backpropgen.Options{Package: pkg, Tile: TileOf(c.Seed)})
	if err != nil {
		res.fail(NoCompile, "Generate: %v", err)
		return nil
	}
	if msg := typeCheck(code); msg != "" {
		res.fail(NoCompile, "%s", msg)
		return nil
	}
	if formatted, err := format.Source(code); err != nil || !bytes.Equal(formatted, code) {
		res.fail(NoCompile, "generated Go is not gofmt-formatted (%v)", err)
		return nil
	}
	p := &prepared{res: res, file: file, prog: prog, pkg: pkg, code: code}
	if v := codegen.TiledVar(prog); prog.Model != nil && bytes.Contains(code, []byte("\nvar "+v+" = ")) {
		p.tiled = v
	}
	p.req.Pkg = pkg
	p.draw()
	return p
}

// draw gives the params, inputs and fn arguments values from the case's
// seed.
func (p *prepared) draw() {
	p.params, p.inputs, p.ints = map[string][]float64{}, map[string][]float64{}, map[string][]int{}
	prog := p.prog
	r := rand.New(rand.NewSource(p.res.Case.Seed))
	uniform := func(n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = 2*r.Float64() - 1
		}
		return x
	}
	if m := prog.Model; m != nil {
		for _, v := range m.Params {
			x := uniform(v.Shape.Size())
			p.params[v.Name] = x
			p.req.Params = append(p.req.Params, bits(x)...)
		}
		var ints []uint64 // after the float inputs, as the Inputs struct lists them
		for _, v := range m.Inputs {
			if v.Int {
				for range v.Shape.Size() {
					k := r.Intn(max(v.Range, 1))
					p.ints[v.Name] = append(p.ints[v.Name], k)
					ints = append(ints, math.Float64bits(float64(k)))
				}
				continue
			}
			x := uniform(v.Shape.Size())
			p.inputs[v.Name] = x
			p.req.Inputs = append(p.req.Inputs, bits(x)...)
		}
		p.req.Inputs = append(p.req.Inputs, ints...)
	}
	for _, f := range prog.Fns {
		var args [][]float64
		var flat []uint64
		for _, a := range f.Args {
			x := uniform(a.Shape.Size())
			args = append(args, x)
			flat = append(flat, bits(x)...)
		}
		p.fnArgs = append(p.fnArgs, args)
		p.req.Fns = append(p.req.Fns, fnRequest{Name: f.Name, Args: flat})
	}
}

func bits(x []float64) []uint64 {
	out := make([]uint64, len(x))
	for i, f := range x {
		out[i] = math.Float64bits(f)
	}
	return out
}

var (
	stdImporter     types.Importer
	stdImporterOnce sync.Once
	typesMu         sync.Mutex
)

// typeCheck type-checks generated Go, returning the first error or "".
func typeCheck(code []byte) string {
	stdImporterOnce.Do(func() { stdImporter = importer.Default() })
	typesMu.Lock() // the importer is not safe for concurrent use
	defer typesMu.Unlock()
	fset := token.NewFileSet()
	f, err := goparser.ParseFile(fset, "m.go", code, 0)
	if err != nil {
		return err.Error()
	}
	conf := types.Config{Importer: stdImporter}
	if _, err := conf.Check("m", fset, []*ast.File{f}, nil); err != nil {
		return err.Error()
	}
	return ""
}

// build writes the scratch module and builds the driver. A package that
// does not build is attributed its errors and left out of a rebuild; it
// returns the packages in the driver.
func build(ctx context.Context, dir string, ps []*prepared) ([]*prepared, error) {
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module scratch\n\ngo 1.24\n"), 0o666); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "runtime.go"), []byte(driverRuntime), 0o666); err != nil {
		return nil, err
	}
	for _, p := range ps {
		pdir := filepath.Join(dir, p.pkg)
		if err := os.MkdirAll(pdir, 0o777); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(pdir, "model.go"), p.code, 0o666); err != nil {
			return nil, err
		}
		if p.tiled != "" {
			if err := os.WriteFile(filepath.Join(pdir, "tiled.go"), tiledSource(p.pkg, p.tiled), 0o666); err != nil {
				return nil, err
			}
		}
	}
	for attempt := 0; ; attempt++ {
		var pkgs []driverPkg
		for _, p := range ps {
			dp := driverPkg{Pkg: p.pkg, Tiled: p.tiled != ""}
			if p.prog.Model != nil {
				dp.Model = p.prog.Model.Name
			}
			for _, f := range p.prog.Fns {
				dp.Fns = append(dp.Fns, f.Name)
				dp.Scalar = append(dp.Scalar, f.Result.IsScalar())
			}
			pkgs = append(pkgs, dp)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.go"), driverSource(pkgs), 0o666); err != nil {
			return nil, err
		}
		// -trimpath keeps the scratch directory, which is new each run,
		// out of the build cache's keys: a model whose Go has not changed
		// since the last run is not compiled again.
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", "driver", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GO111MODULE=on")
		out, err := cmd.CombinedOutput()
		if err == nil {
			return ps, nil
		}
		if ctx.Err() != nil || attempt > 3 {
			return nil, fmt.Errorf("go build: %v\n%s", err, clip(string(out), 4000))
		}
		bad := blame(string(out))
		var keep []*prepared
		for _, p := range ps {
			if msg, ok := bad[p.pkg]; ok {
				p.res.fail(NoCompile, "go build: %s", msg)
				continue
			}
			keep = append(keep, p)
		}
		if len(keep) == len(ps) {
			return nil, fmt.Errorf("go build failed in no model's package: %v\n%s", err, clip(string(out), 4000))
		}
		ps = keep
	}
}

var reBuildErr = regexp.MustCompile(`(?m)^(?:\./)?(m\d{4})/(\S+\.go:\d+:\d+: .*)$`)

// blame maps each package go build complained about to its first error.
func blame(out string) map[string]string {
	bad := map[string]string{}
	for _, m := range reBuildErr.FindAllStringSubmatch(out, -1) {
		if _, ok := bad[m[1]]; !ok {
			bad[m[1]] = m[2]
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^# scratch/(m\d{4})$`).FindAllStringSubmatch(out, -1) {
		if _, ok := bad[m[1]]; !ok {
			bad[m[1]] = "(see go build output)"
		}
	}
	return bad
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// runDriver sends every package its request and stores the responses. If
// the driver dies (a fatal error no recover catches), the case it was
// running is blamed and the driver restarted for the rest.
func runDriver(ctx context.Context, dir string, ps []*prepared) error {
	byPkg := map[string]*prepared{}
	for _, p := range ps {
		byPkg[p.pkg] = p
	}
	rest := ps
	for len(rest) > 0 {
		var in bytes.Buffer
		for _, p := range rest {
			b, err := json.Marshal(&p.req)
			if err != nil {
				return err
			}
			in.Write(b)
			in.WriteByte('\n')
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute+time.Duration(len(rest))*50*time.Millisecond)
		cmd := exec.CommandContext(rctx, filepath.Join(dir, "driver"))
		cmd.Stdin = &in
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		runErr := cmd.Run()
		cancel()
		dec := json.NewDecoder(&stdout)
		n := 0
		for {
			resp := new(response)
			if err := dec.Decode(resp); err != nil {
				break
			}
			p := byPkg[resp.Pkg]
			if p == nil {
				return fmt.Errorf("driver answered for unknown package %q", resp.Pkg)
			}
			p.res.Compiled = true
			p.resp = resp
			n++
		}
		if n == len(rest) {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		dead := rest[n]
		dead.res.Compiled = true
		dead.res.fail(Panic, "the driver died running it: %v\n%s", runErr, clip(stderr.String(), 3000))
		rest = rest[n+1:]
	}
	return nil
}
