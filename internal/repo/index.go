package repo

import (
	"slices"
	"strings"

	"slipway/internal/rpm"
)

// Index looks a repository's packages up by name, capability and path.
// It is not changed after NewIndex and safe for concurrent use.
type Index struct {
	Packages []Package

	byName   map[string][]int32
	provides map[string][]provider // capability name -> its provides
	files    map[string][]int32    // primary's paths -> packages
}

// provider is Packages[pkg].Provides[dep].
type provider struct{ pkg, dep int32 }

// NewIndex indexes pkgs, which it keeps.
func NewIndex(pkgs []Package) *Index {
	x := &Index{Packages: pkgs, byName: make(map[string][]int32, len(pkgs))}
	nprov, nfiles := 0, 0
	for i := range pkgs {
		nprov += len(pkgs[i].Provides)
		nfiles += len(pkgs[i].Files)
	}
	x.provides = make(map[string][]provider, nprov)
	x.files = make(map[string][]int32, nfiles)
	for i := range pkgs {
		p := &pkgs[i]
		x.byName[p.Name] = append(x.byName[p.Name], int32(i))
		for j, d := range p.Provides {
			x.provides[d.Name] = append(x.provides[d.Name], provider{int32(i), int32(j)})
		}
		for _, f := range p.Files {
			x.files[f] = append(x.files[f], int32(i))
		}
	}
	return x
}

// ByName returns the packages called name (every version and arch).
func (x *Index) ByName(name string) []*Package { return x.list(x.byName[name]) }

// WhatProvides returns the packages with a provide that satisfies req (by
// rpm's rules: rpm.Satisfies), and for a path without a version, those
// whose primary file list holds it. Use Repo.FileProviders for paths
// that only filelists know. Packages come in repository order.
func (x *Index) WhatProvides(req rpm.Dep) []*Package {
	var idx []int32
	for _, pr := range x.provides[req.Name] {
		if rpm.Satisfies(x.Packages[pr.pkg].Provides[pr.dep], req) {
			idx = append(idx, pr.pkg)
		}
	}
	if strings.HasPrefix(req.Name, "/") && req.Op == 0 {
		idx = append(idx, x.files[req.Name]...)
	}
	slices.Sort(idx)
	return x.list(slices.Compact(idx))
}

func (x *Index) list(idx []int32) []*Package {
	if len(idx) == 0 {
		return nil
	}
	out := make([]*Package, len(idx))
	for i, n := range idx {
		out[i] = &x.Packages[n]
	}
	return out
}
