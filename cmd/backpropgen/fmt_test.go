package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/backpropgen/backpropgen/parser"
)

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, name, data string, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
}

func TestFmtStdout(t *testing.T) {
	code, stdout, stderr := runCmd("fmt", "../../testdata/fmt/spacing.input")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if diff := cmp.Diff(readFile(t, "../../testdata/fmt/spacing.golden"), stdout); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFmtStdin(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in")
	writeFile(t, in, "fn f(x)=x*x", 0o644)
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	if code, stdout, stderr := runCmd("fmt"); code != 0 || stdout != "fn f(x) = x * x\n" || stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// -l, -d and -w on a directory tree: only .bp files, not in hidden
// directories, and only changed files are listed, shown and rewritten.
func TestFmtListDiffWrite(t *testing.T) {
	dir := t.TempDir()
	ugly := readFile(t, "../../testdata/fmt/spacing.input")
	pretty := readFile(t, "../../testdata/fmt/spacing.golden")
	a, b := filepath.Join(dir, "a.bp"), filepath.Join(dir, "sub", "b.bp")
	hidden, other := filepath.Join(dir, ".hidden", "c.bp"), filepath.Join(dir, "notes.txt")
	writeFile(t, a, ugly, 0o600)
	writeFile(t, b, pretty, 0o644)
	writeFile(t, hidden, ugly, 0o644)
	writeFile(t, other, ugly, 0o644)
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(b, old, old); err != nil {
		t.Fatal(err)
	}

	if code, stdout, stderr := runCmd("fmt", "-l", dir); code != 0 || stdout != a+"\n" || stderr != "" {
		t.Errorf("-l: exit %d, stdout %q, stderr %q; want %q", code, stdout, stderr, a)
	}
	code, stdout, _ := runCmd("fmt", "-d", dir)
	if code != 0 || !strings.HasPrefix(stdout, "diff "+a+".orig "+a+"\n--- "+a+".orig\n+++ "+a+"\n@@ -1,") {
		t.Errorf("-d: exit %d, stdout %q", code, stdout)
	}
	if got := applyDiff(t, ugly, stdout); got != pretty {
		t.Errorf("-d: the diff does not turn the file into its formatted text:\n%s", cmp.Diff(pretty, got))
	}
	if readFile(t, a) != ugly {
		t.Errorf("-l or -d changed the file")
	}

	if code, stdout, stderr := runCmd(dir, "-w", "fmt"); code != 2 {
		t.Errorf("fmt not first: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, stdout, stderr := runCmd("fmt", dir, "-w"); code != 0 || stdout != "" || stderr != "" {
		t.Errorf("-w: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if readFile(t, a) != pretty {
		t.Errorf("-w did not format %s", a)
	}
	if fi, err := os.Stat(a); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("-w changed the permissions: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(b); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("-w rewrote a formatted file")
	}
	if readFile(t, hidden) != ugly || readFile(t, other) != ugly {
		t.Errorf("-w formatted a file in a hidden directory or not named .bp")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if code, stdout, _ := runCmd("fmt", "-l", a, b); code != 0 || stdout != "" {
		t.Errorf("-l after -w: exit %d, %q", code, stdout)
	}
}

// A file with a syntax error gets the compiler's message and is left as
// it is; fmt goes on with the other files.
func TestFmtSyntaxErrors(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/errors/*.bp")
	n := 0
	for _, path := range files {
		src := readFile(t, path)
		if _, err := parser.Parse(path, []byte(src)); err == nil {
			continue // a semantic error: fmt formats it
		}
		n++
		for _, flag := range []string{"-l", "-w", "-d"} {
			dir := t.TempDir()
			cp := filepath.Join(dir, filepath.Base(path))
			good := filepath.Join(dir, "good.bp")
			writeFile(t, cp, src, 0o644)
			writeFile(t, good, "fn f(x)=x", 0o644)
			code, stdout, stderr := runCmd("fmt", flag, cp, good)
			if code != 1 {
				t.Errorf("%s %s: exit %d, want 1", flag, path, code)
			}
			want := readFile(t, strings.TrimSuffix(path, ".bp")+".err")
			if got := strings.ReplaceAll(stderr, dir+string(filepath.Separator), ""); got != want {
				t.Errorf("%s %s: message differs from the compiler's (-want +got):\n%s", flag, path, cmp.Diff(want, got))
			}
			if readFile(t, cp) != src {
				t.Errorf("%s %s: the file was changed", flag, path)
			}
			if flag == "-l" && stdout != good+"\n" {
				t.Errorf("-l %s: stdout %q; the other file was not listed", path, stdout)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d error cases are syntax errors", n)
	}
}

func TestFmtMisuse(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"fmt", "-x"}, "backpropgen fmt: flag provided but not defined: -x (backpropgen fmt -h shows the usage)\n"},
		{[]string{"fmt", "-w"}, "backpropgen fmt: -w needs files to rewrite, not standard input\n"},
		{[]string{"fmt", "../../testdata/nosuchfile.bp"}, "backpropgen fmt: stat ../../testdata/nosuchfile.bp: no such file or directory\n"},
	} {
		if code, stdout, stderr := runCmd(c.args...); code != 2 || stdout != "" || stderr != c.want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and %q", c.args, code, stdout, stderr, c.want)
		}
	}
	code, stdout, stderr := runCmd("fmt", "-h")
	if code != 0 || stderr != "" || !strings.Contains(stdout, "usage: backpropgen fmt [-l] [-w] [-d]") {
		t.Errorf("fmt -h: exit %d, stderr %q, stdout %q", code, stderr, stdout)
	}
	if _, stdout, _ := runCmd("-h"); !strings.Contains(stdout, "backpropgen fmt [-l] [-w] [-d] [FILE.bp | DIR]...") {
		t.Errorf("-h does not show fmt:\n%s", stdout)
	}
}

// The diff of random line edits, applied, gives the new text; and it is
// what GNU diff -u prints for a small case (checked by hand).
func TestUnifiedDiff(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		var old []string
		for range r.IntN(30) {
			old = append(old, strconv.Itoa(r.IntN(8)))
		}
		cur := append([]string(nil), old...)
		for range r.IntN(6) {
			j := r.IntN(len(cur) + 1)
			switch r.IntN(3) {
			case 0:
				cur = append(cur[:j], append([]string{"new" + strconv.Itoa(r.IntN(3))}, cur[j:]...)...)
			case 1:
				if j < len(cur) {
					cur = append(cur[:j], cur[j+1:]...)
				}
			case 2:
				if j < len(cur) {
					cur[j] = "changed"
				}
			}
		}
		a, b := strings.Join(old, "\n"), strings.Join(cur, "\n")
		if r.IntN(2) == 0 && a != "" {
			a += "\n"
		}
		if r.IntN(2) == 0 && b != "" {
			b += "\n"
		}
		d := unifiedDiff("a", []byte(a), "b", []byte(b))
		if (d == "") != (a == b) {
			t.Fatalf("case %d: diff %q of %q and %q", i, d, a, b)
		}
		if got := applyDiff(t, a, d); got != b {
			t.Fatalf("case %d: %q patched with\n%s\ngives %q, want %q", i, a, d, got, b)
		}
	}
	got := unifiedDiff("x.orig", []byte("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n"), "x", []byte("1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n12\n13"))
	want := "diff x.orig x\n--- x.orig\n+++ x\n@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n@@ -8,6 +8,5 @@\n 8\n 9\n 10\n-11\n 12\n-13\n+13\n\\ No newline at end of file\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// applyDiff applies the unified diff d to old, checking its hunk headers.
func applyDiff(t *testing.T, old, d string) string {
	t.Helper()
	if d == "" {
		return old
	}
	a := splitLines(old)
	var out []string
	lines := strings.SplitAfter(d, "\n")
	at := 0 // lines of a copied or deleted
	for i := 3; i < len(lines) && lines[i] != ""; {
		var aFrom, aN, bFrom, bN int
		h := strings.TrimSuffix(lines[i], "\n")
		if !strings.HasPrefix(h, "@@ -") {
			t.Fatalf("bad hunk header %q in\n%s", h, d)
		}
		f := strings.Fields(h)
		aFrom, aN = parseRange(t, f[1][1:])
		bFrom, bN = parseRange(t, f[2][1:])
		if aN > 0 {
			aFrom--
		}
		if bN > 0 {
			bFrom--
		}
		for at < aFrom {
			out = append(out, a[at])
			at++
		}
		if len(out) != bFrom {
			t.Fatalf("hunk %q: new text at line %d, header says %d\n%s", h, len(out), bFrom, d)
		}
		i++
		na, nb := 0, 0
		for i < len(lines) && lines[i] != "" && !strings.HasPrefix(lines[i], "@@") {
			l := lines[i][1:]
			if i+1 < len(lines) && lines[i+1] == "\\ No newline at end of file\n" {
				l = strings.TrimSuffix(l, "\n")
				i++
			}
			switch lines[i-btoi(l != lines[i][1:])][0] {
			case ' ':
				if a[at] != l {
					t.Fatalf("context %q, file has %q", l, a[at])
				}
				out, at, na, nb = append(out, l), at+1, na+1, nb+1
			case '-':
				if a[at] != l {
					t.Fatalf("deleting %q, file has %q", l, a[at])
				}
				at, na = at+1, na+1
			case '+':
				out, nb = append(out, l), nb+1
			}
			i++
		}
		if na != aN || nb != bN {
			t.Fatalf("hunk %q has %d old and %d new lines\n%s", h, na, nb, d)
		}
	}
	out = append(out, a[at:]...)
	return strings.Join(out, "")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func parseRange(t *testing.T, s string) (from, n int) {
	t.Helper()
	f, c, ok := strings.Cut(s, ",")
	from, err := strconv.Atoi(f)
	if err != nil {
		t.Fatalf("bad range %q", s)
	}
	if !ok {
		return from, 1
	}
	n, err = strconv.Atoi(c)
	if err != nil {
		t.Fatalf("bad range %q", s)
	}
	return from, n
}
