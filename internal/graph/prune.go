package graph

import (
	"fmt"
	"sort"
	"strings"

	"slipway/internal/textutil"
)

// UnknownGoalError is a goal that names no spec and no package.
type UnknownGoalError struct {
	Goal    string
	Suggest []string // close names, if any
}

func (e *UnknownGoalError) Error() string {
	msg := fmt.Sprintf("unknown goal %q: no spec or package has that name", e.Goal)
	if len(e.Suggest) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(e.Suggest, ", "))
	}
	return msg
}

// Resolve finds the nodes for names of specs or packages. A name that is
// both a spec and a package means the spec's build.
func (g *Graph) Resolve(names []string) ([]int, error) {
	var out []int
	var errs []string
	for _, name := range names {
		i, ok := g.Lookup(name)
		if !ok {
			e := &UnknownGoalError{Goal: name, Suggest: g.suggest(name)}
			errs = append(errs, e.Error())
			continue
		}
		out = append(out, i)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return out, nil
}

// suggest returns up to three node names close to name.
func (g *Graph) suggest(name string) []string {
	type cand struct {
		name string
		dist int
	}
	var cands []cand
	seen := map[string]bool{}
	for _, n := range g.Nodes {
		if seen[n.Name] {
			continue
		}
		seen[n.Name] = true
		d := textutil.EditDistance(name, n.Name)
		if d <= 2 || strings.Contains(n.Name, name) && len(name) >= 3 {
			cands = append(cands, cand{n.Name, d})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].dist != cands[j].dist {
			return cands[i].dist < cands[j].dist
		}
		return cands[i].name < cands[j].name
	})
	var out []string
	for i := 0; i < len(cands) && i < 3; i++ {
		out = append(out, cands[i].name)
	}
	return out
}

// Direction of a traversal.
type Direction int

const (
	Forward  Direction = iota // what a node needs
	Backward                  // what needs a node
)

// Reach returns the nodes reachable from start (excluding start itself
// unless a cycle leads back), following only edges of the given kinds.
func (g *Graph) Reach(start []int, dir Direction, kinds ...EdgeKind) []int {
	follow := map[EdgeKind]bool{}
	for _, k := range kinds {
		follow[k] = true
	}
	seen := map[int]bool{}
	queue := append([]int(nil), start...)
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		edges := g.out[v]
		if dir == Backward {
			edges = g.in[v]
		}
		for _, k := range edges {
			e := g.Edges[k]
			if !follow[e.Kind] {
				continue
			}
			w := e.To
			if dir == Backward {
				w = e.From
			}
			if !seen[w] {
				seen[w] = true
				queue = append(queue, w)
			}
		}
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// Prune returns the part of the graph the goals need: the goal nodes and
// everything they reach. A package goal brings its build; a build goal
// brings its packages too (building a spec makes all of them).
func (g *Graph) Prune(goals []int) *Graph {
	start := append([]int(nil), goals...)
	for _, i := range goals {
		if g.Nodes[i].Kind == BuildNode {
			for _, k := range g.in[i] {
				if e := g.Edges[k]; e.Kind == FromEdge {
					start = append(start, e.From)
				}
			}
		}
	}
	keep := toSet(start)
	for _, n := range g.Reach(start, Forward, BuildEdge, RunEdge, FromEdge) {
		keep[n] = true
	}
	return g.subgraph(keep)
}

// subgraph copies the kept nodes, the edges between them and the reports
// that concern them.
func (g *Graph) subgraph(keep map[int]bool) *Graph {
	s := &Graph{byID: map[string]int{}}
	newIndex := map[int]int{}
	for i, n := range g.Nodes {
		if keep[i] {
			newIndex[i] = s.addNode(n)
		}
	}
	for _, e := range g.Edges {
		f, ok1 := newIndex[e.From]
		t, ok2 := newIndex[e.To]
		if ok1 && ok2 {
			e.From, e.To = f, t
			s.addEdge(e)
		}
	}
	labels := map[string]bool{}
	for i := range keep {
		labels[g.label(i)] = true
		labels[g.Nodes[i].ID] = true
	}
	for _, c := range g.Choices {
		if labels[c.Node] {
			s.Choices = append(s.Choices, c)
		}
	}
	for _, u := range g.Unresolved {
		var by []string
		for _, l := range u.NeededBy {
			if labels[l] {
				by = append(by, l)
			}
		}
		if len(by) > 0 {
			s.Unresolved = append(s.Unresolved, Unresolved{Cap: u.Cap, NeededBy: by})
		}
	}
	for _, c := range g.Cycles {
		if len(c.Members) > 0 && labels[c.Members[0]] {
			s.Cycles = append(s.Cycles, c)
		}
	}
	s.Problems = g.Problems
	return s
}
