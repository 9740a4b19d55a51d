// Command backpropgen generates Go gradient code from a .bp model.
//
//	backpropgen [-o FILE] [-pkg NAME] FILE.bp   generate Go (to stdout, or to FILE)
//	backpropgen -test -o FILE FILE.bp           and a test of it, FILE_test.go
//	backpropgen check FILE.bp                   check the model only
//	backpropgen fmt [-l] [-w] [-d] [PATH...]    format .bp files
//	backpropgen graph [-fwd] [-format dot|mermaid] [-o FILE] FILE.bp
//	backpropgen explain [-latex] FILE.bp
//	backpropgen stats FILE.bp
//	backpropgen -version                        print the version
//
// It exits 0 on success, 1 if the model is invalid and 2 on misuse.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/parser"
	"github.com/backpropgen/backpropgen/symbolic"
)

const usage = `usage: backpropgen [flags] FILE.bp
       backpropgen check FILE.bp
       backpropgen fmt [-l] [-w] [-d] [FILE.bp | DIR]...
       backpropgen graph [-fwd] [-format dot|mermaid] [-o FILE] FILE.bp
       backpropgen explain [-latex] FILE.bp
       backpropgen stats FILE.bp
       backpropgen -version

backpropgen reads a .bp model and writes Go source with its value and
gradient functions: for every fn, NAME and NAMEGrad; for a model, its
Params, Inputs, Outputs and Workspace types and the same methods whatever
it declares: Forward, Backward, LossGrad, BackwardTo, LossGradTo (which
overwrite the gradient instead of adding to it), Predict, Flat, Layout,
Step and Init, and Flat, Ints and Layout of the Inputs; and a BatchWorkspace
type with the batch methods ForwardBatch and LossGradBatch, which compute
a tile of samples at once with matrix products over the tile. The
generated code imports only the standard library and allocates nothing.
With -o FILE.go, a model whose code calls matrix-product kernels also
gets FILE_simd.go: the kernels on simd/archsimd (AVX-512 or AVX2, chosen
at run time), built only with GOEXPERIMENT=simd on amd64.

"check" parses and checks the model and writes nothing.

"fmt" formats .bp files in the canonical layout: -l lists the files that
change, -w rewrites them, -d prints a diff, and with none of these it
prints them formatted (backpropgen fmt -h for more).

"graph" draws the forward and backward graphs as Graphviz DOT: a node per
operation (its op and shape), an edge per tensor, a cluster per .bp line,
a loop drawn once, the backward pass dashed. -fwd draws the forward graph
alone; -format mermaid writes a Mermaid flowchart for Markdown; -o FILE.svg
renders SVG with Graphviz's dot (apt-get install graphviz).

"explain" prints each derivative as math, per .bp line: dL/dW = ...,
the adjoints named after the model's values (δh), a loop as its
recurrence over the steps. -latex prints LaTeX (amsmath).

"stats" counts the parameters, inputs and workspace in numbers and bytes,
the FLOPs of the forward and backward passes per .bp line (a multiply-add
is 2, a transcendental function 1), their ratio, and the size of the
generated code.

Flags (before or after the file):
  -o FILE    write to FILE instead of standard output; the file is replaced
             only when generation succeeds, and is never the input or
             another .bp file
  -pkg NAME  Go package name (default $GOPACKAGE, as set by go generate, or
             else the model's name)
  -tile N    samples the batch methods (ForwardBatch, LossGradBatch)
             compute at once (default: 32, less for a model whose samples
             compute many values)
  -test      with -o FILE.go, also write FILE_test.go, a test that checks the
             model and each fn with package gradcheck (replaced likewise)
  -version   print backpropgen's version
  -h         print this help

A .bp file is UTF-8 text of at most 8 MiB.

Use it from a go:generate line:
  //go:generate backpropgen -o model_grad.go model.bp

Exit status: 0 on success, 1 for an invalid model, 2 for misuse.
The language is described in docs/LANGUAGE.md.
`

