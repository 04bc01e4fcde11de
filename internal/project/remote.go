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
	// Rebuild says which local specs are built:
	//   - "all" (default): every one;
	//   - "changed": those whose published source RPM (found by
	//     SRPMURLs or in a repository's source packages) differs from
	//     the spec directory and sources, or whose packages the
	//     repositories lack at the spec's version, and every spec that
	//     builds against one of those;
	//   - "listed": only RebuildList and, to RebuildDependents levels,
	//     the specs that build against them.
	// The packages of the other specs come from the repositories.
	Rebuild           string   `toml:"rebuild"`
	RebuildList       []string `toml:"rebuild_list"`
	RebuildDependents int      `toml:"rebuild_dependents"`
	// SRPMURLs are base URLs published source RPMs are under, tried in
	// order after the repositories' source packages (Azure Linux's
	// SRPM_URL_LIST): rebuild = "changed" compares the specs with them,
	// and download_srpms ([toolchain], [build]) builds them. SRPMAuth is
	// sent to their hosts and SRPMKeys, when set, must have signed them.
	SRPMURLs []string    `toml:"srpm_urls"`
	SRPMAuth AuthSection `toml:"srpm_auth"`
	SRPMKeys []string    `toml:"srpm_gpg_keys"`
}

// The [remote] rebuild policies.
const (
	RebuildAll     = "all"
	RebuildChanged = "changed"
	RebuildListed  = "listed"
)

// RemoteRepo is one [[remote.repos]] entry.
type RemoteRepo struct {
	ID       string   `toml:"id"`
	BaseURLs []string `toml:"baseurls"` // mirrors, tried in order
	// Priority orders repositories: lower first, like dnf (default 99).
	Priority int         `toml:"priority"`
	Auth     AuthSection `toml:"auth"` // sent to the hosts of BaseURLs only
	// GPGKeys are public key files: every package taken from the
	// repository must be signed by one of them (gpgcheck), and with
	// RepoGPGCheck its repomd.xml too (repomd.xml.asc).
	GPGKeys      []string `toml:"gpg_keys"`
	RepoGPGCheck bool     `toml:"repo_gpgcheck"`
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
	case "", RebuildAll, RebuildChanged, RebuildListed:
	default:
		v.errorf(key("remote", "rebuild"), "%q is not a policy: use %q, %q or %q", r.Rebuild, RebuildAll, RebuildChanged, RebuildListed)
	}
	for i, raw := range r.SRPMURLs {
		if msg := checkSourceURL(raw); msg != "" {
			v.errorf(key("remote", "srpm_urls").at(i), "%q %s", fetch.Redact(raw), msg)
		}
	}
	for i, k := range r.SRPMKeys {
		v.path(key("remote", "srpm_gpg_keys").at(i), k)
	}
	v.auth(key("remote", "srpm_auth"), r.SRPMAuth)
	if r.Rebuild != "" && r.Rebuild != RebuildAll && len(r.Repos) == 0 && len(r.RepoFiles) == 0 {
		v.errorf(key("remote", "rebuild"), "%q needs repositories to take the other specs' packages from: set repo_files or [[remote.repos]]", r.Rebuild)
	}
	if r.RebuildDependents < 0 {
		v.errorf(key("remote", "rebuild_dependents"), "%d is negative", r.RebuildDependents)
	}
	var ids []string
	for i, repo := range r.Repos {
		at := key("remote", "repos").at(i).field
		switch {
		case repo.ID == "":
			v.errorf(at("id"), "missing: give it one, e.g. id = \"base\"")
		case !nameRE.MatchString(repo.ID):
			v.errorf(at("id"), "%q is not valid: use a-z, 0-9, '.', '_' and '-'", repo.ID)
		case slices.Contains(ids, repo.ID):
			v.errorf(at("id"), "%q is used twice", repo.ID)
		}
		ids = append(ids, repo.ID)
		if len(repo.BaseURLs) == 0 {
			v.errorf(at("baseurls"), "missing: give at least one URL")
		}
		for _, raw := range repo.BaseURLs {
			if msg := checkSourceURL(raw); msg != "" {
				v.errorf(at("baseurls"), "%q %s", fetch.Redact(raw), msg)
			}
		}
		if repo.Priority < 0 {
			v.errorf(at("priority"), "%d is negative", repo.Priority)
		}
		v.auth(at("auth"), repo.Auth)
		for _, k := range repo.GPGKeys {
			v.path(at("gpg_keys"), k)
		}
		if repo.RepoGPGCheck && len(repo.GPGKeys) == 0 {
			v.errorf(at("repo_gpgcheck"), "needs gpg_keys to check repomd.xml.asc with")
		}
	}
}
