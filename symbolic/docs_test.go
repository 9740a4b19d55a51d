package symbolic

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docBuiltins returns the names the first column of docs/LANGUAGE.md's
// table of built-in functions lists, in order.
func docBuiltins(t *testing.T) []string {
	doc, err := os.ReadFile("../docs/LANGUAGE.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Built-in functions\n")
	if !ok {
		t.Fatal("LANGUAGE.md has no section Built-in functions")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	code := regexp.MustCompile("`([a-z_0-9]+)[^`]*`")
	var names []string
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
			names = append(names, m[1])
		}
	}
	return names
}

// The language reference lists exactly the built-ins of the table, in the
// table's order, so that neither can change without the other.
func TestLanguageDocListsEveryBuiltin(t *testing.T) {
	got, want := docBuiltins(t), BuiltinNames()
	if !slices.Equal(got, want) {
		t.Errorf("docs/LANGUAGE.md lists built-ins\n  %v\nthe table (symbolic/builtins.go) has\n  %v", got, want)
	}
}

// Every built-in is a name "did you mean" can suggest, and -h describes it.
func TestEveryBuiltinIsSuggestedAndDocumented(t *testing.T) {
	docs := BuiltinDocs()
	for i, name := range BuiltinNames() {
		if got := nearest(name+"x", BuiltinNames()); got != name && len(name) > 1 {
			t.Errorf("a misspelt %s suggests %q", name, got)
		}
		if !strings.HasPrefix(docs[i], name) {
			t.Errorf("-h line %q does not describe %s", docs[i], name)
		}
	}
}
