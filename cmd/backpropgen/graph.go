package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/backpropgen/backpropgen/inspect"
)

// runGraph is "backpropgen graph": the forward and backward graphs as
// Graphviz DOT or Mermaid, or as SVG rendered by Graphviz's dot.
func runGraph(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("graph", flag.ContinueOnError)
	fwd := fs.Bool("fwd", false, "the forward graph alone")
	format := fs.String("format", "dot", "dot or mermaid")
	out := fs.String("o", "", "output file; .svg renders with Graphviz")
	file, units, status := subcommand("graph", fs, args, stdout, stderr)
	if status >= 0 {
		return status
	}
	svg := strings.EqualFold(filepath.Ext(*out), ".svg")
	switch {
	case *format != "dot" && *format != "mermaid":
		return usageError(stderr, "graph: unknown -format %q: dot or mermaid", *format)
	case svg && *format != "dot":
		return usageError(stderr, "graph: -o %s renders DOT as SVG: -format mermaid cannot be used with it", *out)
	}
	if *out != "" {
		if msg := checkOutput(*out, file.Name); msg != "" {
			return usageError(stderr, "%s", msg)
		}
	}
	o := inspect.GraphOptions{Forward: *fwd, File: filepath.Base(file.Name), Source: file.Line}
	var text []byte
	if *format == "mermaid" {
		text = inspect.Mermaid(units, o)
	} else {
		text = inspect.DOT(units, o)
	}
	if svg {
		var err error
		if text, err = renderSVG(text); err != nil {
			return usageError(stderr, "graph: %v", err)
		}
	}
	if *out == "" {
		if _, err := stdout.Write(text); err != nil {
			return usageError(stderr, "writing the output: %v", err)
		}
		return 0
	}
	if err := writeFileAtomic(*out, text); err != nil {
		return usageError(stderr, "cannot write %s: %v", *out, err)
	}
	return 0
}

// errNoDot is the error when Graphviz is not installed.
var errNoDot = errors.New("rendering SVG needs Graphviz's dot command, which is not installed " +
	"(on Debian or Ubuntu: apt-get install graphviz; see https://graphviz.org/download/); " +
	"without -o FILE.svg, graph writes DOT text that any Graphviz can render")

// renderSVG runs dot -Tsvg on a DOT graph.
func renderSVG(dot []byte) ([]byte, error) {
	path, err := exec.LookPath("dot")
	if err != nil {
		return nil, errNoDot
	}
	cmd := exec.Command(path, "-Tsvg")
	cmd.Stdin = bytes.NewReader(dot)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("dot -Tsvg failed: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}
