package parser

import (
	"fmt"
	"sort"
	"strings"
)

// MaxErrors is how many errors an ErrorList keeps; later ones are counted
// but not stored, so a broken file does not bury its first mistake.
const MaxErrors = 10

// Error is a message about a position in a .bp file.
type Error struct {
	File   string
	Pos    Pos
	Msg    string
	Source string // the text of the line, for the caret display
}

func (e *Error) Error() string {
	if !e.Pos.IsValid() {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

// Caret returns the error followed by its source line and a caret under the
// column, the way compilers show where a mistake is.
func (e *Error) Caret() string {
	if !e.Pos.IsValid() || e.Source == "" {
		return e.Error()
	}
	// Keep tabs so the caret lines up under the same characters. Col
	// counts characters, not bytes.
	var pad strings.Builder
	src := printable(e.Source)
	for i, r := range []rune(src) {
		if i >= e.Pos.Col-1 {
			break
		}
		if r == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	return fmt.Sprintf("%s\n    %s\n    %s^", e.Error(), src, pad.String())
}

// ErrorList collects errors; at most one per line and at most MaxErrors.
type ErrorList struct {
	errs    []*Error
	dropped int
}

// Add records an error at pos in file f. A second error on a line that
// already has one is dropped: it is almost always a consequence of the first.
func (l *ErrorList) Add(f *File, pos Pos, format string, args ...any) {
	for _, e := range l.errs {
		if pos.IsValid() && e.Pos.Line == pos.Line {
			return
		}
	}
	if len(l.errs) >= MaxErrors {
		l.dropped++
		return
	}
	l.errs = append(l.errs, &Error{
		File:   f.Name,
		Pos:    pos,
		Msg:    fmt.Sprintf(format, args...),
		Source: f.Line(pos.Line),
	})
}

// Len is the number of errors kept.
func (l *ErrorList) Len() int { return len(l.errs) }

// Errors returns the errors sorted by position.
func (l *ErrorList) Errors() []*Error {
	sort.SliceStable(l.errs, func(i, j int) bool {
		a, b := l.errs[i].Pos, l.errs[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return l.errs
}

// Err returns the list as an error, or nil if it is empty.
func (l *ErrorList) Err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return &ListError{Errs: l.Errors(), Dropped: l.dropped}
}

// ListError is the error returned by ErrorList.Err.
type ListError struct {
	Errs    []*Error
	Dropped int // errors beyond MaxErrors, not shown
}

func (e *ListError) Error() string {
	var lines []string
	for _, x := range e.Errs {
		lines = append(lines, x.Error())
	}
	if e.Dropped > 0 {
		lines = append(lines, fmt.Sprintf("too many errors (%d more)", e.Dropped))
	}
	return strings.Join(lines, "\n")
}

// Caret formats every error with its source line and caret.
func (e *ListError) Caret() string {
	var lines []string
	for _, x := range e.Errs {
		lines = append(lines, x.Caret())
	}
	if e.Dropped > 0 {
		lines = append(lines, fmt.Sprintf("too many errors (%d more)", e.Dropped))
	}
	return strings.Join(lines, "\n")
}

func sourceLine(src []byte, n int) string {
	if n < 1 {
		return ""
	}
	s := string(src)
	for i := 1; i < n; i++ {
		j := strings.IndexByte(s, '\n')
		if j < 0 {
			return ""
		}
		s = s[j+1:]
	}
	if j := strings.IndexByte(s, '\n'); j >= 0 {
		s = s[:j]
	}
	return strings.TrimRight(s, "\r")
}
