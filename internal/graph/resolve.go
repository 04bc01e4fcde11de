package graph

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"slipway/internal/rpm"
	"slipway/internal/spec"
)

// resolver finds the packages that satisfy capabilities.
type resolver struct {
	g        *Graph
	provides map[string][]provide // capability name -> provides
	files    map[string][]int     // %files path -> package nodes (a directory brings its contents)
	dirs     map[string][]int     // %dir directories -> package nodes (the directory alone)
	globs    []fileGlob
	missing  map[string]map[string]bool // capability -> labels of nodes needing it
	// alternatives lists, per build edge (from, to), the bootstrap or
	// pre-built providers that could replace the chosen one, to break cycles.
	alternatives map[[2]int][]alternative
}

type provide struct {
	node int
	dep  rpm.Dep
}

type fileGlob struct {
	pattern string
	node    int
}

type alternative struct {
	node int
	cap  string
}

func newResolver(g *Graph) *resolver {
	return &resolver{g: g, provides: map[string][]provide{}, files: map[string][]int{}, dirs: map[string][]int{},
		missing: map[string]map[string]bool{}, alternatives: map[[2]int][]alternative{}}
}

func (r *resolver) addProvide(node int, d rpm.Dep) {
	r.provides[d.Name] = append(r.provides[d.Name], provide{node, d})
}

// addPackage indexes a package's Provides and the paths of its %files.
func (r *resolver) addPackage(node int, p spec.Package) {
	for _, d := range p.Provides {
		dep, err := toDep(d)
		if err != nil {
			r.g.problemf("%s: Provides %q: %v", p.Name, d.String(), err)
			continue
		}
		r.addProvide(node, dep)
	}
	r.addFiles(node, p.Files)
}

// addKnown indexes what an RPM header says a package provides and holds.
func (r *resolver) addKnown(node int, p Prebuilt) {
	for _, d := range p.Provides {
		r.addProvide(node, d)
	}
	r.addFiles(node, p.Files)
}

// addFiles indexes paths a package holds (or, from %files, globs).
func (r *resolver) addFiles(node int, files []string) {
	for _, f := range files {
		if strings.Contains(f, "%") {
			continue // an unexpanded macro: not a path anyone can name
		}
		if strings.HasSuffix(f, "/") { // a %dir directory (or "/", which no package fills)
			r.dirs[path.Clean(f)] = append(r.dirs[path.Clean(f)], node)
			continue
		}
		f = path.Clean(f)
		if strings.ContainsAny(f, "*?[") {
			r.globs = append(r.globs, fileGlob{f, node})
		} else {
			r.files[f] = append(r.files[f], node)
		}
	}
}

// toDep converts rpm's report of a simple dependency.
func toDep(d spec.Dep) (rpm.Dep, error) {
	dep := rpm.Dep{Name: d.Name}
	if d.Flags == "" {
		return dep, nil
	}
	op, err := rpm.ParseOp(d.Flags)
	if err != nil {
		return dep, err
	}
	dep.Op, dep.EVR = op, rpm.ParseEVR(d.Version)
	return dep, nil
}

// resolveAll adds the edges for a node's dependencies. Simple ones go
// first, so conditions of rich dependencies (a if b) can look at them.
func (r *resolver) resolveAll(from int, deps []spec.Dep, kind EdgeKind) {
	direct := map[int]bool{}
	var rich []spec.Dep
	for _, d := range deps {
		if d.IsRPMLib() {
			continue
		}
		if rpm.IsRich(d.Name) {
			rich = append(rich, d)
			continue
		}
		req, err := toDep(d)
		if err != nil {
			r.g.problemf("%s: %q: %v", r.g.label(from), d.String(), err)
			continue
		}
		if to, ok := r.resolveLeaf(from, req, d.String()); ok {
			r.link(from, to, kind, d)
			direct[to] = true
		}
	}
	for _, d := range rich {
		expr, err := rpm.ParseExpr(d.Name)
		if err != nil {
			r.g.problemf("%s: %v", r.g.label(from), err)
			continue
		}
		targets, ok := r.evalRich(from, expr, direct)
		if !ok {
			r.markMissing(d.Name, from)
			continue
		}
		for _, to := range targets {
			r.link(from, to, kind, d)
		}
	}
}

