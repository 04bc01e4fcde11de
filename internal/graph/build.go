package graph

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"slipway/internal/rpm"
	"slipway/internal/spec"
)

// Prebuilt is a package that exists without being built in this stage.
// From a manifest only its name and version are known; from its RPM file
// also what it provides and the files it holds.
type Prebuilt struct {
	Name, EVR, Arch string
	Provides        []rpm.Dep // besides "Name = EVR"
	Files           []string
	// Origin names the remote repository the package comes from ("" for
	// the toolchain's and marked ones). A remote package is installed
	// where it is needed, so its Requires are resolved too.
	Origin   string
	Requires []spec.Dep
}

// PrebuiltFromHeader describes a pre-built package by its RPM header.
func PrebuiltFromHeader(h *rpm.Header) Prebuilt {
	p := Prebuilt{Name: h.Name, EVR: rpm.EVR{Epoch: h.Epoch, Version: h.Version, Release: h.Release}.String(),
		Arch: h.Arch, Files: h.Files}
	for _, d := range h.Provides {
		dep := rpm.Dep{Name: d.Name}
		if op, err := rpm.ParseOp(d.Flags); err == nil && d.Flags != "" {
			dep.Op, dep.EVR = op, rpm.ParseEVR(d.Version)
		}
		p.Provides = append(p.Provides, dep)
	}
	return p
}

// Input is what a graph is built from.
type Input struct {
	Specs []*spec.Info
	// Prebuilt packages (the toolchain manifest's, and names the project
	// marks). A local package with the same name is taken as pre-built.
	Prebuilt []Prebuilt
	// Learned are what local packages were seen to provide in their last
	// built RPMs: the generated provides (sonames, pkgconfig(), perl(),
	// ...) and file lists that specs do not declare. They resolve
	// BuildRequires before the providers are built again.
	Learned []Prebuilt
	// Arch is the target architecture; specs whose ExclusiveArch or
	// ExcludeArch rule it out are left out of the graph.
	Arch string
}

// Build resolves the dependencies of every spec and returns the graph,
// with build cycles broken where a bootstrap twin or pre-built package can
// break them, and the rest reported.
func Build(in Input) *Graph {
	g := &Graph{byID: map[string]int{}}
	r := newResolver(g)

	specs := append([]*spec.Info(nil), in.Specs...)
	sort.Slice(specs, func(i, j int) bool { return specs[i].Path < specs[j].Path })
	prebuilt := map[string]Prebuilt{}
	for _, p := range in.Prebuilt {
		prebuilt[p.Name] = p
	}
	learned := map[string]Prebuilt{}
	for _, p := range in.Learned {
		learned[p.Name] = p
	}

	// Nodes: every build and every package it makes.
	var included []*spec.Info
	owner := map[string]string{} // package name -> spec path
	for _, s := range specs {
		if !buildsFor(s, in.Arch) {
			g.problemf("%s: not built for %s (ExclusiveArch %v, ExcludeArch %v)", s.Path, in.Arch, s.ExclusiveArch, s.ExcludeArch)
			continue
		}
		if _, dup := g.byID[BuildID(s.Name)]; dup {
			g.problemf("%s: another spec is also named %q; it is left out", s.Path, s.Name)
			continue
		}
		included = append(included, s)
		b := g.addNode(Node{ID: BuildID(s.Name), Kind: BuildNode, Name: s.Name, Spec: s.Name,
			EVR: s.SRPM.EVR(), Bootstrap: isBootstrap(s.Name)})
		allPrebuilt, any := true, false
		for _, p := range s.BuiltPackages() {
			if other, dup := owner[p.Name]; dup {
				g.problemf("%s: package %s is also built by %s; that one is used", s.Path, p.Name, other)
				continue
			}
			owner[p.Name] = s.Path
			known, pre := prebuilt[p.Name]
			n := g.addNode(Node{ID: PackageID(p.Name), Kind: PackageNode, Name: p.Name, Spec: s.Name,
				EVR: p.EVR(), Arch: p.Arch, Prebuilt: pre, Bootstrap: isBootstrap(s.Name), Origin: known.Origin})
			r.addPackage(n, p)
			// What its RPM header says beyond the spec: the pre-built
			// RPM's, or the last local build's.
			if !pre {
				known = learned[p.Name]
			}
			r.addKnown(n, known)
			any = true
			if !pre {
				allPrebuilt = false
				g.addEdge(Edge{From: n, To: b, Kind: FromEdge})
			}
		}
		g.Nodes[b].Prebuilt = any && allPrebuilt
	}
	for _, name := range slices.Sorted(maps.Keys(prebuilt)) {
		if _, ok := owner[name]; ok {
			continue
		}
		p := prebuilt[name]
		n := g.addNode(Node{ID: PackageID(name), Kind: PackageNode, Name: name, EVR: p.EVR, Arch: p.Arch, Prebuilt: true, Origin: p.Origin})
		r.addProvide(n, rpm.Dep{Name: name, Op: rpm.EQ, EVR: rpm.ParseEVR(p.EVR)})
		r.addKnown(n, p)
	}
	// Remote packages (after every provider is known), those of local
	// specs taken from a repository too.
	for _, name := range slices.Sorted(maps.Keys(prebuilt)) {
		if n, ok := g.byID[PackageID(name)]; ok && g.Nodes[n].Origin != "" {
			r.resolveAll(n, prebuilt[name].Requires, RunEdge)
		}
	}

	// Edges: BuildRequires of builds, Requires of packages.
	for _, s := range included {
		b := g.byID[BuildID(s.Name)]
		if g.Nodes[b].Prebuilt {
			continue // the toolchain made it; its build is not part of this stage
		}
		r.resolveAll(b, s.BuildRequires, BuildEdge)
		for _, p := range s.BuiltPackages() {
			if n, ok := g.byID[PackageID(p.Name)]; ok && g.Nodes[n].Spec == s.Name {
				r.resolveAll(n, p.Requires, RunEdge)
			}
		}
	}
	g.Unresolved = r.unresolvedList()
	g.breakCycles(r.alternatives)
	g.reindex()
	return g
}

// buildsFor applies ExclusiveArch and ExcludeArch; noarch specs build anywhere.
func buildsFor(s *spec.Info, arch string) bool {
	if arch == "" {
		return true
	}
	if len(s.ExclusiveArch) > 0 && !contains(s.ExclusiveArch, arch) && !contains(s.ExclusiveArch, "noarch") {
		return false
	}
	return !contains(s.ExcludeArch, arch)
}

func isBootstrap(specName string) bool { return strings.HasSuffix(specName, "-bootstrap") }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ParseRPMFileName splits "name-version-release.arch.rpm" into a Prebuilt.
func ParseRPMFileName(file string) (Prebuilt, error) {
	base := strings.TrimSuffix(file, ".rpm")
	dot := strings.LastIndexByte(base, '.')
	if base == file || dot < 0 {
		return Prebuilt{}, fmt.Errorf("%q is not an RPM file name (name-version-release.arch.rpm)", file)
	}
	nvr, arch := base[:dot], base[dot+1:]
	r := strings.LastIndexByte(nvr, '-')
	if r <= 0 {
		return Prebuilt{}, fmt.Errorf("%q has no release", file)
	}
	v := strings.LastIndexByte(nvr[:r], '-')
	if v <= 0 {
		return Prebuilt{}, fmt.Errorf("%q has no version", file)
	}
	return Prebuilt{Name: nvr[:v], EVR: nvr[v+1:], Arch: arch}, nil
}
