package main

import (
	"flag"
	"io"
	"path/filepath"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/inspect"
)

// runStats is "backpropgen stats": sizes, FLOPs forward and backward per
// .bp line, and the size of the generated code.
func runStats(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	file, units, status := subcommand("stats", fs, args, stdout, stderr)
	if status >= 0 {
		return status
	}
	// The generated code is measured in the package go generate would
	// use; a model whose name cannot be a package (model func) is
	// measured in package model, which changes only its package clause.
	pkg := ""
	if _, prog, err := backpropgen.Check(file.Name, file.Src); err == nil && backpropgen.PackageError(file, backpropgen.DefaultPackage(prog)) != nil {
		pkg = "model"
	}
	code, err := backpropgen.Generate(file.Name, file.Src, pkg)
	if err != nil {
		return report(stderr, err)
	}
	text, err := inspect.Stats(units, inspect.StatsOptions{File: filepath.Base(file.Name), Source: file.Line, Code: code})
	if err != nil {
		return report(stderr, err)
	}
	if _, err := stdout.Write(text); err != nil {
		return usageError(stderr, "writing the output: %v", err)
	}
	return 0
}
