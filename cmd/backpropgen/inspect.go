package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/backpropgen/backpropgen"
	"github.com/backpropgen/backpropgen/inspect"
	"github.com/backpropgen/backpropgen/parser"
)

// subcommand parses the flags of the subcommand name (graph, explain,
// stats), before or after its one file, and loads the file: the checked,
// differentiated program. It returns the exit status to stop with, or -1
// to go on.
func subcommand(name string, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (file *parser.File, units []*inspect.Unit, status int) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printUsage(stdout)
				return nil, nil, 0
			}
			return nil, nil, usageError(stderr, "%s: %v (backpropgen -h shows the usage)", name, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	switch {
	case len(pos) == 0:
		return nil, nil, usageError(stderr, "%s: no .bp file given (backpropgen -h shows the usage)", name)
	case len(pos) > 1:
		return nil, nil, usageError(stderr, "%s: %d files given (%s): give one .bp file per run", name, len(pos), strings.Join(pos, ", "))
	}
	path := pos[0]
	src, err := readSource(path)
	if err != nil {
		return nil, nil, usageError(stderr, "%v", err)
	}
	file, units, err = load(path, src)
	if err != nil {
		return nil, nil, report(stderr, err)
	}
	return file, units, -1
}

// load checks and differentiates the model, reporting a panic as an
// internal error as backpropgen.Check does.
func load(path string, src []byte) (file *parser.File, units []*inspect.Unit, err error) {
	file, prog, err := backpropgen.Check(path, src)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: internal error: %v (please report this with the model)", path, r)
		}
	}()
	return file, inspect.Units(prog, prog.Differentiate()), nil
}

func usageError(stderr io.Writer, format string, a ...any) int {
	fmt.Fprintf(stderr, "backpropgen: "+format+"\n", a...)
	return 2
}
