package inspect

import (
	"bytes"
	"fmt"
	"strings"
)

// Mermaid draws what DOT draws as a Mermaid flowchart in a Markdown code
// block, which GitHub and many editors render.
func Mermaid(units []*Unit, o GraphOptions) []byte {
	pic := build(units, o)
	var b bytes.Buffer
	b.WriteString("```mermaid\nflowchart TB\n")
	classes := map[string][]string{}
	mermaidCluster(&b, pic.top, 1, classes)
	for _, e := range pic.edges {
		arrow := "-->"
		if e.backward || e.back {
			arrow = "-.->"
		}
		if e.label != "" {
			arrow += "|" + e.label + "|"
		}
		fmt.Fprintf(&b, "    %s %s %s\n", e.from, arrow, e.to)
	}
	defs := []struct{ name, style string }{
		{"param", "fill:" + paramFill + ",stroke:#3d6fb6"},
		{"input", "fill:" + inputFill + ",stroke:#868e96"},
		{"result", "fill:" + resultFill + ",stroke:#c92a2a,stroke-width:3px"},
		{"output", "stroke-width:3px"},
		{"bwd", "fill:" + backwardFill + ",stroke:" + backwardLine + ",stroke-dasharray:4 3"},
		{"grad", "fill:" + gradientFill + ",stroke:" + backwardLine + ",stroke-dasharray:4 3"},
		{"const", "fill:none,stroke:none"},
	}
	for _, d := range defs {
		if ids := classes[d.name]; len(ids) > 0 {
			fmt.Fprintf(&b, "    classDef %s %s\n", d.name, d.style)
			fmt.Fprintf(&b, "    class %s %s\n", strings.Join(ids, ","), d.name)
		}
	}
	b.WriteString("```\n")
	return b.Bytes()
}

func mermaidCluster(b *bytes.Buffer, c *cluster, depth int, classes map[string][]string) {
	ind := strings.Repeat("    ", depth)
	for _, n := range c.nodes {
		label := mermaidQuote(strings.Join(n.label, "<br/>"))
		var shape string
		switch {
		case n.result:
			shape = "{{" + label + "}}"
		case n.kind == paramNode:
			shape = "[" + label + "]"
		case n.kind == inputNode:
			shape = "[/" + label + "/]"
		case n.kind == stateNode:
			shape = "[[" + label + "]]"
		default:
			shape = "(" + label + ")"
		}
		fmt.Fprintf(b, "%s%s%s\n", ind, n.id, shape)
		class := ""
		switch {
		case n.result:
			class = "result"
		case n.gradient:
			class = "grad"
		case n.backward:
			class = "bwd"
		case n.kind == paramNode:
			class = "param"
		case n.kind == inputNode:
			class = "input"
		case n.kind == constNode:
			class = "const"
		case n.output:
			class = "output"
		}
		if class != "" {
			classes[class] = append(classes[class], n.id)
		}
	}
	for _, s := range c.subs {
		fmt.Fprintf(b, "%ssubgraph %s[%s]\n", ind, s.id, mermaidQuote(s.label))
		mermaidCluster(b, s, depth+1, classes)
		fmt.Fprintf(b, "%send\n", ind)
		if s.backward {
			fmt.Fprintf(b, "%sstyle %s stroke:%s,stroke-dasharray:4 3\n", ind, s.id, backwardLine)
		}
	}
}

// mermaidQuote quotes a label; Mermaid reads #quot; as a quotation mark.
func mermaidQuote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, "#quot;") + `"`
}
