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
	"strings"

	"github.com/backpropgen/backpropgen/parser"
)

const fmtUsage = `usage: backpropgen fmt [-l] [-w] [-d] [FILE.bp | DIR]...

fmt formats .bp files in the canonical layout (parser.Format): one
statement a line, blocks indented 4 spaces, one space around binary
operators but ^ and .., comments kept where they are, trailing ones
aligned. A directory is searched for *.bp files, skipping hidden ones.
Without files it formats standard input. A file with a syntax error is
reported as the compiler reports it, and left alone.

Flags:
  -l   list the files whose formatting differs
  -w   rewrite the files whose formatting differs, in place
  -d   print the changes as a unified diff
  With none of them, print the formatted files to standard output.

Exit status: 0 on success, 1 if a file has a syntax error, 2 for misuse
or a file that cannot be read or written.
`

type fmtOptions struct {
	list, write, diff bool
}

// runFmt is "backpropgen fmt": args are what follows "fmt".
func runFmt(args []string, stdout, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "backpropgen fmt: "+format+"\n", a...)
		return 2
	}
	var o fmtOptions
	flags := flag.NewFlagSet("backpropgen fmt", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	flags.BoolVar(&o.list, "l", false, "list files whose formatting differs")
	flags.BoolVar(&o.write, "w", false, "write the result to the file")
	flags.BoolVar(&o.diff, "d", false, "print a diff")
	var paths []string
	for { // flags may come after the files too
		if err := flags.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, fmtUsage)
				return 0
			}
			return fail("%v (backpropgen fmt -h shows the usage)", err)
		}
		if args = flags.Args(); len(args) == 0 {
			break
		}
		paths, args = append(paths, args[0]), args[1:]
	}
	if len(paths) == 0 {
		if o.write {
			return fail("-w needs files to rewrite, not standard input")
		}
		src, err := io.ReadAll(io.LimitReader(os.Stdin, parser.MaxSize+1))
		if err != nil {
			return fail("reading standard input: %v", err)
		}
		return o.source("<standard input>", src, 0, stdout, stderr)
	}
	status := 0
	for _, path := range paths {
		fi, err := os.Stat(path)
		if err != nil {
			status = max(status, fail("%v", err))
			continue
		}
		if !fi.IsDir() {
			status = max(status, o.file(path, stdout, stderr))
			continue
		}
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				status = max(status, fail("%v", err))
				return nil
			}
			hidden := p != path && strings.HasPrefix(d.Name(), ".")
			switch {
			case d.IsDir() && hidden:
				return filepath.SkipDir
			case !d.IsDir() && !hidden && strings.HasSuffix(d.Name(), ".bp"):
				status = max(status, o.file(p, stdout, stderr))
			}
			return nil
		})
		if err != nil {
			status = max(status, fail("%v", err))
		}
	}
	return status
}

// file formats the file path.
func (o fmtOptions) file(path string, stdout, stderr io.Writer) int {
	src, err := readSource(path)
	if err != nil {
		fmt.Fprintf(stderr, "backpropgen fmt: %v\n", err)
		return 2
	}
	fi, err := os.Stat(path)
	if err != nil {
		fmt.Fprintf(stderr, "backpropgen fmt: %v\n", err)
		return 2
	}
	return o.source(path, src, fi.Mode().Perm(), stdout, stderr)
}

// source formats src, read from name (a file of permissions perm, for -w).
func (o fmtOptions) source(name string, src []byte, perm fs.FileMode, stdout, stderr io.Writer) int {
	out, err := parser.Format(name, src)
	if err != nil {
		return report(stderr, err)
	}
	changed := !bytes.Equal(src, out)
	if o.list && changed {
		fmt.Fprintln(stdout, name)
	}
	if o.write && changed {
		if err := replaceFile(name, out, perm); err != nil {
			fmt.Fprintf(stderr, "backpropgen fmt: cannot write %s: %v\n", name, err)
			return 2
		}
	}
	if o.diff && changed {
		io.WriteString(stdout, unifiedDiff(name+".orig", src, name, out))
	}
	if !o.list && !o.write && !o.diff {
		stdout.Write(out)
	}
	return 0
}

// replaceFile replaces the file name (the file a symbolic link points to,
// for a link) with data, through a temporary file renamed over it, so that
// a failure leaves the file as it was.
func replaceFile(name string, data []byte, perm fs.FileMode) error {
	if target, err := filepath.EvalSymlinks(name); err == nil {
		name = target
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return cause(err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cause(err)
	}
	return cause(os.Rename(tmp.Name(), name))
}
