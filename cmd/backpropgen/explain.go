package main

import (
	"flag"
	"io"
	"path/filepath"

	"github.com/backpropgen/backpropgen/inspect"
)

// runExplain is "backpropgen explain": each derivative as math, per .bp
// line, in plain text or LaTeX.
func runExplain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	latex := fs.Bool("latex", false, "print LaTeX")
	file, units, status := subcommand("explain", fs, args, stdout, stderr)
	if status >= 0 {
		return status
	}
	text := inspect.Explain(units, inspect.ExplainOptions{LaTeX: *latex, File: filepath.Base(file.Name), Source: file.Line})
	if _, err := stdout.Write(text); err != nil {
		return usageError(stderr, "writing the output: %v", err)
	}
	return 0
}
