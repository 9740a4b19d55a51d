package codegen

import (
	"bytes"
	"go/format"
	"runtime"
	"slices"
	"sync"
)

// cutMarker is a comment Generate puts before each function it emits, so
// that the file can be formatted in parts, in parallel: go/format is a
// third of the time generation takes for a large model, and it formats one
// top-level declaration independently of the others. The markers are
// removed before formatting.
const cutMarker = "backpropgen:cut-here"

// cut marks the start of a new part of the file.
func (fg *fileGen) cut() {
	fg.f.Comment(cutMarker)
	fg.cuts++
}

// formatParts formats src, jennifer's unformatted rendering of a whole
// file, as go/format.Source would, but in parts cut at fg's markers and
// formatted in parallel. Every part after the first is a list of
// declarations, which go/format formats as a partial file; the parts are
// joined with one blank line, as gofmt separates documented declarations.
// Tests check that the result is byte-equal to formatting the whole file.
func formatParts(src []byte, cuts int) ([]byte, error) {
	sep := []byte("\n// " + cutMarker + "\n")
	parts := bytes.Split(src, sep)
	if len(parts) != cuts+1 {
		// The marker also occurs elsewhere (in a comment quoting a file
		// name): put the line breaks back where the markers were and
		// format the whole file.
		return format.Source(unmark(src, sep))
	}
	out := make([][]byte, len(parts))
	errs := make([]error, len(parts))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(parts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i], errs[i] = format.Source(indentComments(parts[i]))
			}
		}()
	}
	// The biggest parts first, so that one does not start last.
	for _, i := range bySizeDesc(parts) {
		work <- i
	}
	close(work)
	wg.Wait()
	var buf bytes.Buffer
	for i, p := range out {
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

// unmark replaces each marker line sep by a line break.
func unmark(src, sep []byte) []byte { return bytes.ReplaceAll(src, sep, []byte("\n")) }

// bySizeDesc returns the indices of parts, longest first.
func bySizeDesc(parts [][]byte) []int {
	idx := make([]int, len(parts))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return len(parts[b]) - len(parts[a]) })
	return idx
}
