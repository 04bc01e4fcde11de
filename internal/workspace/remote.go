package workspace

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"slipway/internal/fetch"
	"slipway/internal/graph"
	"slipway/internal/project"
	"slipway/internal/repo"
	"slipway/internal/rpm"
	"slipway/internal/spec"
)

// RemotePackage is a package a remote repository provides to this tree.
type RemotePackage struct {
	Repo    *repo.Repo
	Package *repo.Package
}

// URL is where the package's RPM is downloaded from.
func (r RemotePackage) URL() string { return r.Repo.PackageURL(r.Package) }

// Download puts the package's RPM into the project's package cache
// (checked against the repository's checksum) and returns its path.
func (r RemotePackage) Download(ctx context.Context, cacheDir string) (string, error) {
	return r.Repo.DownloadPackage(ctx, r.Package, filepath.Join(cacheDir, "packages", r.Repo.ID))
}

// RemoteCacheDir is where [remote] metadata and packages are kept.
func RemoteCacheDir(p *project.Project) (string, error) {
	if d := p.Config.Remote.CacheDir; d != "" {
		return p.Path(d), nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for remote repositories: %w; set remote.cache_dir", err)
	}
	return filepath.Join(dir, "slipway", "repos"), nil
}

// remoteRepos are the repositories remote packages come from: those the
// lock file pins when there is one, else the [remote] repositories.
func remoteRepos(ctx context.Context, p *project.Project, opts Options, logger *slog.Logger) (repos []*repo.Repo, locked bool, err error) {
	rc := p.Config.Remote
	if len(rc.RepoFiles) == 0 && len(rc.Repos) == 0 {
		return nil, false, nil
	}
	if !opts.IgnoreLock {
		pinned, err := readLock(ctx, p, logger)
		if err != nil || pinned != nil {
			return pinned, true, err
		}
	}
	if p.Offline { // remote packages only as remote.lock.json pins them, and only from the cache
		return nil, false, fmt.Errorf("offline: %s has [remote] repositories but no %s to say which of their packages to use: run slipway lock first", p.File, LockFileName)
	}
	repos, err = loadRemotes(ctx, p, logger)
	return repos, false, err
}

// remoteSource is a configured [remote] repository.
type remoteSource struct {
	cfg    repo.RepoConfig
	client *fetch.Client // nil: the repository's own auth
}

// remoteSources are the [remote] repositories as configured (enabled
// ones of repo_files, then [[remote.repos]]), in priority order (lower
// first; the order they are listed in breaks ties).
func remoteSources(p *project.Project, logger *slog.Logger) ([]remoteSource, error) {
	rc := p.Config.Remote
	vars := map[string]string{"basearch": p.Config.Project.Arch, "arch": p.Config.Project.Arch}
	for k, v := range rc.Vars {
		vars[k] = v
	}
	var sources []remoteSource
	for _, f := range rc.RepoFiles {
		cfgs, err := repo.ParseRepoFile(p.Path(f), vars)
		if err != nil {
			return nil, err
		}
		for _, c := range cfgs {
			if c.Enabled {
				sources = append(sources, remoteSource{cfg: c})
			}
		}
	}
	for _, r := range rc.Repos {
		prio := r.Priority
		if prio == 0 {
			prio = 99
		}
		var keys []string
		for _, k := range r.GPGKeys {
			keys = append(keys, p.Path(k))
		}
		sources = append(sources, remoteSource{cfg: repo.RepoConfig{ID: r.ID, Name: r.ID, Enabled: true, BaseURLs: r.BaseURLs, Priority: prio,
			GPGCheck: len(keys) > 0, RepoGPGCheck: r.RepoGPGCheck, GPGKeys: keys},
			client: fetch.ForHosts(r.BaseURLs, p.FetchAuth(r.Auth), logger)})
	}
	slices.SortStableFunc(sources, func(a, b remoteSource) int { return cmp.Compare(a.cfg.Priority, b.cfg.Priority) })
	return sources, nil
}

// loadRemotes loads the [remote] repositories, in priority order.
func loadRemotes(ctx context.Context, p *project.Project, logger *slog.Logger) ([]*repo.Repo, error) {
	rc := p.Config.Remote
	if len(rc.RepoFiles) == 0 && len(rc.Repos) == 0 {
		return nil, nil
	}
	cacheDir, err := RemoteCacheDir(p)
	if err != nil {
		return nil, err
	}
	sources, err := remoteSources(p, logger)
	if err != nil {
		return nil, err
	}
	var repos []*repo.Repo
	for _, s := range sources {
		r, err := repo.Load(ctx, s.cfg, repo.Options{CacheDir: cacheDir, Client: s.client, Logger: logger})
		if err != nil {
			if s.cfg.SkipIfUnavailable {
				logger.Warn("remote repository skipped", "repo", s.cfg.ID, "err", err)
				continue
			}
			return nil, fmt.Errorf("%s: remote repository %s: %w", p.File, s.cfg.ID, err)
		}
		repos = append(repos, r)
	}
	return repos, nil
}

