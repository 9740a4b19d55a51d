// Command backpropgen generates Go gradient code from a .bp model.
//
//	backpropgen [-o FILE] [-pkg NAME] FILE.bp   generate Go (to stdout, or to FILE)
//	backpropgen check FILE.bp                   check the model only
//
// It exits 0 on success, 1 if the model is invalid and 2 on misuse.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/parser"
	"github.com/backpropgen/backpropgen/symbolic"
)

const usage = `usage: backpropgen [flags] FILE.bp
       backpropgen check FILE.bp

backpropgen reads a .bp model and writes Go source with its value and
gradient functions: for every fn, NAME and NAMEGrad; for a model, its
Params, Inputs, Outputs and Workspace types and Forward, Backward,
LossGrad, Flat and Step. The generated code imports only the standard
library and allocates nothing.

"check" parses and checks the model and writes nothing.

Flags:
  -o FILE    write to FILE instead of standard output; the file is replaced
             only when generation succeeds
  -pkg NAME  Go package name (default $GOPACKAGE, as set by go generate, or
             else the model's name)

Use it from a go:generate line:
  //go:generate backpropgen -o model_grad.go model.bp

Exit status: 0 on success, 1 for an invalid model, 2 for misuse.
The language is described in docs/LANGUAGE.md.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	check := len(args) > 0 && args[0] == "check"
	if check {
		args = args[1:]
	}
	fs := flag.NewFlagSet("backpropgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fmt.Fprintln(stderr, "\nBuilt-in functions:")
		for _, d := range symbolic.BuiltinDocs() {
			fmt.Fprintln(stderr, "  "+d)
		}
	}
	out := fs.String("o", "", "output file")
	pkg := fs.String("pkg", os.Getenv("GOPACKAGE"), "Go package name")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	path := fs.Arg(0)
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "backpropgen: %v\n", err)
		return 2
	}
	if check {
		if _, _, err := backpropgen.Check(path, src); err != nil {
			return report(stderr, err)
		}
		return 0
	}
	code, err := backpropgen.Generate(path, src, *pkg)
	if err != nil {
		return report(stderr, err)
	}
	if *out == "" {
		if _, err := stdout.Write(code); err != nil {
			fmt.Fprintf(stderr, "backpropgen: %v\n", err)
			return 1
		}
		return 0
	}
	if err := writeFileAtomic(*out, code); err != nil {
		fmt.Fprintf(stderr, "backpropgen: %v\n", err)
		return 1
	}
	return 0
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

// writeFileAtomic replaces name with data, so that a reader (or a failed
// run) never sees a partial file.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
