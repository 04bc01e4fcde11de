package graph

import (
	"sort"
)

// BuildDeps returns, for every build node that is not pre-built, the
// builds it directly waits for: the builds of every package its
// BuildRequires bring into its build root, with their run-time closure.
// Builds caught in an unbroken cycle wait for each other.
func (g *Graph) BuildDeps() map[int][]int {
	// Package-level components (run edges only), and for each the builds
	// its members and everything they need at run time come from.
	isRun := func(e Edge) bool { return e.Kind == RunEdge }
	comps := g.sccs(isRun) // successors first
	compOf := make([]int, len(g.Nodes))
	for c, members := range comps {
		for _, n := range members {
			compOf[n] = c
		}
	}
	needs := make([]map[int]bool, len(comps))
	for c, members := range comps {
		set := map[int]bool{}
		for _, n := range members {
			if g.Nodes[n].Kind != PackageNode {
				continue
			}
			for _, k := range g.out[n] {
				e := g.Edges[k]
				switch e.Kind {
				case FromEdge:
					set[e.To] = true
				case RunEdge:
					if d := compOf[e.To]; d != c {
						for b := range needs[d] { // d is done: Tarjan emits successors first
							set[b] = true
						}
					}
				}
			}
		}
		needs[c] = set
	}

	deps := map[int][]int{}
	for i, n := range g.Nodes {
		if n.Kind != BuildNode || n.Prebuilt {
			continue
		}
		set := map[int]bool{}
		for _, k := range g.out[i] {
			if e := g.Edges[k]; e.Kind == BuildEdge {
				for b := range needs[compOf[e.To]] {
					set[b] = true
				}
			}
		}
		list := make([]int, 0, len(set))
		for b := range set {
			list = append(list, b)
		}
		sort.Ints(list)
		deps[i] = list
	}
	return deps
}

// Order is a valid build order of the builds.
type Order struct {
	// Waves: builds in a wave need only builds of earlier waves, so a wave
	// can run in parallel. Sorted by name inside a wave.
	Waves [][]string `json:"waves"`
	// Blocked builds wait, directly or not, on a build cycle.
	Blocked []string `json:"blocked,omitempty"`
	// CriticalPath is the longest chain of builds, each needing the one
	// before; its length is the fewest build steps the stage can take.
	CriticalPath []string `json:"criticalPath"`
}

// BuildOrder orders the builds that are not pre-built (Kahn's algorithm,
// wave by wave) and finds the critical path.
func (g *Graph) BuildOrder() Order {
	deps := g.BuildDeps()
	indeg := map[int]int{}
	users := map[int][]int{}
	for b, ds := range deps {
		indeg[b] += 0
		for _, d := range ds {
			if _, ok := deps[d]; !ok {
				continue // a pre-built spec's build: nothing to wait for
			}
			indeg[b]++
			users[d] = append(users[d], b)
		}
	}
	var wave []int
	for b, n := range indeg {
		if n == 0 {
			wave = append(wave, b)
		}
	}
	depth := map[int]int{}  // longest chain ending at b, in builds
	parent := map[int]int{} // previous build on that chain
	var o Order
	done := 0
	for len(wave) > 0 {
		g.sortByName(wave)
		names := make([]string, len(wave))
		var next []int
		for i, b := range wave {
			names[i] = g.Nodes[b].Name
			if depth[b] == 0 {
				depth[b] = 1
			}
			for _, u := range users[b] {
				if depth[b]+1 > depth[u] {
					depth[u], parent[u] = depth[b]+1, b
				}
				if indeg[u]--; indeg[u] == 0 {
					next = append(next, u)
				}
			}
		}
		done += len(wave)
		o.Waves = append(o.Waves, names)
		wave = next
	}
	for b, n := range indeg {
		if n > 0 {
			o.Blocked = append(o.Blocked, g.Nodes[b].Name)
		}
	}
	sort.Strings(o.Blocked)

	end, best := -1, 0
	for b, d := range depth {
		if d > best || d == best && end >= 0 && g.Nodes[b].Name < g.Nodes[end].Name {
			end, best = b, d
		}
	}
	for b, ok := end, end >= 0; ok; b, ok = parent[b] {
		o.CriticalPath = append([]string{g.Nodes[b].Name}, o.CriticalPath...)
	}
	return o
}

func (g *Graph) sortByName(nodes []int) {
	sort.Slice(nodes, func(i, j int) bool { return g.Nodes[nodes[i]].Name < g.Nodes[nodes[j]].Name })
}