func (r *resolver) link(from, to int, kind EdgeKind, d spec.Dep) {
	typ := d.Type
	if typ == "manual" || typ == "auto" {
		typ = ""
	}
	r.g.addEdge(Edge{From: from, To: to, Kind: kind, Cap: d.String(), Type: typ})
}

// candidates returns the package nodes satisfying a simple requirement.
func (r *resolver) candidates(req rpm.Dep) []int {
	seen := map[int]bool{}
	var out []int
	add := func(n int) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, p := range r.provides[req.Name] {
		if rpm.Satisfies(p.dep, req) {
			add(p.node)
		}
	}
	if strings.HasPrefix(req.Name, "/") && req.Op == 0 {
		for _, n := range r.fileOwners(req.Name) {
			add(n)
		}
	}
	sort.Ints(out)
	return out
}

// fileOwners finds packages whose %files list the path, a directory
// above it (a listed directory brings its contents), or a glob matching it.
func (r *resolver) fileOwners(p string) []int {
	out := append([]int(nil), r.dirs[path.Clean(p)]...)
	for dir := path.Clean(p); ; dir = path.Dir(dir) {
		out = append(out, r.files[dir]...)
		if dir == "/" || dir == "." {
			break
		}
	}
	for _, g := range r.globs {
		if ok, _ := path.Match(g.pattern, p); ok {
			out = append(out, g.node)
		}
	}
	return out
}

// resolveLeaf picks the provider of a simple requirement, recording the
// choice when there were several and the requirement when there was none.
func (r *resolver) resolveLeaf(from int, req rpm.Dep, text string) (int, bool) {
	cands := r.candidates(req)
	if len(cands) == 0 {
		r.markMissing(text, from)
		return 0, false
	}
	chosen, reason := r.choose(req.Name, cands)
	if len(cands) > 1 {
		names := make([]string, len(cands))
		for i, c := range cands {
			names[i] = r.g.Nodes[c].Name
		}
		sort.Strings(names)
		r.g.Choices = append(r.g.Choices, Choice{Node: r.g.Nodes[from].ID, Cap: text,
			Candidates: names, Chosen: []string{r.g.Nodes[chosen].Name}, Reason: reason})
	}
	if r.g.Nodes[from].Kind == BuildNode {
		for _, c := range cands {
			if c != chosen && (r.g.Nodes[c].Bootstrap || r.g.Nodes[c].Prebuilt) {
				key := [2]int{from, chosen}
				r.alternatives[key] = append(r.alternatives[key], alternative{c, text})
			}
		}
	}
	return chosen, true
}

// choose ranks providers: a package whose name is the capability, then
// packages not from a bootstrap twin, then pre-built ones, then the
// highest version, then the name. The reason names the rule that decided.
func (r *resolver) choose(capName string, cands []int) (int, string) {
	if len(cands) == 1 {
		return cands[0], ""
	}
	nodes := r.g.Nodes
	rules := []struct {
		why  string
		less func(a, b *Node) int // <0: a preferred
	}{
		{"its name is the capability", func(a, b *Node) int { return boolRank(a.Name == capName, b.Name == capName) }},
		{"bootstrap twins are kept for breaking cycles", func(a, b *Node) int { return boolRank(!a.Bootstrap, !b.Bootstrap) }},
		{"it is pre-built", func(a, b *Node) int { return boolRank(a.Prebuilt, b.Prebuilt) }},
		{"it has the highest version", func(a, b *Node) int { return -rpm.CompareEVR(rpm.ParseEVR(a.EVR), rpm.ParseEVR(b.EVR)) }},
		{"its name sorts first", func(a, b *Node) int { return strings.Compare(a.Name, b.Name) }},
	}
	best := append([]int(nil), cands...)
	for _, rule := range rules {
		top := []int{best[0]}
		for _, c := range best[1:] {
			switch d := rule.less(&nodes[c], &nodes[top[0]]); {
			case d < 0:
				top = []int{c}
			case d == 0:
				top = append(top, c)
			}
		}
		if len(top) == 1 {
			return top[0], fmt.Sprintf("chose %s: %s", nodes[top[0]].Name, rule.why)
		}
		best = top
	}
	return best[0], fmt.Sprintf("chose %s", nodes[best[0]].Name)
}

