package parser

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSize is the size limit of a .bp file, in bytes. Models are small; a
// bigger file is almost surely not one, and refusing it early bounds the
// time and memory a mistaken argument (a data file, /dev/zero) can cost.
const MaxSize = 8 << 20

// text checks that src is UTF-8 text of at most MaxSize bytes and returns
// it without a leading byte order mark. Its errors are reported the way
// syntax errors are, positioned where that means something.
func text(f *File, src []byte) ([]byte, error) {
	var errs ErrorList
	switch {
	case len(src) > MaxSize:
		errs.Add(f, Pos{}, "file is larger than %d MiB, the size limit of a .bp file", MaxSize>>20)
	case bytes.IndexByte(src, 0) >= 0:
		errs.Add(f, Pos{}, "not a UTF-8 text file")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	src = bytes.TrimPrefix(src, []byte("\uFEFF"))
	if utf8.Valid(src) {
		return src, nil
	}
	f.Src = src
	line, start := 1, 0
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n == 1 && errs.Len() < MaxErrors {
			col := utf8.RuneCount(src[start:i]) + 1
			errs.Add(f, Pos{Line: line, Col: col}, "invalid UTF-8 (byte 0x%02x): a .bp file must be UTF-8 text", src[i])
		}
		if r == '\n' {
			line, start = line+1, i+1
		}
		i += n
	}
	return nil, errs.Err()
}

// printable replaces what a terminal should not be sent (invalid UTF-8,
// control characters but tab) with U+FFFD, for showing a source line.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || (r != utf8.RuneError && !unicode.IsControl(r)) {
			return r
		}
		return unicode.ReplacementChar
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
