// Package graph builds the build/run dependency graph of a spec tree.
//
// There are two kinds of nodes: the build of a spec (its SRPM, "X BUILD")
// and a binary package ("x RUN"). A build needs the packages that satisfy
// its BuildRequires (build edges); a package needs the packages that
// satisfy its Requires (run edges) and is made by its spec's build (from
// edges), unless it is pre-built (a toolchain package, or one the project
// marks), in which case it is available without building anything.
package graph

import (
	"fmt"
	"sort"
)

// NodeKind tells builds from packages.
type NodeKind string

const (
	BuildNode   NodeKind = "build"
	PackageNode NodeKind = "package"
)

// EdgeKind is why one node needs another.
type EdgeKind string

const (
	// BuildEdge: a build needs a package in its build root (BuildRequires).
	BuildEdge EdgeKind = "build"
	// RunEdge: a package needs another installed with it (Requires).
	RunEdge EdgeKind = "run"
	// FromEdge: a package is made by a build.
	FromEdge EdgeKind = "from"
)

// Node is a spec's build or a package.
type Node struct {
	ID   string   `json:"id"` // "build:<spec>" or "package:<name>"
	Kind NodeKind `json:"kind"`
	Name string   `json:"name"` // spec name or package name
	// Spec is the spec that builds this package, or the spec of a build
	// node; "" for a pre-built package no local spec builds.
	Spec string `json:"spec,omitempty"`
	EVR  string `json:"evr,omitempty"`
	Arch string `json:"arch,omitempty"`
	// Prebuilt: available without a build in this stage (toolchain, or
	// marked pre-built). A build node is pre-built when all its packages are.
	Prebuilt bool `json:"prebuilt,omitempty"`
	// Bootstrap: made by a "-bootstrap" twin spec, used only to break cycles.
	Bootstrap bool `json:"bootstrap,omitempty"`
	// Origin is the remote repository a pre-built package comes from.
	Origin string `json:"origin,omitempty"`
}

// Label is the node as cycle reports show it: "tinyc BUILD", "tinylint RUN".
func (n *Node) Label() string {
	if n.Kind == BuildNode {
		return n.Name + " BUILD"
	}
	return n.Name + " RUN"
}

// Edge is one dependency between nodes.
type Edge struct {
	From int      `json:"from"` // node index
	To   int      `json:"to"`
	Kind EdgeKind `json:"kind"`
	// Cap is the capability that made the edge (empty for from edges).
	Cap string `json:"cap,omitempty"`
	// Type is rpm's dependency type of a Requires: pre, post, ... ("" = plain).
	Type string `json:"type,omitempty"`
}

// Choice records how a capability with several providers was resolved.
type Choice struct {
	Node       string   `json:"node"` // the node that needed it (ID)
	Cap        string   `json:"cap"`
	Candidates []string `json:"candidates"` // package names, sorted
	Chosen     []string `json:"chosen"`
	Reason     string   `json:"reason"`
}

// Unresolved is a capability nothing in the graph provides.
type Unresolved struct {
	Cap      string   `json:"cap"`
	NeededBy []string `json:"neededBy"` // node labels, sorted
}

// Cycle is a strongly connected set of nodes that contains a build: no
// build order exists for it unless it is broken.
type Cycle struct {
	// Chain is one concrete loop through the set, as node labels:
	// "A BUILD", "b RUN", "B BUILD", "a RUN" (the last needs the first).
	Chain []string `json:"chain"`
	// Members are all nodes in the set, sorted.
	Members []string `json:"members"`
	// BrokenBy says how the cycle was broken ("" if it was not): the
	// capability and the bootstrap or pre-built package that now provides it.
	BrokenBy string `json:"brokenBy,omitempty"`
}

// String renders the chain: "A BUILD -> b RUN -> B BUILD -> a RUN".
func (c Cycle) String() string {
	s := ""
	for i, l := range c.Chain {
		if i > 0 {
			s += " -> "
		}
		s += l
	}
	return s
}

