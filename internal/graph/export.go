package graph

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// JSONFormat names the version of the JSON document WriteJSON produces
// (documented in docs/graph-json.md). Fields are only ever added to v1.
const JSONFormat = "slipway-graph/v1"

type jsonEdge struct {
	From string   `json:"from"`
	To   string   `json:"to"`
	Kind EdgeKind `json:"kind"`
	Cap  string   `json:"cap,omitempty"`
	Type string   `json:"type,omitempty"`
}

type jsonGraph struct {
	Format     string       `json:"format"`
	Nodes      []Node       `json:"nodes"`
	Edges      []jsonEdge   `json:"edges"`
	Order      Order        `json:"order"`
	Choices    []Choice     `json:"choices"`
	Unresolved []Unresolved `json:"unresolved"`
	Cycles     []Cycle      `json:"cycles"`
	Problems   []string     `json:"problems"`
}

// WriteJSON writes the graph, its build order and its reports as JSON.
func (g *Graph) WriteJSON(w io.Writer) error {
	doc := jsonGraph{
		Format: JSONFormat, Nodes: g.Nodes, Order: g.BuildOrder(),
		Choices: g.Choices, Unresolved: g.Unresolved, Cycles: g.Cycles, Problems: g.Problems,
	}
	doc.Edges = make([]jsonEdge, len(g.Edges))
	for i, e := range g.Edges {
		doc.Edges[i] = jsonEdge{g.Nodes[e.From].ID, g.Nodes[e.To].ID, e.Kind, e.Cap, e.Type}
	}
	if doc.Problems == nil {
		doc.Problems = []string{}
	}
	if doc.Choices == nil {
		doc.Choices = []Choice{}
	}
	if doc.Unresolved == nil {
		doc.Unresolved = []Unresolved{}
	}
	if doc.Cycles == nil {
		doc.Cycles = []Cycle{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// WriteDOT writes the graph for Graphviz: builds are boxes, packages
// ellipses; pre-built nodes are grey, bootstrap twins dashed; build edges
// are blue, run edges black, "made by" edges grey and dotted. Edges of an
// unbroken build cycle are red.
func (g *Graph) WriteDOT(w io.Writer) error {
	inCycle := map[[2]string]bool{}
	for _, c := range g.Cycles {
		if c.BrokenBy != "" || len(c.Chain) == 0 {
			continue
		}
		for i := range c.Chain {
			inCycle[[2]string{c.Chain[i], c.Chain[(i+1)%len(c.Chain)]}] = true
		}
	}
	var b strings.Builder
	b.WriteString("digraph slipway {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n")
	for _, n := range g.Nodes {
		attrs := []string{"label=" + quote(n.Label())}
		if n.Kind == BuildNode {
			attrs = append(attrs, "shape=box")
		} else {
			attrs = append(attrs, "shape=ellipse")
		}
		var style []string
		if n.Prebuilt {
			style = append(style, "filled")
			attrs = append(attrs, "fillcolor=lightgrey")
		}
		if n.Bootstrap {
			style = append(style, "dashed")
		}
		if len(style) > 0 {
			attrs = append(attrs, "style="+quote(strings.Join(style, ",")))
		}
		fmt.Fprintf(&b, "  %s [%s];\n", quote(n.ID), strings.Join(attrs, ", "))
	}
	for _, e := range g.Edges {
		from, to := &g.Nodes[e.From], &g.Nodes[e.To]
		var attrs []string
		switch e.Kind {
		case BuildEdge:
			attrs = append(attrs, "color=blue")
		case FromEdge:
			attrs = append(attrs, "color=grey", "style=dotted")
		}
		if inCycle[[2]string{from.Label(), to.Label()}] {
			attrs = append(attrs, "color=red", "penwidth=2")
		}
		if e.Cap != "" && e.Cap != to.Name {
			attrs = append(attrs, "label="+quote(e.Cap))
		}
		fmt.Fprintf(&b, "  %s -> %s", quote(from.ID), quote(to.ID))
		if len(attrs) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(attrs, ", "))
		}
		b.WriteString(";\n")
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// quote makes a DOT string literal.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
