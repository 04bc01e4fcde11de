package workspace

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"slipway/internal/repo"
	"slipway/internal/rpm"
)

// ImageRemotePackages lists the remote packages an image of names (package
// names or capabilities) needs: each name and, transitively, each of their
// requirements is provided by the first of localRepos (rpm-md directories
// such as out/RPMS and the toolchain's) or of the [remote] repositories
// that has a provider, local ones first; the remote providers chosen are
// returned, for a local repository the image installer can read offline.
// A name nothing provides is an error naming it.
func ImageRemotePackages(ctx context.Context, t *Tree, localRepos []string, names []string) ([]RemotePackage, error) {
	if len(t.Remotes) == 0 {
		return nil, nil
	}
	cacheDir, err := RemoteCacheDir(t.Project)
	if err != nil {
		return nil, err
	}
	var repos []*repo.Repo
	for _, dir := range localRepos {
		r, err := t.localRepo(ctx, dir, cacheDir)
		if err != nil {
			return nil, err
		}
		repos = append(repos, r)
	}
	local := len(repos)
	repos = append(repos, t.Remotes...)

	chosen := map[*repo.Package]*repo.Repo{}
	var queue []*repo.Package
	choose := func(dep rpm.Dep) bool {
		var first RemotePackage
		for _, r := range repos {
			providers := r.WhatProvides(dep)
			for _, p := range providers {
				if _, ok := chosen[p]; ok {
					return true // already in the image
				}
			}
			if first.Package == nil {
				if p := newest(providers, t.Project.Config.Project.Arch); p != nil {
					first = RemotePackage{Repo: r, Package: p}
				}
			}
		}
		if first.Package == nil {
			return false
		}
		chosen[first.Package] = first.Repo
		queue = append(queue, first.Package)
		return true
	}
	var missing []string
	for _, name := range names {
		if !choose(rpm.Dep{Name: name}) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, missingError(t, strings.Join(missing, ", "))
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, req := range p.Requires {
			if strings.HasPrefix(req.Name, "rpmlib(") || rpm.IsRich(req.Name) {
				continue
			}
			if !choose(req.Dep) {
				missing = append(missing, req.Dep.String()+" (needed by "+p.NEVRA()+")")
			}
		}
	}
	if len(missing) > 0 {
		return nil, missingError(t, strings.Join(missing, "; "))
	}
	var out []RemotePackage
	for p, r := range chosen {
		if slices.Index(repos, r) >= local {
			out = append(out, RemotePackage{Repo: r, Package: p})
		}
	}
	slices.SortFunc(out, func(a, b RemotePackage) int { return strings.Compare(a.Package.NEVRA(), b.Package.NEVRA()) })
	return out, nil
}

// localRepo loads a local repository's metadata once per tree: the
// images of one run see the same out/RPMS and toolchain repository.
func (t *Tree) localRepo(ctx context.Context, dir, cacheDir string) (*repo.Repo, error) {
	t.localMu.Lock()
	defer t.localMu.Unlock()
	if r := t.local[dir]; r != nil {
		return r, nil
	}
	r, err := repo.Load(ctx, repo.RepoConfig{ID: fmt.Sprintf("local-%d", len(t.local)), Enabled: true, BaseURLs: []string{dir}}, repo.Options{CacheDir: cacheDir})
	if err != nil {
		return nil, err
	}
	if t.local == nil {
		t.local = map[string]*repo.Repo{}
	}
	t.local[dir] = r
	return r, nil
}

func missingError(t *Tree, what string) error {
	if t.Locked {
		return fmt.Errorf("no local repository and no package of %s provides %s: run slipway lock to pin what is missing", LockFileName, what)
	}
	return fmt.Errorf("no local or remote repository provides %s", what)
}
