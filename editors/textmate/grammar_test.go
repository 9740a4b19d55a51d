// Package textmate holds the TextMate grammar of .bp files
// (bp.tmLanguage.json) and its tests; it has no Go code of its own.
package textmate

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/backpropgen/backpropgen/parser"
	"github.com/backpropgen/backpropgen/symbolic"
)

var update = flag.Bool("update", false, "rewrite the grammar's list of built-ins from symbolic's table")

const grammarFile = "bp.tmLanguage.json"

// The parts of a TextMate grammar this one uses: match rules only (no
// begin/end), so that each line is tokenized on its own. Decoding rejects
// anything else.
type grammar struct {
	Schema     string          `json:"$schema"`
	Name       string          `json:"name"`
	ScopeName  string          `json:"scopeName"`
	FileTypes  []string        `json:"fileTypes"`
	Comment    string          `json:"comment"`
	Patterns   []*rule         `json:"patterns"`
	Repository map[string]rule `json:"repository"`
}

type rule struct {
	Comment  string             `json:"comment"`
	Include  string             `json:"include"`
	Name     string             `json:"name"`
	Match    string             `json:"match"`
	Captures map[string]capture `json:"captures"`
	Patterns []*rule            `json:"patterns"`

	re, reAfter *regexp.Regexp // anchored at the start, and after one character
}

type capture struct {
	Name string `json:"name"`
}

func loadGrammar(t *testing.T) (*grammar, []*rule) {
	t.Helper()
	src, err := os.ReadFile(grammarFile)
	if err != nil {
		t.Fatal(err)
	}
	var g grammar
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		t.Fatalf("%s: %v (only match rules are supported)", grammarFile, err)
	}
	var rules []*rule
	var flatten func(rs []*rule, depth int)
	flatten = func(rs []*rule, depth int) {
		if depth > 10 {
			t.Fatal("includes nest too deep")
		}
		for _, r := range rs {
			switch {
			case r.Include != "":
				inc, ok := g.Repository[strings.TrimPrefix(r.Include, "#")]
				if !ok || !strings.HasPrefix(r.Include, "#") {
					t.Fatalf("include %q: no such rule in the repository", r.Include)
				}
				flatten([]*rule{&inc}, depth+1)
			case r.Patterns != nil:
				flatten(r.Patterns, depth+1)
			case r.Match != "":
				r.re = regexp.MustCompile(`^(?:` + r.Match + `)`)
				r.reAfter = regexp.MustCompile(`^(?s:.)(?:` + r.Match + `)`)
				rules = append(rules, r)
			default:
				t.Fatalf("rule %+v has no match, patterns or include", r)
			}
		}
	}
	flatten(g.Patterns, 0)
	return &g, rules
}