func boolRank(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// evalRich resolves a rich dependency to the packages it brings in:
// "and" needs all operands, "or" takes the first operand that resolves,
// "with"/"without" need one package that provides (or lacks) both, and
// "if"/"unless" test their condition against the packages the node
// already needs directly (what will be installed with it).
func (r *resolver) evalRich(from int, e *rpm.Expr, direct map[int]bool) ([]int, bool) {
	if e.Leaf != nil {
		to, ok := r.resolveLeaf(from, *e.Leaf, e.Leaf.String())
		if !ok {
			return nil, false
		}
		return []int{to}, true
	}
	switch e.Op {
	case rpm.RichAnd:
		var all []int
		for _, a := range e.Args {
			t, ok := r.evalRich(from, a, direct)
			if !ok {
				return nil, false
			}
			all = append(all, t...)
		}
		return all, true
	case rpm.RichOr:
		for _, a := range e.Args {
			if r.satisfiable(a) {
				return r.evalRich(from, a, direct)
			}
		}
		return nil, false
	case rpm.RichWith, rpm.RichWithout:
		if len(e.Args) != 2 || e.Args[0].Leaf == nil || e.Args[1].Leaf == nil {
			return nil, false
		}
		a := r.candidates(*e.Args[0].Leaf)
		b := toSet(r.candidates(*e.Args[1].Leaf))
		var keep []int
		for _, c := range a {
			if b[c] == (e.Op == rpm.RichWith) {
				keep = append(keep, c)
			}
		}
		if len(keep) == 0 {
			return nil, false
		}
		chosen, _ := r.choose(e.Args[0].Leaf.Name, keep)
		return []int{chosen}, true
	case rpm.RichIf, rpm.RichUnless:
		cond := r.holds(e.Args[1], direct)
		if e.Op == rpm.RichUnless {
			cond = !cond
		}
		switch {
		case cond:
			return r.evalRich(from, e.Args[0], direct)
		case len(e.Args) == 3:
			return r.evalRich(from, e.Args[2], direct)
		}
		return nil, true // condition false, no else: nothing needed
	}
	return nil, false
}

// satisfiable reports, without recording anything, whether some package
// could satisfy the expression.
func (r *resolver) satisfiable(e *rpm.Expr) bool {
	if e.Leaf != nil {
		return len(r.candidates(*e.Leaf)) > 0
	}
	switch e.Op {
	case rpm.RichAnd:
		for _, a := range e.Args {
			if !r.satisfiable(a) {
				return false
			}
		}
		return true
	case rpm.RichOr:
		for _, a := range e.Args {
			if r.satisfiable(a) {
				return true
			}
		}
		return false
	}
	return true // with/without/if/unless: decided when evaluated
}

// holds reports whether a condition is met by the packages in direct.
func (r *resolver) holds(e *rpm.Expr, direct map[int]bool) bool {
	if e.Leaf != nil {
		for _, c := range r.candidates(*e.Leaf) {
			if direct[c] {
				return true
			}
		}
		return false
	}
	switch e.Op {
	case rpm.RichAnd:
		for _, a := range e.Args {
			if !r.holds(a, direct) {
				return false
			}
		}
		return true
	case rpm.RichOr:
		for _, a := range e.Args {
			if r.holds(a, direct) {
				return true
			}
		}
	}
	return false
}

func toSet(s []int) map[int]bool {
	m := make(map[int]bool, len(s))
	for _, x := range s {
		m[x] = true
	}
	return m
}

func (r *resolver) markMissing(capText string, from int) {
	if r.missing[capText] == nil {
		r.missing[capText] = map[string]bool{}
	}
	r.missing[capText][r.g.label(from)] = true
}

func (r *resolver) unresolvedList() []Unresolved {
	var out []Unresolved
	for _, c := range slices.Sorted(maps.Keys(r.missing)) {
		out = append(out, Unresolved{Cap: c, NeededBy: slices.Sorted(maps.Keys(r.missing[c]))})
	}
	return out
}
