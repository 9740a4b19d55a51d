// Package backpropgen compiles .bp models to Go gradient code.
//
// The pipeline is GenerateWith (Generate and GenerateFiles call it): parse
// (package parser), check and lower to IR (package symbolic), differentiate
// and emit Go (package codegen). The
// backpropgen command (cmd/backpropgen) is a thin shell around it.
package backpropgen

import (
	"fmt"
	"go/token"

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
// If pkg is empty the package is named after the model (or the file). It
// is the whole pipeline, one way: parse, check and lower (Check);
// differentiate (Program.Differentiate); plan and emit (codegen.Generate).
func Generate(name string, src []byte, pkg string) (out []byte, err error) {
	out, _, err = GenerateFiles(name, src, pkg)
	return out, err
}

// GenerateFiles is Generate, and also returns the companion file of the
// Go source, if it calls the matrix-product kernels: their archsimd
// versions, built only with GOEXPERIMENT=simd on amd64 (codegen.SIMD), nil
// otherwise. backpropgen -o FILE.go writes it to FILE_simd.go.
func GenerateFiles(name string, src []byte, pkg string) (out, simd []byte, err error) {
	return GenerateWith(name, src, Options{Package: pkg})
}

// MaxTile is the largest Options.Tile: a tile's values are arrays in the
// batch workspace, and a larger one would only make it huge.
const MaxTile = 1024

// Options configure GenerateWith.
type Options struct {
	// Package is the Go package name; empty means the model's name.
	Package string
	// Tile is the number of samples the batch methods compute at once;
	// 0 lets the generator choose for the model's sizes
	// (symbolic.ChooseTile: 32, less for a model whose samples compute
	// many values).
	Tile int
}

// GenerateWith is GenerateFiles with options.
func GenerateWith(name string, src []byte, o Options) (out, simd []byte, err error) {
	defer guard(name, &err)
	pkg := o.Package
	if o.Tile < 0 || o.Tile > MaxTile {
		return nil, nil, fmt.Errorf("tile %d: a tile is 1 to %d samples (0: the generator's choice)", o.Tile, MaxTile)
	}
	file, prog, err := Check(name, src)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case pkg == "":
		pkg = DefaultPackage(prog)
		if err := PackageError(file, pkg); err != nil {
			return nil, nil, err
		}
	case !ValidPackageName(pkg):
		return nil, nil, fmt.Errorf("invalid package name %q: a package name is a Go identifier, not a keyword or _", pkg)
	}
	opts := codegen.Options{Package: pkg, Source: file.Line}
	prog.Tile = o.Tile
	out, err = codegen.Generate(prog, prog.Differentiate(), opts)
	if err != nil {
		return nil, nil, err
	}
	simd, err = codegen.SIMD(prog, out, opts)
	return out, simd, err
}

// ValidPackageName reports whether name can name a Go package.
func ValidPackageName(name string) bool { return token.IsIdentifier(name) && name != "_" }

// PackageError reports a model whose name cannot be its package's, when no
// package name is given: model func, model _, model main (a package main
// needs a func main).
func PackageError(file *parser.File, pkg string) error {
	why := ""
	switch {
	case token.IsKeyword(pkg):
		why = "it is a Go keyword"
	case pkg == "_":
		why = "_ is not a package name"
	case pkg == "main":
		why = "package main is for commands"
	default:
		return nil
	}
	var errs parser.ErrorList
	for _, s := range file.Stmts {
		if m, ok := s.(*parser.ModelDecl); ok {
			errs.Add(file, m.Name.P, "model %s cannot name the Go package (%s): rename the model or give a package name with -pkg", pkg, why)
			break
		}
	}
	return errs.Err()
}

// DefaultPackage is the package name used when none is given: the model's
// name, or for a file of fns the file's base name.
func DefaultPackage(prog *symbolic.Program) string {
	if prog.Model != nil {
		return prog.Model.Name
	}
	return codegen.PackageName(prog.File)
}
