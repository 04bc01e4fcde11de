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

// fromHeader keeps what the package stage needs of an RPM header.
func fromHeader(file string, h *rpm.Header) builtRPM {
	return builtRPM{File: file, Name: h.Name, SHA256: h.SHA256, Provides: h.Provides, Requires: h.Requires, Files: h.Files}
}

// providerIndex answers which RPM provides a capability or a path. RPMs
// are added as builds finish; answers do not depend on the order they
// were added in.
type providerIndex struct {
	provides map[string][]int
	files    map[string][]int
	byName   map[string]int
	rpms     []builtRPM
}

func newProviderIndex(rpms ...builtRPM) *providerIndex {
	x := &providerIndex{provides: map[string][]int{}, files: map[string][]int{}, byName: map[string]int{}}
	x.add(rpms...)
	return x
}

func (x *providerIndex) add(rpms ...builtRPM) {
	for _, r := range rpms {
		i := len(x.rpms)
		x.rpms = append(x.rpms, r)
		if _, dup := x.byName[r.Name]; !dup {
			x.byName[r.Name] = i
		}
		for _, p := range r.Provides {
			x.provides[p.Name] = append(x.provides[p.Name], i)
		}
		for _, f := range r.Files {
			x.files[path.Clean(f)] = append(x.files[path.Clean(f)], i)
		}
	}
}

func headerDep(d rpm.HeaderDep) rpm.Dep {
	dep := rpm.Dep{Name: d.Name}
	if op, err := rpm.ParseOp(d.Flags); err == nil && d.Flags != "" {
		dep.Op, dep.EVR = op, rpm.ParseEVR(d.Version)
	}
	return dep
}

// provider returns the RPM satisfying req, or -1.
func (x *providerIndex) provider(req rpm.HeaderDep) int { return x.satisfier(headerDep(req)) }

// satisfier returns the RPM satisfying want (a capability or a path), or
// -1. Of several, the one whose file name sorts first.
func (x *providerIndex) satisfier(want rpm.Dep) int {
	best := -1
	pick := func(i int) {
		if best < 0 || x.rpms[i].File < x.rpms[best].File {
			best = i
		}
	}
	if strings.HasPrefix(want.Name, "/") {
		for _, i := range x.files[path.Clean(want.Name)] {
			pick(i)
		}
	}
	for _, i := range x.provides[want.Name] {
		for _, p := range x.rpms[i].Provides {
			if p.Name == want.Name && rpm.Satisfies(headerDep(p), want) {
				pick(i)
				break
			}
		}
	}
	return best
}

// needs reports whether a requirement is one an installed RPM must
// satisfy (not rpmlib's own features, not a rich dependency).
func needs(req rpm.HeaderDep) bool {
	return !strings.Contains(req.Type, "rpmlib") && !rpm.IsRich(req.Name)
}

// expand adds to the chosen RPMs (indexes) every RPM of the index that one
// of them requires, until nothing more is needed. Requirements the index
// cannot satisfy are left to the base root (the toolchain) and to rpm's
// own check when installing.
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
			if !needs(req) {
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
