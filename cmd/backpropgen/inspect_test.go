package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/backpropgen/backpropgen"
)

// TestInspectGoldens compares what graph, explain and stats print for the
// worked examples with their golden files (go test -update rewrites
// them), and checks that a second run prints the same bytes.
func TestInspectGoldens(t *testing.T) {
	cases := []struct {
		golden string
		args   []string
	}{
		{"graph/exercise1.dot", []string{"graph", "exercise1.bp"}},
		{"graph/exercise1.md", []string{"graph", "-format", "mermaid", "exercise1.bp"}},
		{"graph/xor.dot", []string{"graph", "xor.bp"}},
		{"graph/xor.md", []string{"graph", "-format", "mermaid", "xor.bp"}},
		{"graph/xor_fwd.dot", []string{"graph", "-fwd", "xor.bp"}},
		{"graph/rnn.dot", []string{"graph", "rnn.bp"}},
		{"explain/exercise1.txt", []string{"explain", "exercise1.bp"}},
		{"explain/exercise1.tex", []string{"explain", "-latex", "exercise1.bp"}},
		{"explain/xor.txt", []string{"explain", "xor.bp"}},
		{"explain/xor.tex", []string{"explain", "-latex", "xor.bp"}},
		{"explain/mnist.txt", []string{"explain", "mnist.bp"}},
		{"explain/mnist.tex", []string{"explain", "-latex", "mnist.bp"}},
		{"explain/rnn.txt", []string{"explain", "rnn.bp"}},
		{"explain/rnn.tex", []string{"explain", "-latex", "rnn.bp"}},
		{"stats/xor.txt", []string{"stats", "xor.bp"}},
		{"stats/mnist.txt", []string{"stats", "mnist.bp"}},
		{"stats/rnn.txt", []string{"stats", "rnn.bp"}},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			args := append([]string(nil), c.args...)
			args[len(args)-1] = "../../testdata/" + args[len(args)-1]
			code, stdout, stderr := runCmd(args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if _, again, _ := runCmd(args...); again != stdout {
				t.Errorf("a second run printed something else")
			}
			if c.args[0] == "stats" {
				stdout = codegenDependent(t, args[len(args)-1], stdout)
			}
			golden := filepath.Join("../../testdata", c.golden)
			if *update {
				if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), stdout); diff != "" {
				t.Errorf("output differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

var (
	codeSize      = regexp.MustCompile(`generated Go: ([\d,]+) lines, ([\d,]+) bytes`)
	workspaceSize = regexp.MustCompile(`(?m)^(  workspace) .*$`)
)

// codegenDependent checks the sizes stats reports of the generated code
// against backpropgen.Generate's output, and blanks them (and the
// workspace's size, which code generation decides), so that the stats
// goldens change only when the IR does.
func codegenDependent(t *testing.T, path, stats string) string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	code, err := backpropgen.Generate(path, src, "")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("generated Go: %s lines, %s bytes", group(bytes.Count(code, []byte("\n"))), group(len(code)))
	if got := codeSize.FindString(stats); got != want {
		t.Errorf("stats says %q; Generate made %q", got, want)
	}
	stats = codeSize.ReplaceAllString(stats, "generated Go: N lines, N bytes")
	return workspaceSize.ReplaceAllString(stats, "$1 (its size, from the generated Go)")
}

func group(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TestInspectEveryModel runs every inspection of every shipped model.
func TestInspectEveryModel(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/*.bp")
	if len(files) == 0 {
		t.Fatal("no models")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			for _, args := range [][]string{
				{"graph", path}, {"graph", "-fwd", path}, {"graph", "-format", "mermaid", path},
				{"explain", path}, {"explain", "-latex", path}, {"stats", path},
			} {
				code, stdout, stderr := runCmd(args...)
				if code != 0 || stderr != "" || stdout == "" {
					t.Errorf("%q: exit %d, stderr %q, %d bytes out", args, code, stderr, len(stdout))
					continue
				}
				switch {
				case args[0] == "graph" && args[1] != "-format":
					checkDOT(t, stdout)
				case args[0] == "graph":
					checkMermaid(t, stdout)
				case args[0] == "explain" && len(args) == 2:
					if strings.Contains(stdout, "%") || !strings.Contains(stdout, "∂") {
						t.Errorf("%q: no gradient, or an IR node number, in\n%s", args, stdout)
					}
				}
			}
		})
	}
}

var (
	dotNode = regexp.MustCompile(`(?m)^\s*([A-Za-z_][A-Za-z0-9_]*) \[`)
	dotEdge = regexp.MustCompile(`(?m)^\s*([A-Za-z_][A-Za-z0-9_]*) -> ([A-Za-z_][A-Za-z0-9_]*)`)
)

// checkDOT parses a DOT graph far enough to know it is well formed: one
// digraph, braces balanced outside strings, every edge between declared
// nodes, no node declared twice.
func checkDOT(t *testing.T, dot string) {
	t.Helper()
	depth, inString, escaped := 0, false, false
	for _, r := range dot {
		switch {
		case escaped:
			escaped = false
		case inString && r == '\\':
			escaped = true
		case r == '"':
			inString = !inString
		case !inString && r == '{':
			depth++
		case !inString && r == '}':
			depth--
			if depth < 0 {
				t.Fatalf("unbalanced }")
			}
		}
	}
	if depth != 0 || inString {
		t.Fatalf("unbalanced braces (%d) or an open string (%v)", depth, inString)
	}
	if n := strings.Count(dot, "digraph "); n != 1 {
		t.Errorf("%d digraphs", n)
	}
	declared := map[string]bool{}
	for _, m := range dotNode.FindAllStringSubmatch(dot, -1) {
		if m[1] == "graph" || m[1] == "node" || m[1] == "edge" {
			continue
		}
		if declared[m[1]] {
			t.Errorf("node %s declared twice", m[1])
		}
		declared[m[1]] = true
	}
	edges := dotEdge.FindAllStringSubmatch(dot, -1)
	if len(edges) == 0 {
		t.Errorf("no edges")
	}
	for _, m := range edges {
		for _, id := range m[1:] {
			if !declared[id] {
				t.Errorf("edge %s -> %s: %s is not declared", m[1], m[2], id)
			}
		}
	}
}

var mermaidEdge = regexp.MustCompile(`(?m)^\s*(\w+) -\.?->(?:\|[^|]*\|)? (\w+)$`)

// checkMermaid checks a Mermaid flowchart: fenced, subgraphs closed, every
// edge between declared nodes.
func checkMermaid(t *testing.T, md string) {
	t.Helper()
	if !strings.HasPrefix(md, "```mermaid\nflowchart TB\n") || !strings.HasSuffix(md, "```\n") {
		t.Fatalf("not a fenced mermaid flowchart")
	}
	if a, b := strings.Count(md, "subgraph "), len(regexp.MustCompile(`(?m)^\s*end$`).FindAllString(md, -1)); a != b {
		t.Errorf("%d subgraphs, %d ends", a, b)
	}
	declared := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(\w+)[\[\(\{/]`).FindAllStringSubmatch(md, -1) {
		declared[m[1]] = true
	}
	for _, m := range mermaidEdge.FindAllStringSubmatch(md, -1) {
		for _, id := range m[1:] {
			if !declared[id] {
				t.Errorf("edge %s -> %s: %s is not declared", m[1], m[2], id)
			}
		}
	}
}

// TestInspectInvalidModel: an invalid model gets the compiler's positioned
// messages and exit status 1 from every inspection.
func TestInspectInvalidModel(t *testing.T) {
	path := "../../testdata/errors/arity.bp"
	_, _, want := runCmd("check", path)
	for _, cmd := range []string{"graph", "explain", "stats"} {
		code, stdout, stderr := runCmd(cmd, path)
		if code != 1 || stdout != "" || stderr != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 and %q", cmd, code, stdout, stderr, want)
		}
	}
}

func TestInspectMisuse(t *testing.T) {
	xor := "../../testdata/xor.bp"
	for _, cmd := range []string{"graph", "explain", "stats"} {
		misuse(t, cmd+": no .bp file given (backpropgen -h shows the usage)", cmd)
		misuse(t, cmd+": 2 files given (a.bp, b.bp): give one .bp file per run", cmd, "a.bp", "b.bp")
		misuse(t, cmd+": flag provided but not defined: -nosuchflag (backpropgen -h shows the usage)", cmd, xor, "-nosuchflag")
		misuse(t, "open nosuch.bp: no such file or directory", cmd, "nosuch.bp")
	}
	misuse(t, `graph: unknown -format "svg": dot or mermaid`, "graph", "-format", "svg", xor)
	misuse(t, "graph: -o x.svg renders DOT as SVG: -format mermaid cannot be used with it", "graph", "-format", "mermaid", "-o", "x.svg", xor)
	misuse(t, "-o "+xor+" is the input file: refusing to write Go over the model", "graph", "-o", xor, xor)
	if code, stdout, _ := runCmd("graph", "-h"); code != 0 || !strings.Contains(stdout, "backpropgen graph") {
		t.Errorf("graph -h: exit %d, no usage", code)
	}
}

func TestGraphFiles(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "xor.dot")
	if code, stdout, stderr := runCmd("graph", "-o", out, "../../testdata/xor.bp"); code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	_, want, _ := runCmd("graph", "../../testdata/xor.bp")
	if got, _ := os.ReadFile(out); string(got) != want {
		t.Errorf("-o wrote something else than standard output gets")
	}
}

// TestGraphSVG renders through Graphviz when it is installed.
func TestGraphSVG(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz's dot is not installed")
	}
	out := filepath.Join(t.TempDir(), "xor.svg")
	if code, _, stderr := runCmd("graph", "-o", out, "../../testdata/xor.bp"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	svg, _ := os.ReadFile(out)
	if !strings.Contains(string(svg), "<svg") || !strings.Contains(string(svg), "∂L/∂W1") {
		t.Errorf("not an SVG of the graph: %.200s", svg)
	}
}

// TestGraphSVGWithoutDot: with no dot on the PATH, -o FILE.svg says how to
// install Graphviz and writes nothing.
func TestGraphSVGWithoutDot(t *testing.T) {
	t.Setenv("PATH", "")
	out := filepath.Join(t.TempDir(), "xor.svg")
	code, stdout, stderr := runCmd("graph", "-o", out, "../../testdata/xor.bp")
	if code != 2 || stdout != "" || !strings.Contains(stderr, "apt-get install graphviz") || !strings.Contains(stderr, "not installed") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s written", out)
	}
}

// TestReadmeShowsExplain: the README's explain examples are what explain
// prints.
func TestReadmeShowsExplain(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"exercise1", "xor"} {
		want, err := os.ReadFile("../../testdata/explain/" + name + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		block := "$ backpropgen explain testdata/" + name + ".bp\n" + string(want) + "```"
		if !strings.Contains(string(readme), block) {
			t.Errorf("README.md does not show explain of %s.bp as it is:\n%s", name, want)
		}
	}
	for _, img := range []string{"docs/img/exercise1.svg", "docs/img/xor.svg"} {
		if !strings.Contains(string(readme), "("+img+")") {
			t.Errorf("README.md does not show %s", img)
		}
		if _, err := os.Stat("../../" + img); err != nil {
			t.Error(err)
		}
	}
}
