// Package backpropgen compiles .bp models to Go gradient code.
//
// The pipeline is Generate: parse (package parser), check and lower to IR
// (package symbolic), differentiate and emit Go (package codegen). The
// backpropgen command (cmd/backpropgen) is a thin shell around it.
package backpropgen

import (
	"fmt"
	"strings"

	"github.com/backpropgen/backpropgen/codegen"
	"github.com/backpropgen/backpropgen/parser"
	"github.com/backpropgen/backpropgen/symbolic"
)

// Check parses and checks the .bp source src named name. Errors in the
// model are returned as a *parser.ListError.
func Check(name string, src []byte) (file *parser.File, prog *symbolic.Program, err error) {
	defer guard(name, &err)
	file, err = parser.Parse(name, src)
	if err != nil {
		return nil, nil, err
	}
	prog, err = symbolic.Lower(file)
	if err != nil {
		return nil, nil, err
	}
	return file, prog, nil
}

// guard turns a panic, which in the compiler is a bug and not the user's
// mistake, into an internal error naming the file.
func guard(name string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: internal error: %v (please report this with the model)", name, r)
	}
}

// Generate returns the Go source, in package pkg, for the .bp source src.
// If pkg is empty the package is named after the model (or the file).
func Generate(name string, src []byte, pkg string) (out []byte, err error) {
	defer guard(name, &err)
	_, prog, err := Check(name, src)
	if err != nil {
		return nil, err
	}
	if pkg == "" {
		pkg = DefaultPackage(prog)
	}
	lines := strings.Split(string(src), "\n")
	source := func(n int) string {
		if n < 1 || n > len(lines) {
			return ""
		}
		return strings.TrimSuffix(lines[n-1], "\r")
	}
	return codegen.Generate(prog, codegen.Options{Package: pkg, Source: source})
}

// DefaultPackage is the package name used when none is given: the model's
// name, or for a file of fns the file's base name.
func DefaultPackage(prog *symbolic.Program) string {
	if prog.Model != nil {
		return prog.Model.Name
	}
	return codegen.PackageName(prog.File)
}
