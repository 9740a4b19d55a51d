package codegen

import (
	"bytes"
	"fmt"
	"go/format"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/dave/jennifer/jen"
)

// Rendering and formatting are a third of the time generation takes for a
// large model, and go/format formats each top-level declaration
// independently of the others. So the big functions (a model's Forward,
// Backward and LossGrad, each fn's functions) are rendered and formatted
// on their own, in parallel, and the rest of the file, rendered with a
// placeholder for each, is cut apart at marker comments and formatted in
// parts too. Tests check that the result is what formatting the whole file
// gives.

// cutMarker is the comment that separates the parts of the file.
const cutMarker = "backpropgen:cut-here"

// function is a top-level function rendered and formatted on its own.
type function struct {
	code jen.Code
	// stand is its placeholder in the file: statements that use the
	// packages the function uses, so that the file imports them.
	stand *jen.Statement
	part  int // which part of the file it replaces
	text  []byte
	err   error
}

// cut marks the start of a new part of the file.
func (fg *fileGen) cut() {
	m := jen.Comment(cutMarker)
	fg.f.Add(m)
	fg.markers = append(fg.markers, m)
}

// addFunc adds a top-level function (with its doc comment) to the file.
func (fg *fileGen) addFunc(code jen.Code) {
	fg.cut()
	stand := jen.Null()
	fg.f.Add(stand)
	fg.funcs = append(fg.funcs, &function{code: code, stand: stand, part: len(fg.markers)})
	fg.cut()
}

// render renders and formats the file; whole, for tests, renders and
// formats it as one, as jennifer would.
func (fg *fileGen) render(whole bool) ([]byte, error) {
	if whole {
		return fg.renderWhole()
	}
	// Last first: a model's LossGrad, the longest, is added after Forward
	// and Backward, and an fn's gradient after its value; with two cores,
	// LossGrad then takes one while the other does the rest.
	parallel(len(fg.funcs), func(i int) {
		fn := fg.funcs[len(fg.funcs)-1-i]
		var imports []string
		imports, fn.text, fn.err = renderAlone(fg.opts.Package, fn.code)
		if fn.err == nil {
			fn.text, fn.err = format.Source(indentComments(fn.text))
		}
		for _, path := range imports {
			fn.stand.Add(jen.Var().Id("_").Op("=").Qual(path, "X"))
		}
	})
	for _, fn := range fg.funcs {
		if fn.err != nil {
			return nil, fn.err
		}
	}
	var buf bytes.Buffer
	if err := fg.f.Render(&buf); err != nil {
		return nil, err
	}
	parts := splitAtMarkers(buf.Bytes())
	if len(parts) != len(fg.markers)+1 {
		// A marker line also occurs elsewhere (in a comment quoting a
		// file name).
		return fg.renderWhole()
	}
	out := make([][]byte, len(parts))
	errs := make([]error, len(parts))
	for _, fn := range fg.funcs {
		out[fn.part] = fn.text
		parts[fn.part] = nil
	}
	parallel(len(parts), func(i int) {
		if parts[i] != nil {
			out[i], errs[i] = format.Source(indentComments(parts[i]))
		}
	})
	return join(out, errs)
}

// renderWhole renders the file with the functions in it and no markers
// (each leaves an empty line, which gofmt removes), and formats it as one.
func (fg *fileGen) renderWhole() ([]byte, error) {
	for _, fn := range fg.funcs {
		*fn.stand = jen.Statement{fn.code}
	}
	for _, m := range fg.markers {
		*m = jen.Statement{}
	}
	var buf bytes.Buffer
	if err := fg.f.Render(&buf); err != nil {
		return nil, err
	}
	return format.Source(buf.Bytes())
}

// splitAtMarkers cuts src at its marker lines, which it drops.
func splitAtMarkers(src []byte) [][]byte {
	var parts [][]byte
	start := 0
	for i := 0; i < len(src); {
		line, _, _ := bytes.Cut(src[i:], []byte("\n"))
		next := i + len(line) + 1
		if string(line) == "// "+cutMarker {
			parts = append(parts, src[start:i])
			start = min(next, len(src))
		}
		i = next
	}
	return append(parts, src[start:])
}

// join joins formatted parts with one blank line, as gofmt separates
// documented declarations.
func join(parts [][]byte, errs []error) ([]byte, error) {
	var buf bytes.Buffer
	for i, p := range parts {
		if errs[i] != nil {
			return nil, errs[i]
		}
		p = bytes.TrimSpace(p)
		if len(p) == 0 {
			continue
		}
		if buf.Len() > 0 {
			buf.WriteString("\n\n")
		}
		buf.Write(p)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// renderAlone renders code, unformatted, in a file of its own, and returns
// the paths of the packages it imports and its text.
func renderAlone(pkg string, code jen.Code) (imports []string, text []byte, err error) {
	f := jen.NewFile(pkg)
	f.NoFormat = true
	f.Comment(cutMarker)
	f.Add(code)
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, nil, err
	}
	parts := splitAtMarkers(buf.Bytes())
	if len(parts) != 2 {
		return nil, nil, fmt.Errorf("rendering a function: %d markers", len(parts)-1)
	}
	head, text := parts[0], parts[1]
	// The head is "package p", then jennifer's import "path" or
	// import (...) with one path a line.
	_, head, _ = bytes.Cut(head, []byte("\n"))
	for _, line := range strings.Split(string(head), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "import "))
		if line == "" || line == "(" || line == ")" {
			continue
		}
		path, err := strconv.Unquote(line)
		if err != nil {
			return nil, nil, fmt.Errorf("rendering a function: import %s", line)
		}
		imports = append(imports, path)
	}
	return imports, text, nil
}

// parallel calls f(0), ..., f(n-1) on as many goroutines as there are
// cores, the lower indices first.
func parallel(n int, f func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				f(i)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// indentComments indents the comments inside the body of part's function,
// if part is one function. Jennifer writes every line at column 1, where
// go/printer takes a comment above a statement for a doc comment and
// reparses it as one (go/doc/comment), which was an eighth of the time
// formatting took. The printer indents the comments anyway, and none of
// the comments codegen writes in bodies changes as a doc comment.
func indentComments(part []byte) []byte {
	// The function's line is the first that starts with "func " (jennifer
	// puts a space before it); a part with two is left as it is.
	start := -1
	for i := 0; i < len(part); {
		line, _, _ := bytes.Cut(part[i:], []byte("\n"))
		if bytes.HasPrefix(bytes.TrimLeft(line, " "), []byte("func ")) {
			if start >= 0 {
				return part
			}
			start = i + len(line)
		}
		i += len(line) + 1
	}
	if start < 0 {
		return part
	}
	body := part[start:]
	n := bytes.Count(body, []byte("\n//"))
	if n == 0 {
		return part
	}
	out := make([]byte, 0, len(part)+n)
	out = append(out, part[:start]...)
	return append(out, bytes.ReplaceAll(body, []byte("\n//"), []byte("\n\t//"))...)
}