// Graph is the resolved graph of a tree.
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
	// Choices between several providers, with the reason for each.
	Choices []Choice `json:"choices,omitempty"`
	// Unresolved capabilities (expected from a toolchain or a remote repo).
	Unresolved []Unresolved `json:"unresolved,omitempty"`
	// Cycles through builds: the broken ones (with BrokenBy) and the rest.
	Cycles []Cycle `json:"cycles,omitempty"`
	// Problems found while building the graph: duplicate package names,
	// unparsable dependencies.
	Problems []string `json:"problems,omitempty"`

	byID map[string]int
	out  [][]int // edge indices by source node
	in   [][]int // edge indices by target node
}

// Node returns the node with the given ID.
func (g *Graph) Node(id string) (*Node, bool) {
	i, ok := g.byID[id]
	if !ok {
		return nil, false
	}
	return &g.Nodes[i], true
}

// Index returns the index of the node with the given ID.
func (g *Graph) Index(id string) (int, bool) {
	i, ok := g.byID[id]
	return i, ok
}

// Lookup finds a node by spec or package name: a spec's build when a spec
// has that name, else the package.
func (g *Graph) Lookup(name string) (int, bool) {
	if i, ok := g.byID[BuildID(name)]; ok {
		return i, true
	}
	i, ok := g.byID[PackageID(name)]
	return i, ok
}

// BuildID and PackageID name nodes.
func BuildID(spec string) string  { return "build:" + spec }
func PackageID(pkg string) string { return "package:" + pkg }

// Out returns the edges leaving node i.
func (g *Graph) Out(i int) []Edge { return g.edgesAt(g.out[i]) }

// In returns the edges entering node i.
func (g *Graph) In(i int) []Edge { return g.edgesAt(g.in[i]) }

func (g *Graph) edgesAt(idx []int) []Edge {
	out := make([]Edge, len(idx))
	for k, e := range idx {
		out[k] = g.Edges[e]
	}
	return out
}

func (g *Graph) addNode(n Node) int {
	if i, ok := g.byID[n.ID]; ok {
		return i
	}
	g.Nodes = append(g.Nodes, n)
	g.out = append(g.out, nil)
	g.in = append(g.in, nil)
	i := len(g.Nodes) - 1
	g.byID[n.ID] = i
	return i
}

func (g *Graph) addEdge(e Edge) {
	for _, k := range g.out[e.From] {
		old := g.Edges[k]
		if old.To == e.To && old.Kind == e.Kind {
			return // one edge per pair and kind is enough for ordering
		}
	}
	g.Edges = append(g.Edges, e)
	g.out[e.From] = append(g.out[e.From], len(g.Edges)-1)
	g.in[e.To] = append(g.in[e.To], len(g.Edges)-1)
}

// removeEdge drops edge k (used when a cycle is broken).
func (g *Graph) removeEdge(k int) {
	e := g.Edges[k]
	g.out[e.From] = without(g.out[e.From], k)
	g.in[e.To] = without(g.in[e.To], k)
}

func without(s []int, v int) []int {
	out := s[:0:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// reindex rebuilds the edge list without removed edges, so the exported
// Edges hold exactly the live ones, sorted for stable output.
func (g *Graph) reindex() {
	var live []Edge
	for i := range g.Nodes {
		for _, k := range g.out[i] {
			live = append(live, g.Edges[k])
		}
	}
	sort.SliceStable(live, func(a, b int) bool {
		x, y := live[a], live[b]
		if x.From != y.From {
			return x.From < y.From
		}
		if x.To != y.To {
			return x.To < y.To
		}
		return x.Kind < y.Kind
	})
	g.Edges = live
	for i := range g.Nodes {
		g.out[i], g.in[i] = nil, nil
	}
	for k, e := range g.Edges {
		g.out[e.From] = append(g.out[e.From], k)
		g.in[e.To] = append(g.in[e.To], k)
	}
}

// BuildCount is the number of build nodes that are not pre-built.
func (g *Graph) BuildCount() int {
	n := 0
	for _, node := range g.Nodes {
		if node.Kind == BuildNode && !node.Prebuilt {
			n++
		}
	}
	return n
}

func (g *Graph) label(i int) string { return g.Nodes[i].Label() }

func (g *Graph) problemf(format string, args ...any) {
	g.Problems = append(g.Problems, fmt.Sprintf(format, args...))
}