func TestGrammarHeader(t *testing.T) {
	g, rules := loadGrammar(t)
	if g.ScopeName != "source.bp" || !slices.Equal(g.FileTypes, []string{"bp"}) || g.Name == "" {
		t.Errorf("scopeName %q, fileTypes %q, name %q", g.ScopeName, g.FileTypes, g.Name)
	}
	if len(rules) < 10 {
		t.Errorf("only %d rules", len(rules))
	}
	for name := range g.Repository {
		if !strings.Contains(string(mustRead(t, grammarFile)), `"#`+name+`"`) {
			t.Errorf("repository rule %s is never included", name)
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every pattern uses only what Oniguruma (TextMate's, VS Code's engine) and
// Go's RE2 syntax read alike: literals, ASCII character classes,
// groups, alternation, greedy or lazy repetition and \b. Left out: lookaround
// and backreferences (not in RE2), ^ $ \A \z (line or text, depending),
// (?s) and flags, \w \d \s (Unicode in Oniguruma, ASCII in Go), \p{...},
// possessive and named groups, whose syntax differs.
func TestGrammarRegexpsPortable(t *testing.T) {
	_, rules := loadGrammar(t)
	forbidden := regexp.MustCompile(`\\[wWdDsShHpPAzZGkgQEx]|\(\?[^:]|\(\?:\)|[*+?}]\+`)
	for _, r := range rules {
		if m := forbidden.FindString(r.Match); m != "" {
			t.Errorf("%q uses %q, which Oniguruma and Go read differently or only one reads", r.Match, m)
		}
		re, err := syntax.Parse(r.Match, syntax.Perl)
		if err != nil {
			t.Errorf("%q: %v", r.Match, err)
			continue
		}
		var walk func(*syntax.Regexp)
		walk = func(re *syntax.Regexp) {
			switch re.Op {
			case syntax.OpLiteral, syntax.OpConcat, syntax.OpAlternate, syntax.OpCapture, syntax.OpStar,
				syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat, syntax.OpWordBoundary, syntax.OpNoWordBoundary,
				syntax.OpAnyCharNotNL, syntax.OpEmptyMatch:
			case syntax.OpCharClass:
				for _, c := range re.Rune {
					if c >= utf8.RuneSelf {
						t.Errorf("%q: character class beyond ASCII (%s)", r.Match, re)
						break
					}
				}
			default:
				t.Errorf("%q: %s is not in the common subset", r.Match, re)
			}
			for _, s := range re.Sub {
				walk(s)
			}
		}
		walk(re)
		if r.re.MatchString("") {
			t.Errorf("%q matches the empty string", r.Match)
		}
		for n := range r.Captures {
			if i := indexOf(n); i < 1 || i > re.MaxCap() {
				t.Errorf("%q: capture %s does not exist", r.Match, n)
			}
		}
	}
}

func indexOf(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// listIn returns the names of a rule "\b(?:a|b|c)\b" or "\b(a|b|c)...".
var listIn = regexp.MustCompile(`^\\b\((?:\?:)?([A-Za-z0-9_|]+)\)`)

func names(t *testing.T, match string) []string {
	t.Helper()
	m := listIn.FindStringSubmatch(match)
	if m == nil {
		t.Fatalf("%q is not a list of names", match)
	}
	return strings.Split(m[1], "|")
}

// The keyword rules name exactly the parser's keywords.
func TestGrammarKeywords(t *testing.T) {
	g, _ := loadGrammar(t)
	var got []string
	for _, r := range g.Repository["keyword"].Patterns {
		got = append(got, names(t, r.Match)...)
	}
	want := slices.Clone(parser.Keywords)
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keywords differ from parser.Keywords (-want +got):\n%s", diff)
	}
}

// The builtin rule names exactly the built-ins of symbolic's table, in its
// order; -update writes them.
func TestGrammarBuiltins(t *testing.T) {
	g, _ := loadGrammar(t)
	r := g.Repository["builtin"]
	want := symbolic.BuiltinNames()
	if *update {
		pattern := `\b(` + strings.Join(want, "|") + `)[ \t]*(\()`
		old, _ := json.Marshal(r.Match)
		new, _ := json.Marshal(pattern)
		src := mustRead(t, grammarFile)
		if bytes.Count(src, old) != 1 {
			t.Fatalf("cannot find the builtin pattern %s in %s", old, grammarFile)
		}
		if err := os.WriteFile(grammarFile, bytes.Replace(src, old, new, 1), 0o644); err != nil {
			t.Fatal(err)
		}
		g, _ = loadGrammar(t)
		r = g.Repository["builtin"]
	}
	if diff := cmp.Diff(want, names(t, r.Match)); diff != "" {
		t.Errorf("built-ins differ from symbolic's table (-want +got); go test ./editors/textmate -update rewrites them:\n%s", diff)
	}
}

// span is a run of a line's bytes and the scopes a rule gave it, outermost
// first.
type span struct {
	from, to int
	scopes   []string
}

// tokenize applies the rules to one line as TextMate does: from the
// current position, the rule that matches earliest wins, the first listed
// of those that match at the same place; matching goes on after its end.
func tokenize(rules []*rule, line string) []span {
	var spans []span
	for pos := 0; pos < len(line); {
		var best *rule
		var m []int
		for s := pos; s < len(line) && best == nil; s++ {
			for _, r := range rules {
				if m = matchAt(r, line, s); m != nil {
					best = r
					break
				}
			}
		}
		if best == nil {
			break
		}
		outer := []string{}
		if best.Name != "" {
			outer = append(outer, best.Name)
		}
		spans = append(spans, span{m[0], m[1], outer})
		for i := 1; 2*i < len(m); i++ {
			if c, ok := best.Captures[itoa(i)]; ok && m[2*i] >= 0 && m[2*i] < m[2*i+1] {
				spans = append(spans, span{m[2*i], m[2*i+1], append(slices.Clone(outer), c.Name)})
			}
		}
		pos = m[1]
	}
	return spans
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// matchAt matches r at byte s of line, with the character before s in
// view for \b; it returns the submatch offsets in line.
func matchAt(r *rule, line string, s int) []int {
	var m []int
	var off int
	if s == 0 {
		m = r.re.FindStringSubmatchIndex(line)
	} else {
		_, n := utf8.DecodeLastRuneInString(line[:s])
		off = s - n
		m = r.reAfter.FindStringSubmatchIndex(line[off:])
		if m != nil {
			m[0] += n // the character before s is not part of the match
		}
	}
	if m == nil || m[1] == m[0] {
		return nil
	}
	for i := range m {
		if m[i] >= 0 {
			m[i] += off
		}
	}
	return m
}

// scopesAt returns the scopes of byte i of a tokenized line.
func scopesAt(spans []span, i int) []string {
	var out []string
	for _, s := range spans {
		if s.from <= i && i < s.to && len(s.scopes) > len(out) {
			out = s.scopes
		}
	}
	return out
}

// The grammar gives every keyword, built-in, call, number, operator and
// comment of every .bp file of the repository that parses its scope, and
// plain names none.
func TestGrammarTokenizesModels(t *testing.T) {
	_, rules := loadGrammar(t)
	builtins := map[string]bool{}
	for _, b := range symbolic.BuiltinNames() {
		builtins[b] = true
	}
	keywordScope := map[string]string{}
	for _, k := range parser.Keywords {
		keywordScope[k] = "storage.type.bp"
	}
	for _, k := range []string{"for", "in", "return"} {
		keywordScope[k] = "keyword.control.bp"
	}
	var files []string
	for _, p := range []string{"../../testdata/*.bp", "../../testdata/difftest/*.bp", "../../testdata/errors/*.bp", "../../testdata/fmt/*.input", "../../testdata/fmt/*.golden"} {
		m, _ := filepath.Glob(p)
		files = append(files, m...)
	}
	checked := map[string]int{}
	for _, path := range files {
		src := mustRead(t, path)
		if _, err := parser.Parse(path, src); err != nil {
			continue
		}
		lines := strings.Split(strings.TrimPrefix(string(src), "\uFEFF"), "\n")
		spans := make([][]span, len(lines))
		for i, l := range lines {
			spans[i] = tokenize(rules, strings.TrimSuffix(l, "\r"))
		}
		toks := parser.Tokens(src)
		for i, tok := range toks {
			var want string
			next := ""
			if i+1 < len(toks) {
				next = toks[i+1].Text
			}
			switch tok.Kind {
			case parser.CommentToken:
				want = "comment.line.double-slash.bp"
			case parser.KeywordToken:
				want = keywordScope[tok.Text]
			case parser.NumberToken:
				want = "constant.numeric.bp"
			case parser.NameToken:
				prev := ""
				if i > 0 {
					prev = toks[i-1].Text
				}
				switch {
				case builtins[tok.Text] && next == "(" && prev != "fn":
					want = "support.function.builtin.bp"
				case next == "(":
					want = "entity.name.function.bp"
				}
			case parser.PunctToken:
				switch tok.Text {
				case "=", "+=":
					want = "keyword.operator.assignment.bp"
				case "..":
					want = "keyword.operator.range.bp"
				case "+", "-", "*", "/", "^":
					want = "keyword.operator.arithmetic.bp"
				case "@":
					want = "keyword.operator.matrix.bp"
				default:
					want = punctuation[tok.Text]
				}
			}
			line := lines[tok.Pos.Line-1]
			from := byteOffset(line, tok.Pos.Col)
			for b := from; b < from+len(tok.Text); b++ {
				got := scopesAt(spans[tok.Pos.Line-1], b)
				ok := slices.Contains(got, want)
				if want == "" && tok.Kind == parser.NameToken { // a plain name: no scope that marks something else
					ok = len(got) == 0 || strings.HasPrefix(got[len(got)-1], "variable.") || strings.HasPrefix(got[len(got)-1], "entity.name.")
				}
				if !ok {
					t.Errorf("%s:%d:%d: %q has scopes %q, want %q", path, tok.Pos.Line, tok.Pos.Col, tok.Text, got, want)
					break
				}
			}
			checked[want]++
		}
	}
	for _, scope := range []string{"comment.line.double-slash.bp", "storage.type.bp", "keyword.control.bp", "constant.numeric.bp",
		"support.function.builtin.bp", "entity.name.function.bp", "keyword.operator.arithmetic.bp", "keyword.operator.range.bp"} {
		if checked[scope] < 5 {
			t.Errorf("only %d tokens checked for %s", checked[scope], scope)
		}
	}
	t.Logf("tokens checked by expected scope: %v", checked)
}

var punctuation = map[string]string{
	"(": "punctuation.parenthesis.begin.bp", ")": "punctuation.parenthesis.end.bp",
	"[": "punctuation.bracket.begin.bp", "]": "punctuation.bracket.end.bp",
	"{": "punctuation.section.block.begin.bp", "}": "punctuation.section.block.end.bp",
	",": "punctuation.separator.comma.bp", ":": "punctuation.separator.slice.bp",
}

// byteOffset returns the byte offset of 1-based character column col.
func byteOffset(line string, col int) int {
	for i := range line {
		if col--; col == 0 {
			return i
		}
	}
	return len(line)
}

// The VS Code extension's manifest points at the grammar.
func TestVSCodeManifest(t *testing.T) {
	var m struct {
		Contributes struct {
			Languages []struct {
				ID            string   `json:"id"`
				Extensions    []string `json:"extensions"`
				Configuration string   `json:"configuration"`
			} `json:"languages"`
			Grammars []struct {
				Language  string `json:"language"`
				ScopeName string `json:"scopeName"`
				Path      string `json:"path"`
			} `json:"grammars"`
		} `json:"contributes"`
	}
	if err := json.Unmarshal(mustRead(t, "package.json"), &m); err != nil {
		t.Fatal(err)
	}
	c := m.Contributes
	if len(c.Languages) != 1 || len(c.Grammars) != 1 || c.Languages[0].ID != "bp" || !slices.Equal(c.Languages[0].Extensions, []string{".bp"}) ||
		c.Grammars[0].Language != "bp" || c.Grammars[0].ScopeName != "source.bp" || filepath.Clean(c.Grammars[0].Path) != grammarFile {
		t.Errorf("manifest: %+v", c)
	}
	var conf struct {
		Comments struct {
			LineComment string `json:"lineComment"`
		} `json:"comments"`
	}
	if err := json.Unmarshal(mustRead(t, c.Languages[0].Configuration), &conf); err != nil || conf.Comments.LineComment != "//" {
		t.Errorf("language configuration: %+v, %v", conf, err)
	}
}
