// Package spec evaluates RPM spec files with the real rpm macro engine and
// turns the result into plain data (Info): the source package, every binary
// package with its dependencies, the BuildRequires, sources and patches.
//
// Evaluation runs librpm (through a small C helper, see helper/specq.c) with
// the project's macro files and defines; results are cached under the build
// directory by a hash of everything that can change them.
package spec

// Info is what one spec file evaluates to.
type Info struct {
	// Path is the spec file, relative to the specs directory.
	Path string `json:"path"`
	// Name is the spec's base name without ".spec" (kernel-uki for kernel/kernel-uki.spec).
	Name string `json:"name"`
	// SRPM is the source package's identity.
	SRPM NEVR `json:"srpm"`
	// BuildRequires, with rpm's dependency type (manual, rpmlib, ...).
	BuildRequires  []Dep     `json:"buildRequires,omitempty"`
	BuildConflicts []Dep     `json:"buildConflicts,omitempty"`
	Sources        []string  `json:"sources,omitempty"` // Source strings (URLs or file names), by number
	Patches        []string  `json:"patches,omitempty"`
	ExclusiveArch  []string  `json:"exclusiveArch,omitempty"`
	ExcludeArch    []string  `json:"excludeArch,omitempty"`
	BuildArchs     []string  `json:"buildArchs,omitempty"`
	HasCheck       bool      `json:"hasCheck"`
	Packages       []Package `json:"packages"`
	Warnings       []string  `json:"warnings,omitempty"` // what rpm logged while parsing
}

// NEVR names a package version without its architecture.
type NEVR struct {
	Name    string `json:"name"`
	Epoch   string `json:"epoch,omitempty"`
	Version string `json:"version"`
	Release string `json:"release"`
}

// EVR renders "[epoch:]version-release".
func (n NEVR) EVR() string {
	s := n.Version + "-" + n.Release
	if n.Epoch != "" {
		s = n.Epoch + ":" + s
	}
	return s
}

// String renders "name-[epoch:]version-release".
func (n NEVR) String() string { return n.Name + "-" + n.EVR() }

// Package is one binary package a spec defines.
type Package struct {
	NEVR
	Arch string `json:"arch"`
	// Built is false for a package without a %files section: rpmbuild makes no RPM of it.
	Built     bool  `json:"built"`
	Provides  []Dep `json:"provides,omitempty"`
	Requires  []Dep `json:"requires,omitempty"`
	Conflicts []Dep `json:"conflicts,omitempty"`
	Obsoletes []Dep `json:"obsoletes,omitempty"`
	// Files are the paths and globs of its %files list, directives removed;
	// a "%dir" directory, which does not own what is below it, ends in "/".
	Files []string `json:"files,omitempty"`
}

// Dep is one dependency as rpm reports it. Name is a capability, a file
// path, or a whole rich dependency in parentheses.
type Dep struct {
	Name    string `json:"name"`
	Flags   string `json:"flags,omitempty"`   // "", "<", "<=", "=", ">=", ">"
	Version string `json:"version,omitempty"` // [epoch:]version[-release]
	// Type is rpm's dependency type list ("manual", "pre", "post,interp", "rpmlib", ...);
	// empty for provides, conflicts and obsoletes.
	Type string `json:"type,omitempty"`
}

// String renders the dependency as a spec would write it.
func (d Dep) String() string {
	if d.Flags == "" {
		return d.Name
	}
	return d.Name + " " + d.Flags + " " + d.Version
}

// IsRPMLib reports whether the dependency is on an rpmlib() feature, which
// rpm itself satisfies and no package provides.
func (d Dep) IsRPMLib() bool { return d.Type == "rpmlib" || len(d.Name) > 7 && d.Name[:7] == "rpmlib(" }

// BuiltPackages returns the packages rpmbuild produces.
func (i *Info) BuiltPackages() []Package {
	var out []Package
	for _, p := range i.Packages {
		if p.Built {
			out = append(out, p)
		}
	}
	return out
}
