package graph

import (
	"fmt"
	"sort"
)

// sccs returns the strongly connected components of the graph (Tarjan's
// algorithm, iterative so deep graphs cannot overflow the stack), each
// sorted, in an order where a component comes after those it reaches.
func (g *Graph) sccs(follow func(Edge) bool) [][]int {
	n := len(g.Nodes)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack, comps = []int{}, [][]int{}
	next := 0
	type frame struct{ node, edge int }
	for root := 0; root < n; root++ {
		if index[root] >= 0 {
			continue
		}
		call := []frame{{root, 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.node
			if f.edge < len(g.out[v]) {
				e := g.Edges[g.out[v][f.edge]]
				f.edge++
				if !follow(e) {
					continue
				}
				w := e.To
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] && index[w] < low[v] {
					low[v] = index[w]
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				if p := call[len(call)-1].node; low[v] < low[p] {
					low[p] = low[v]
				}
			}
			if low[v] == index[v] {
				var comp []int
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp = append(comp, w)
					if w == v {
						break
					}
				}
				sort.Ints(comp)
				comps = append(comps, comp)
			}
		}
	}
	return comps
}

func allEdges(Edge) bool { return true }

// buildCycles returns the components that contain a build and more than
// one node: no build order exists inside them. Run-time-only cycles
// (packages needing each other) are fine and not returned.
func (g *Graph) buildCycles() [][]int {
	var out [][]int
	for _, c := range g.sccs(allEdges) {
		if len(c) < 2 {
			continue
		}
		for _, n := range c {
			if g.Nodes[n].Kind == BuildNode {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// breakCycles breaks build cycles where a build edge inside the cycle can
// be served by a bootstrap twin or a pre-built package instead, records
// every cycle met (broken or not), and leaves the unbreakable ones in place.
func (g *Graph) breakCycles(alts map[[2]int][]alternative) {
	seen := map[string]bool{}
	for guard := 0; guard <= len(g.Nodes); guard++ {
		cycles := g.buildCycles()
		if len(cycles) == 0 {
			return
		}
		broke := false
		for _, comp := range cycles {
			cyc := g.describe(comp)
			if by, ok := g.breakOne(comp, alts); ok {
				cyc.BrokenBy = by
				g.Cycles = append(g.Cycles, cyc)
				broke = true
				continue
			}
			if key := fmt.Sprint(cyc.Members); !seen[key] {
				seen[key] = true
				g.Cycles = append(g.Cycles, cyc)
			}
		}
		if !broke {
			return
		}
		// Remove earlier reports of cycles that later breaking dissolved.
		g.Cycles = g.keepCurrent(g.Cycles)
	}
}

// keepCurrent keeps broken cycles and the unbroken ones still present.
func (g *Graph) keepCurrent(cycles []Cycle) []Cycle {
	live := map[string]bool{}
	for _, comp := range g.buildCycles() {
		live[fmt.Sprint(g.describe(comp).Members)] = true
	}
	var out []Cycle
	for _, c := range cycles {
		if c.BrokenBy != "" || live[fmt.Sprint(c.Members)] {
			out = append(out, c)
		}
	}
	return out
}

// breakOne re-routes one build edge of the component to an alternative
// provider outside it. It prefers the edge whose build sorts first, for
// stable results.
func (g *Graph) breakOne(comp []int, alts map[[2]int][]alternative) (string, bool) {
	in := toSet(comp)
	for _, from := range comp {
		if g.Nodes[from].Kind != BuildNode {
			continue
		}
		for _, k := range g.out[from] {
			e := g.Edges[k]
			if e.Kind != BuildEdge || !in[e.To] {
				continue
			}
			key := [2]int{from, e.To}
			for i, alt := range alts[key] {
				if in[alt.node] {
					continue
				}
				alts[key] = append(alts[key][:i:i], alts[key][i+1:]...)
				g.removeEdge(k)
				g.addEdge(Edge{From: from, To: alt.node, Kind: BuildEdge, Cap: e.Cap, Type: e.Type})
				kind := "bootstrap twin"
				if g.Nodes[alt.node].Prebuilt {
					kind = "pre-built package"
				}
				return fmt.Sprintf("%s takes %s from %s (%s) instead of %s",
					g.label(from), alt.cap, g.Nodes[alt.node].Name, kind, g.Nodes[e.To].Name), true
			}
		}
	}
	return "", false
}

// describe reports a component: its members and the shortest loop through
// its first build node.
func (g *Graph) describe(comp []int) Cycle {
	in := toSet(comp)
	var members []string
	start := -1
	for _, n := range comp {
		members = append(members, g.label(n))
		if g.Nodes[n].Kind == BuildNode && (start < 0 || g.Nodes[n].Name < g.Nodes[start].Name) {
			start = n
		}
	}
	sort.Strings(members)
	// Breadth-first from start back to start, inside the component.
	prev := map[int]int{}
	queue := []int{start}
	found := false
	for len(queue) > 0 && !found {
		v := queue[0]
		queue = queue[1:]
		for _, k := range g.out[v] {
			w := g.Edges[k].To
			if !in[w] {
				continue
			}
			if w == start {
				prev[start] = v
				found = true
				break
			}
			if _, ok := prev[w]; !ok {
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	var chain []string
	if found {
		for v := prev[start]; ; v = prev[v] {
			chain = append([]string{g.label(v)}, chain...)
			if v == start {
				break
			}
		}
	}
	return Cycle{Chain: chain, Members: members}
}
