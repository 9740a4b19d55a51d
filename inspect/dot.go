package inspect

import (
	"bytes"
	"fmt"
	"strings"
)

// The colours of both formats: params blue, inputs grey, the loss red,
// derivatives orange and dashed, the gradients returned a darker orange.
const (
	paramFill    = "#cfe2ff"
	inputFill    = "#e9ecef"
	resultFill   = "#f8c9cf"
	backwardFill = "#fff1e0"
	backwardLine = "#d9480f"
	gradientFill = "#ffc078"
	loopFill     = "#f8f9fa"
)

// DOT draws the forward and backward graphs of units as a Graphviz
// digraph: one node per operation, labelled with its op and shape, one
// edge per argument, a cluster per .bp line (a loop is a cluster drawn
// once, holding its body's lines), the backward pass dashed and orange.
func DOT(units []*Unit, o GraphOptions) []byte {
	pic := build(units, o)
	var b bytes.Buffer
	name := strings.TrimSuffix(o.File, ".bp")
	fmt.Fprintf(&b, "// Graph of %s drawn by backpropgen", o.File)
	if o.Forward {
		b.WriteString(" (forward pass only)")
	}
	b.WriteString(".\n// Params: blue boxes; inputs: grey; the loss: red, double border; outputs: double border;\n")
	b.WriteString("// backward pass: dashed, orange (the gradients it returns filled darker).\n")
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(name))
	b.WriteString("\tgraph [rankdir=TB, fontname=\"Helvetica\", fontsize=11, labeljust=l, style=rounded, newrank=true];\n")
	b.WriteString("\tnode [fontname=\"Helvetica\", fontsize=10, shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n")
	b.WriteString("\tedge [fontname=\"Helvetica\", fontsize=9, color=\"#495057\"];\n")
	dotCluster(&b, pic.top, 1)
	for _, e := range pic.edges {
		var attrs []string
		if e.label != "" {
			attrs = append(attrs, "label="+dotQuote(e.label))
		}
		if e.backward {
			attrs = append(attrs, "style=dashed", "color=\""+backwardLine+"\"")
		}
		if e.back {
			attrs = append(attrs, "constraint=false", "style=dotted")
		}
		fmt.Fprintf(&b, "\t%s -> %s", e.from, e.to)
		if len(attrs) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(attrs, ", "))
		}
		b.WriteString(";\n")
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func dotCluster(b *bytes.Buffer, c *cluster, depth int) {
	ind := strings.Repeat("\t", depth)
	for _, n := range c.nodes {
		fmt.Fprintf(b, "%s%s [%s];\n", ind, n.id, strings.Join(dotAttrs(n), ", "))
	}
	for _, s := range c.subs {
		fmt.Fprintf(b, "%ssubgraph %s {\n", ind, s.id)
		attrs := []string{"label=" + dotQuote(s.label)}
		switch {
		case s.loop && s.backward:
			attrs = append(attrs, "style=\"rounded,dashed,filled\"", "fillcolor=\""+loopFill+"\"", "color=\""+backwardLine+"\"")
		case s.loop:
			attrs = append(attrs, "style=\"rounded,filled\"", "fillcolor=\""+loopFill+"\"", "color=\"#495057\"")
		case s.backward:
			attrs = append(attrs, "style=\"rounded,dashed\"", "color=\""+backwardLine+"\"", "fontcolor=\""+backwardLine+"\"")
		default:
			attrs = append(attrs, "color=\"#adb5bd\"")
		}
		fmt.Fprintf(b, "%s\tgraph [%s];\n", ind, strings.Join(attrs, ", "))
		dotCluster(b, s, depth+1)
		fmt.Fprintf(b, "%s}\n", ind)
	}
}

func dotAttrs(n *pnode) []string {
	attrs := []string{"label=" + dotQuote(strings.Join(n.label, "\n"))}
	switch n.kind {
	case paramNode:
		attrs = append(attrs, "shape=box", "style=filled", "fillcolor=\""+paramFill+"\"")
	case inputNode:
		attrs = append(attrs, "shape=parallelogram", "style=filled", "fillcolor=\""+inputFill+"\"")
	case constNode:
		attrs = append(attrs, "shape=plaintext", "style=\"\"")
	case stateNode:
		attrs = append(attrs, "shape=box", "style=\"filled,diagonals\"", "fillcolor=\"#ffffff\"")
	}
	switch {
	case n.result:
		attrs = append(attrs, "shape=doubleoctagon", "fillcolor=\""+resultFill+"\"")
	case n.gradient:
		attrs = append(attrs, "style=\"rounded,filled,dashed\"", "fillcolor=\""+gradientFill+"\"", "color=\""+backwardLine+"\"")
	case n.backward:
		attrs = append(attrs, "style=\"rounded,filled,dashed\"", "fillcolor=\""+backwardFill+"\"", "color=\""+backwardLine+"\"")
	}
	if n.output {
		attrs = append(attrs, "peripheries=2")
	}
	return attrs
}

// dotQuote quotes s as a DOT string.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
