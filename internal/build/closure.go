package build

import (
	"encoding/json"
	"path"
	"slices"
	"strings"

	"slipway/internal/rpm"
	"slipway/internal/store"
)

// builtRPM is one RPM a build made, as the store keeps it: enough of its
// header to resolve the dependencies rpmbuild generated (sonames,
// pkgconfig(), file paths), which the specs alone do not say.
type builtRPM struct {
	File     string          `json:"file"`
	Name     string          `json:"name"`
	SHA256   string          `json:"sha256"`
	Provides []rpm.HeaderDep `json:"provides,omitempty"`
	Requires []rpm.HeaderDep `json:"requires,omitempty"`
	Files    []string        `json:"files,omitempty"`
	path     string          // in the store
}

func rpmsOf(e *store.Entry) []builtRPM {
	var out []builtRPM
	if json.Unmarshal(e.Meta.Data, &out) != nil {
		return nil
	}
	for i := range out {
		out[i].path = e.Path(out[i].File)
	}
	return out
}

// providerIndex answers which built RPM provides a capability or a path.
type providerIndex struct {
	provides map[string][]int
	files    map[string][]int
	rpms     []builtRPM
}

func newProviderIndex(rpms []builtRPM) *providerIndex {
	x := &providerIndex{provides: map[string][]int{}, files: map[string][]int{}, rpms: rpms}
	for i, r := range rpms {
		for _, p := range r.Provides {
			x.provides[p.Name] = append(x.provides[p.Name], i)
		}
		for _, f := range r.Files {
			x.files[f] = append(x.files[f], i)
		}
	}
	return x
}

func headerDep(d rpm.HeaderDep) rpm.Dep {
	dep := rpm.Dep{Name: d.Name}
	if op, err := rpm.ParseOp(d.Flags); err == nil && d.Flags != "" {
		dep.Op, dep.EVR = op, rpm.ParseEVR(d.Version)
	}
	return dep
}

// provider returns the RPM satisfying req, or -1. Ties go to the first
// (the index is in a stable order).
func (x *providerIndex) provider(req rpm.HeaderDep) int {
	if strings.HasPrefix(req.Name, "/") {
		if c := x.files[path.Clean(req.Name)]; len(c) > 0 {
			return c[0]
		}
	}
	want := headerDep(req)
	for _, i := range x.provides[req.Name] {
		for _, p := range x.rpms[i].Provides {
			if p.Name == req.Name && rpm.Satisfies(headerDep(p), want) {
				return i
			}
		}
	}
	return -1
}

// expand adds to the chosen RPMs (indexes) every built RPM that one of
// them requires, until nothing more is needed. Requirements no built RPM
// provides are left to the base root (the toolchain) and to rpm's own
// check when installing.
func (x *providerIndex) expand(chosen []int) []int {
	in := map[int]bool{}
	queue := append([]int(nil), chosen...)
	for _, c := range chosen {
		in[c] = true
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, req := range x.rpms[i].Requires {
			if strings.Contains(req.Type, "rpmlib") || rpm.IsRich(req.Name) {
				continue
			}
			if p := x.provider(req); p >= 0 && !in[p] {
				in[p] = true
				queue = append(queue, p)
			}
		}
	}
	out := make([]int, 0, len(in))
	for i := range in {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}
