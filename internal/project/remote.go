package project

import (
	"slices"

	"slipway/internal/fetch"
)

// RemoteSection is the [remote] table: published rpm-md repositories that
// provide what no local spec builds (Azure Linux's REPO_LIST). Local
// packages always win; a BuildRequires nothing local provides is taken
// from the first repository, by priority, that has it, downloaded,
// checked against its checksum and installed in the build root.
type RemoteSection struct {
	// RepoFiles are yum/dnf .repo files, as Azure Linux ships them in
	// toolkit/repos; their enabled repositories are used.
	RepoFiles []string `toml:"repo_files"`
	// Vars fill $releasever, $basearch and the like in .repo files
	// (basearch and arch default to [project] arch).
	Vars map[string]string `toml:"vars"`
	// Repos are repositories given here.
	Repos []RemoteRepo `toml:"repos"`
	// CacheDir keeps their metadata and packages; "" means the user's
	// cache ($XDG_CACHE_HOME/slipway/repos), shared by all projects.
	CacheDir string `toml:"cache_dir"`
	// Rebuild says which local specs are built: "all" (default) or
	// "listed": only RebuildList and, to RebuildDependents levels, the
	// specs that build against them; every other spec's packages come
	// from the repositories (a spec they lack a package of is built).
	Rebuild           string   `toml:"rebuild"`
	RebuildList       []string `toml:"rebuild_list"`
	RebuildDependents int      `toml:"rebuild_dependents"`
}

// The [remote] rebuild policies.
const (
	RebuildAll    = "all"
	RebuildListed = "listed"
)

// RemoteRepo is one [[remote.repos]] entry.
type RemoteRepo struct {
	ID       string   `toml:"id"`
	BaseURLs []string `toml:"baseurls"` // mirrors, tried in order
	// Priority orders repositories: lower first, like dnf (default 99).
	Priority int         `toml:"priority"`
	Auth     AuthSection `toml:"auth"` // sent to the hosts of BaseURLs only
}

// remote checks the [remote] table.
func (v *validator) remote(r RemoteSection) {
	for i, f := range r.RepoFiles {
		k := key("remote", "repo_files").at(i)
		if f == "" {
			v.errorf(k, "empty path")
		}
		v.path(k, f)
	}
	v.path(key("remote", "cache_dir"), r.CacheDir)
	switch r.Rebuild {
	case "", RebuildAll, RebuildListed:
	default:
		v.errorf(key("remote", "rebuild"), "%q is not a policy: use %q or %q", r.Rebuild, RebuildAll, RebuildListed)
	}
	if r.Rebuild == RebuildListed && len(r.Repos) == 0 && len(r.RepoFiles) == 0 {
		v.errorf(key("remote", "rebuild"), "%q needs repositories to take the other specs' packages from: set repo_files or [[remote.repos]]", r.Rebuild)
	}
	if r.RebuildDependents < 0 {
		v.errorf(key("remote", "rebuild_dependents"), "%d is negative", r.RebuildDependents)
	}
	var ids []string
	for i, repo := range r.Repos {
		// Keys of an array of tables are known by their first line only:
		// errors point at [[remote.repos]] and name the repository.
		at := func(string) ref { return key("remote", "repos") }
		switch {
		case repo.ID == "":
			v.errorf(at("id"), "repository %d: id: missing: give it one, e.g. id = \"base\"", i+1)
		case !nameRE.MatchString(repo.ID):
			v.errorf(at("id"), "repository %d: id: %q is not valid: use a-z, 0-9, '.', '_' and '-'", i+1, repo.ID)
		case slices.Contains(ids, repo.ID):
			v.errorf(at("id"), "repository %d: id: %q is used twice", i+1, repo.ID)
		}
		ids = append(ids, repo.ID)
		if len(repo.BaseURLs) == 0 {
			v.errorf(at("baseurls"), "repository %q: baseurls: missing: give at least one URL", repo.ID)
		}
		for _, raw := range repo.BaseURLs {
			if msg := checkSourceURL(raw); msg != "" {
				v.errorf(at("baseurls"), "repository %q: baseurls: %q %s", repo.ID, fetch.Redact(raw), msg)
			}
		}
		if repo.Priority < 0 {
			v.errorf(at("priority"), "repository %q: priority: %d is negative", repo.ID, repo.Priority)
		}
		v.auth([]string{"remote", "repos", "auth"}, repo.Auth)
	}
}