func main() {
	// A run is short and builds one large graph it keeps to the end:
	// collecting garbage less often saves time on large models, for memory
	// the process holds only briefly. (On the 36,000-binding model, 1000
	// took a median 0.9 of 400's time in paired runs, at the same peak
	// memory, which the live graph sets; 400 had saved a third over 100.)
	debug.SetGCPercent(1000)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command line, parsed.
type options struct {
	check   bool
	test    bool
	out     string
	pkg     string
	tile    int
	version bool
	files   []string
}

// parseArgs reads flags before, between and after the file names, as go
// build does; "check" is recognised as the first argument that is not a flag.
func parseArgs(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("backpropgen", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by run, help by printUsage
	fs.StringVar(&o.out, "o", "", "output file")
	fs.StringVar(&o.pkg, "pkg", "", "Go package name")
	fs.IntVar(&o.tile, "tile", 0, "samples the batch methods compute at once")
	fs.BoolVar(&o.version, "version", false, "print the version")
	fs.BoolVar(&o.test, "test", false, "also write a test of the output")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	if len(pos) > 0 && pos[0] == "check" {
		o.check, pos = true, pos[1:]
	}
	o.files = pos
	return o, nil
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, usage)
	fmt.Fprintln(w, "\nBuilt-in functions:")
	for _, d := range symbolic.BuiltinDocs() {
		fmt.Fprintln(w, "  "+d)
	}
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "fmt" {
		return runFmt(args[1:], stdout, stderr)
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "backpropgen: "+format+"\n", a...)
		return 2
	}
	if len(args) > 0 {
		switch args[0] {
		case "graph":
			return runGraph(args[1:], stdout, stderr)
		case "explain":
			return runExplain(args[1:], stdout, stderr)
		case "stats":
			return runStats(args[1:], stdout, stderr)
		}
	}
	o, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout)
		return 0
	}
	if err != nil {
		return fail("%v (backpropgen -h shows the usage)", err)
	}
	if o.version {
		fmt.Fprintln(stdout, "backpropgen", version())
		return 0
	}
	switch {
	case len(o.files) == 0:
		return fail("no .bp file given (backpropgen -h shows the usage)")
	case len(o.files) > 1:
		return fail("%d files given (%s): give one .bp file per run", len(o.files), strings.Join(o.files, ", "))
	case o.check && o.out != "":
		return fail("check writes nothing: -o cannot be used with it")
	}
	path := o.files[0]
	pkg, pkgFrom := o.pkg, "-pkg"
	if pkg == "" {
		pkg, pkgFrom = os.Getenv("GOPACKAGE"), "$GOPACKAGE"
	}
	if pkg != "" && !backpropgen.ValidPackageName(pkg) {
		return fail("invalid package name %q (from %s): a package name is a Go identifier, not a keyword or _", pkg, pkgFrom)
	}
	if o.out != "" {
		if msg := checkOutput(o.out, path); msg != "" {
			return fail("%s", msg)
		}
	}
	if msg := checkTest(o, path); msg != "" {
		return fail("%s", msg)
	}
	if o.tile < 0 || o.tile > backpropgen.MaxTile {
		return fail("-tile %d: a tile is 1 to %d samples (0: the generator's choice)", o.tile, backpropgen.MaxTile)
	}
	src, err := readSource(path)
	if err != nil {
		return fail("%v", err)
	}
	if o.check {
		file, prog, err := backpropgen.Check(path, src)
		if err == nil && pkg == "" {
			err = backpropgen.PackageError(file, backpropgen.DefaultPackage(prog))
		}
		if err != nil {
			return report(stderr, err)
		}
		return 0
	}
	code, simd, err := backpropgen.GenerateWith(path, src, backpropgen.Options{Package: pkg, Tile: o.tile})
	if err != nil {
		return report(stderr, err)
	}
	if o.out == "" {
		if _, err := stdout.Write(code); err != nil {
			return fail("writing the output: %v", err)
		}
		return 0
	}
	var test []byte
	if o.test {
		if test, err = backpropgen.GenerateTest(path, src, pkg); err != nil {
			return report(stderr, err)
		}
	}
	if err := writeFileAtomic(o.out, code); err != nil {
		return fail("cannot write %s: %v", o.out, err)
	}
	if err := writeSIMD(simdFile(o.out), simd); err != nil {
		return fail("%v", err)
	}
	if o.test {
		if err := writeFileAtomic(testFile(o.out), test); err != nil {
			return fail("cannot write %s: %v", testFile(o.out), err)
		}
	}
	return 0
}