// seedFromRemotes builds the graph, then, while capabilities stay
// unresolved, adds the remote packages that provide them (and then what
// those require) as pre-built packages of their repository, and builds it
// again. Local packages and the toolchain always win: remote packages only
// fill what nothing here provides.
func seedFromRemotes(in graph.Input, remotes []*repo.Repo, taken map[string]RemotePackage) (*graph.Graph, map[string]RemotePackage) {
	g := graph.Build(in)
	if len(remotes) == 0 {
		return g, taken
	}
	if taken == nil {
		taken = map[string]RemotePackage{}
	}
	for {
		added := false
		for _, u := range g.Unresolved {
			dep, err := rpm.ParseDep(u.Cap)
			if err != nil || rpm.IsRich(dep.Name) {
				continue
			}
			rp, ok := bestProvider(remotes, dep, in.Arch)
			if !ok {
				continue
			}
			if _, dup := taken[rp.Package.Name]; dup {
				continue
			}
			taken[rp.Package.Name] = rp
			in.Prebuilt = append(in.Prebuilt, remotePrebuilt(rp))
			added = true
		}
		if !added {
			return g, taken
		}
		g = graph.Build(in)
	}
}

// bestProvider is the provider of dep in the first repository that has
// one, preferring the target arch (or noarch) and then the highest EVR.
func bestProvider(remotes []*repo.Repo, dep rpm.Dep, arch string) (RemotePackage, bool) {
	for _, r := range remotes {
		if best := newest(r.WhatProvides(dep), arch); best != nil {
			return RemotePackage{Repo: r, Package: best}, true
		}
	}
	return RemotePackage{}, false
}

// remotePrebuilt describes a remote package to the graph.
func remotePrebuilt(rp RemotePackage) graph.Prebuilt {
	p := rp.Package
	pre := graph.Prebuilt{Name: p.Name, EVR: p.EVR.String(), Arch: p.Arch, Provides: p.Provides, Files: p.Files, Origin: rp.Repo.ID}
	for _, r := range p.Requires {
		d := spec.Dep{Name: r.Name, Flags: r.Op.String()}
		if r.Op != 0 {
			d.Version = r.EVR.String()
		}
		pre.Requires = append(pre.Requires, d)
	}
	return pre
}

// seedListed applies [remote] rebuild = "listed": the listed specs, and
// to the given depth the specs that build against them, are built here;
// every other spec whose packages the repositories all have is taken from
// them (and one they lack a package of is built too). A taken spec that
// builds against one built here is named in mixed, spec -> why: its
// published packages were built against the published one.
func seedListed(in graph.Input, remotes []*repo.Repo, rc project.RemoteSection) (_ graph.Input, _ map[string]RemotePackage, mixed map[string]string, _ error) {
	g := graph.Build(in)
	nodes, err := g.Resolve(rc.RebuildList)
	if err != nil {
		return in, nil, nil, fmt.Errorf("remote.rebuild_list: %w", err)
	}
	local := map[string]bool{}
	var frontier []string
	for _, n := range nodes {
		if s := g.Nodes[n].Spec; s != "" && !local[s] {
			local[s] = true
			frontier = append(frontier, s)
		}
	}
	packagesOf := packagesBySpec(g)
	for depth := 0; depth < rc.RebuildDependents && len(frontier) > 0; depth++ {
		var start []int
		for _, s := range frontier {
			start = append(start, packagesOf[s]...)
		}
		frontier = nil
		for _, i := range g.Reach(start, graph.Backward, graph.BuildEdge, graph.RunEdge) {
			if n := g.Nodes[i]; n.Kind == graph.BuildNode && !local[n.Name] {
				local[n.Name] = true
				frontier = append(frontier, n.Name)
			}
		}
	}
	taken := map[string]RemotePackage{}
	takenSpecs := map[string]bool{}
	for _, b := range g.Nodes {
		if b.Kind != graph.BuildNode || b.Prebuilt || local[b.Name] {
			continue
		}
		var found []RemotePackage
		for _, i := range packagesOf[b.Name] {
			rp, ok := byName(remotes, g.Nodes[i].Name, in.Arch)
			if !ok {
				found = nil
				break
			}
			found = append(found, rp)
		}
		for _, rp := range found {
			taken[rp.Package.Name] = rp
			takenSpecs[b.Name] = true
			in.Prebuilt = append(in.Prebuilt, remotePrebuilt(rp))
		}
	}
	mixed = map[string]string{}
	for _, s := range slices.Sorted(maps.Keys(local)) {
		for _, i := range g.Reach(packagesOf[s], graph.Backward, graph.BuildEdge, graph.RunEdge) {
			if n := g.Nodes[i]; n.Kind == graph.BuildNode && takenSpecs[n.Name] && mixed[n.Name] == "" {
				mixed[n.Name] = fmt.Sprintf("warning: taken as published although it builds against %s, which is built here: "+
					"its packages were built against the published %s (raise rebuild_dependents to rebuild it)", s, s)
			}
		}
	}
	return in, taken, mixed, nil
}

// packagesBySpec maps each local spec to its package nodes.
func packagesBySpec(g *graph.Graph) map[string][]int {
	out := map[string][]int{}
	for i, n := range g.Nodes {
		if n.Kind == graph.PackageNode && n.Spec != "" {
			out[n.Spec] = append(out[n.Spec], i)
		}
	}
	return out
}

// byName is the package called name in the first repository that has it
// for the target arch (or noarch), its highest EVR there.
func byName(remotes []*repo.Repo, name, arch string) (RemotePackage, bool) {
	for _, r := range remotes {
		if best := newest(r.ByName(name), arch); best != nil {
			return RemotePackage{Repo: r, Package: best}, true
		}
	}
	return RemotePackage{}, false
}

// newest is the package of the highest EVR among those for arch or noarch.
func newest(pkgs []*repo.Package, arch string) *repo.Package {
	var best *repo.Package
	for _, p := range pkgs {
		if p.Arch != arch && p.Arch != "noarch" {
			continue
		}
		if best == nil || rpm.CompareEVR(p.EVR, best.EVR) > 0 {
			best = p
		}
	}
	return best
}
