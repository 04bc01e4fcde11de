package workspace

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"

	"slipway/internal/fetch"
	"slipway/internal/fsutil"
	"slipway/internal/graph"
	"slipway/internal/project"
	"slipway/internal/repo"
	"slipway/internal/rpm"
)

// LockFileName is the lock file of remote packages, beside slipway.toml.
const LockFileName = "remote.lock.json"

const lockFormat = "slipway-remote-lock/v1"

// Lock pins the exact remote packages a project's builds and images use.
// While it exists they are the only remote packages slipway considers, so
// later runs use exactly them; they can run offline once the packages are
// in the cache. `slipway lock` writes it.
type Lock struct {
	Format string       `json:"format"`
	Repos  []LockedRepo `json:"repos"`
}

// LockedRepo is a repository and the packages taken from it.
type LockedRepo struct {
	ID       string          `json:"id"`
	BaseURL  string          `json:"baseurl"`
	Packages []LockedPackage `json:"packages"`
}

// LockedPackage is one remote package, with what the graph needs to know
// of it (so a locked run needs no repository metadata).
type LockedPackage struct {
	Name     string   `json:"name"`
	EVR      string   `json:"evr"`
	Arch     string   `json:"arch"`
	Location string   `json:"location"`
	SHA256   string   `json:"sha256"`
	Size     int64    `json:"size"`
	Provides []string `json:"provides,omitempty"`
	Requires []string `json:"requires,omitempty"`
	Files    []string `json:"files,omitempty"`
}

// LockPath is the project's lock file.
func LockPath(p *project.Project) string { return p.Path(LockFileName) }

// WriteLock writes the lock file of pkgs (each once), atomically, and
// returns how many it pinned.
func WriteLock(p *project.Project, pkgs []RemotePackage) (int, error) {
	byRepo := map[*repo.Repo][]LockedPackage{}
	seen := map[string]bool{}
	for _, rp := range pkgs {
		pk := rp.Package
		if pk.Checksum.Type != "sha256" {
			return 0, fmt.Errorf("package %s from %s: its checksum is %s; a lock needs sha256", pk.NEVRA(), rp.Repo.ID, pk.Checksum.Type)
		}
		if seen[rp.Repo.ID+" "+pk.NEVRA()] {
			continue
		}
		seen[rp.Repo.ID+" "+pk.NEVRA()] = true
		lp := LockedPackage{Name: pk.Name, EVR: pk.EVR.String(), Arch: pk.Arch, Location: rp.URL(), SHA256: pk.Checksum.Value,
			Size: pk.Size, Files: pk.Files}
		for _, d := range pk.Provides {
			lp.Provides = append(lp.Provides, d.String())
		}
		for _, d := range pk.Requires {
			lp.Requires = append(lp.Requires, d.Dep.String())
		}
		byRepo[rp.Repo] = append(byRepo[rp.Repo], lp)
	}
	lock := Lock{Format: lockFormat}
	for r, lps := range byRepo {
		slices.SortFunc(lps, func(a, b LockedPackage) int {
			return cmp.Compare(a.Name+" "+a.EVR+" "+a.Arch, b.Name+" "+b.EVR+" "+b.Arch)
		})
		lock.Repos = append(lock.Repos, LockedRepo{ID: r.ID, BaseURL: r.BaseURL, Packages: lps})
	}
	slices.SortFunc(lock.Repos, func(a, b LockedRepo) int { return cmp.Compare(a.ID, b.ID) })
	data, err := json.MarshalIndent(lock, "", "  ")
	if err != nil {
		return 0, err
	}
	return len(seen), fsutil.WriteFileAtomic(LockPath(p), append(data, '\n'), 0o644)
}

// readLock returns the lock file's repositories as pinned repositories
// (downloads with the auth of the [remote] repository of the same id), or
// nil when there is no lock file.
func readLock(ctx context.Context, p *project.Project, logger *slog.Logger) ([]*repo.Repo, error) {
	path := LockPath(p)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var lock Lock
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if lock.Format != lockFormat {
		return nil, fmt.Errorf("%s: format %q is not %q: run slipway lock again", path, lock.Format, lockFormat)
	}
	// The repositories' settings (auth, GPG keys) are those configured now.
	sources, err := remoteSources(p, logger)
	if err != nil {
		return nil, err
	}
	configured := map[string]remoteSource{}
	for _, s := range sources {
		configured[s.cfg.ID] = s
	}
	cacheDir, err := RemoteCacheDir(p)
	if err != nil {
		return nil, err
	}
	var repos []*repo.Repo
	for _, lr := range lock.Repos {
		var pkgs []repo.Package
		for _, lp := range lr.Packages {
			pk, err := lp.pkg()
			if err != nil {
				return nil, fmt.Errorf("%s: repository %s: %w", path, lr.ID, err)
			}
			pkgs = append(pkgs, pk)
		}
		s, ok := configured[lr.ID]
		if !ok {
			return nil, fmt.Errorf("%s: repository %s is not in %s's [remote] any more: run slipway lock again", path, lr.ID, p.File)
		}
		client := s.client
		if client == nil {
			client = fetch.ForHosts([]string{lr.BaseURL}, s.cfg.Auth(), logger)
		}
		r := repo.Pinned(lr.ID, lr.BaseURL, pkgs, client, p.Offline)
		if s.cfg.GPGCheck {
			if err := r.WithKeys(ctx, cacheDir, s.cfg.GPGKeys); err != nil {
				return nil, fmt.Errorf("%s: %w", p.File, err)
			}
		}
		repos = append(repos, r)
	}
	return repos, nil
}

// pkg turns a locked package back into a repository package.
func (lp LockedPackage) pkg() (repo.Package, error) {
	pk := repo.Package{Name: lp.Name, Arch: lp.Arch, EVR: rpm.ParseEVR(lp.EVR), Location: lp.Location,
		Checksum: repo.Checksum{Type: "sha256", Value: lp.SHA256}, Size: lp.Size, Files: lp.Files}
	for _, s := range lp.Provides {
		d, err := rpm.ParseDep(s)
		if err != nil {
			return pk, fmt.Errorf("package %s: provides %q: %w", lp.Name, s, err)
		}
		pk.Provides = append(pk.Provides, d)
	}
	for _, s := range lp.Requires {
		if rpm.IsRich(s) {
			pk.Requires = append(pk.Requires, repo.Require{Dep: rpm.Dep{Name: s}})
			continue
		}
		d, err := rpm.ParseDep(s)
		if err != nil {
			return pk, fmt.Errorf("package %s: requires %q: %w", lp.Name, s, err)
		}
		pk.Requires = append(pk.Requires, repo.Require{Dep: d})
	}
	return pk, nil
}

// lockCovers checks that what the locked remote packages require is
// provided: a lock that lacks a package is an error naming it, not a
// build root without it.
func lockCovers(g *graph.Graph) error {
	remote := map[string]bool{}
	for i := range g.Nodes {
		if n := &g.Nodes[i]; n.Origin != "" {
			remote[n.Label()] = true
		}
	}
	var missing []string
	for _, u := range g.Unresolved {
		for _, by := range u.NeededBy {
			if remote[by] {
				missing = append(missing, fmt.Sprintf("%s (needed by %s)", u.Cap, strings.TrimSuffix(by, " RUN")))
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no locked package provides %s: run slipway lock again", strings.Join(missing, "; "))
	}
	return nil
}