// checkOutput says why out cannot be written, before anything is
// generated: never over the model (or any .bp file), onto a directory, or
// into a directory that does not exist.
func checkOutput(out, in string) string {
	if strings.EqualFold(filepath.Ext(out), ".bp") {
		if same(out, in) {
			return fmt.Sprintf("-o %s is the input file: refusing to write Go over the model", out)
		}
		return fmt.Sprintf("-o %s: refusing to write Go over a .bp file", out)
	}
	if same(out, in) {
		return fmt.Sprintf("-o %s is the input file: refusing to write Go over the model", out)
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return fmt.Sprintf("-o %s is a directory; give a file name, such as %s", out, filepath.Join(out, "model_grad.go"))
	}
	dir := filepath.Dir(out)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Sprintf("-o %s: directory %s does not exist", out, dir)
	}
	return ""
}

// same reports whether a and b name the same file.
func same(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// readSource reads the model, at most one byte more than parser.MaxSize
// (enough for the parser to report it too big), so that a huge file or a
// device like /dev/zero is refused promptly.
func readSource(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a .bp file", path)
	}
	return io.ReadAll(io.LimitReader(f, parser.MaxSize+1))
}

func report(w io.Writer, err error) int {
	var list *parser.ListError
	if errors.As(err, &list) {
		fmt.Fprintln(w, list.Caret())
	} else {
		fmt.Fprintln(w, err)
	}
	return 1
}

// simdFile is the companion file of out that holds the archsimd kernels:
// model_grad.go's is model_grad_simd.go.
func simdFile(out string) string {
	return strings.TrimSuffix(out, filepath.Ext(out)) + "_simd" + filepath.Ext(out)
}

// writeSIMD writes the archsimd companion file name, or, when the model
// calls no kernels (simd is nil), removes one that backpropgen wrote
// before, which would no longer compile. A file is backpropgen's
// companion only if it starts as one does (the generated-code line, then
// the goexperiment.simd build line): any other file of that name, another
// model's output or the user's, is neither removed nor overwritten.
func writeSIMD(name string, simd []byte) error {
	old, err := os.ReadFile(name)
	ours := err == nil && isSIMDFile(old)
	switch {
	case simd != nil && err == nil && !ours:
		return fmt.Errorf("cannot write %s: the file exists and is not a companion file backpropgen wrote; move it away", name)
	case simd != nil:
		if err := writeFileAtomic(name, simd); err != nil {
			return fmt.Errorf("cannot write %s: %v", name, err)
		}
	case ours:
		if err := os.Remove(name); err != nil {
			return fmt.Errorf("cannot remove %s, which the model no longer needs: %v", name, err)
		}
	}
	return nil
}

// isSIMDFile reports whether src begins as codegen.SIMD's output does.
func isSIMDFile(src []byte) bool {
	head, rest, _ := bytes.Cut(src, []byte("\n\n"))
	return bytes.HasPrefix(head, []byte("// Code generated by backpropgen from ")) &&
		bytes.HasPrefix(rest, []byte("//go:build goexperiment.simd && amd64\n"))
}

// writeFileAtomic replaces name with data, so that a reader (or a failed
// run) never sees a partial file. Its errors name the underlying cause, not
// the temporary file.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return cause(err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return cause(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return cause(err)
	}
	if err := tmp.Close(); err != nil {
		return cause(err)
	}
	return cause(os.Rename(tmp.Name(), name))
}

// cause strips the path from a file system error.
func cause(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}
