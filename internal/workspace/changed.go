package workspace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"

	"golang.org/x/sync/errgroup"

	"slipway/internal/fetch"
	"slipway/internal/graph"
	"slipway/internal/project"
	"slipway/internal/repo"
	"slipway/internal/rpm"
	"slipway/internal/rpmsig"
	"slipway/internal/source"
	"slipway/internal/spec"
	"slipway/internal/srpms"
)

// seedChanged applies [remote] rebuild = "changed". A spec is taken from
// the repositories when they have each of its packages at the version
// the spec makes, built from its source RPM, and that source RPM, as
// published, holds the spec directory's files and sources as they are
// here (by digest). Every other spec is built here, and so, transitively,
// is every spec that builds against a package built here: its published
// packages were built against the published one (the silent mixing of
// delta builds). why says, per spec, why it is taken or built.
func seedChanged(ctx context.Context, in graph.Input, remotes []*repo.Repo, finder *srpms.Finder, specsDir string, jobs int) (graph.Input, map[string]RemotePackage, map[string]string, error) {
	g := graph.Build(in)
	infos := map[string]*spec.Info{}
	for _, info := range in.Specs {
		infos[info.Name] = info
	}
	packagesOf := packagesBySpec(g)
	var specs []string
	for _, n := range g.Nodes {
		if n.Kind == graph.BuildNode && !n.Prebuilt && infos[n.Name] != nil {
			specs = append(specs, n.Name)
		}
	}
	slices.Sort(specs)

	// Compare each spec with what is published, in parallel: most of the
	// time goes to downloading source RPMs (or, without srpm_gpg_keys,
	// only their headers).
	type verdict struct {
		found []RemotePackage // nil: build it
		why   string
		err   error
	}
	verdicts := make([]verdict, len(specs))
	var compare errgroup.Group
	compare.SetLimit(max(jobs, 4))
	for i, name := range specs {
		compare.Go(func() error {
			v := &verdicts[i]
			v.found, v.why, v.err = compareWithPublished(ctx, g, infos[name], packagesOf[name], remotes, finder, specsDir, in.Arch)
			return nil // each spec's error is its own, reported below
		})
	}
	compare.Wait()

	why := map[string]string{}
	taken := map[string][]RemotePackage{}
	var local []string
	var errs []error
	for i, name := range specs {
		v := verdicts[i]
		switch {
		case v.err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", name, v.err))
		case v.found == nil:
			local = append(local, name)
		default:
			taken[name] = v.found
		}
		why[name] = v.why
	}
	if err := errors.Join(errs...); err != nil {
		return in, nil, nil, err
	}

	// What builds against a package built here is built here too.
	for len(local) > 0 {
		changed := local[0]
		local = local[1:]
		for _, i := range g.Reach(packagesOf[changed], graph.Backward, graph.BuildEdge, graph.RunEdge) {
			n := g.Nodes[i]
			if n.Kind != graph.BuildNode || taken[n.Name] == nil {
				continue
			}
			delete(taken, n.Name)
			why[n.Name] = "builds against " + changed + ", which is built here: its published packages were built against the published " + changed
			local = append(local, n.Name)
		}
	}
	remote := map[string]RemotePackage{}
	for _, name := range slices.Sorted(maps.Keys(taken)) {
		for _, rp := range taken[name] {
			remote[rp.Package.Name] = rp
			in.Prebuilt = append(in.Prebuilt, remotePrebuilt(rp))
		}
	}
	return in, remote, why, nil
}

// compareWithPublished decides one spec: the remote packages to take, or
// nil and why it is built. An error is a failure to find out (a download
// that failed, a published file that is not what it should be).
func compareWithPublished(ctx context.Context, g *graph.Graph, info *spec.Info, pkgs []int, remotes []*repo.Repo, finder *srpms.Finder, specsDir, arch string) ([]RemotePackage, string, error) {
	srpmFile := srpms.FileName(info.SRPM)
	var found []RemotePackage
	for _, i := range pkgs {
		n := g.Nodes[i]
		evr := rpm.ParseEVR(n.EVR)
		rp, ok := publishedPackage(remotes, n.Name, evr, srpmFile, arch)
		if !ok {
			return nil, fmt.Sprintf("no repository has %s-%s built from %s", n.Name, n.EVR, srpmFile), nil
		}
		found = append(found, rp)
	}
	path, from, err := finder.Header(ctx, info.SRPM)
	var nf *srpms.NotFoundError
	if errors.As(err, &nf) {
		return nil, "its source RPM is not published: " + nf.Error(), nil
	}
	if err != nil {
		return nil, "", err
	}
	algo, published, err := rpm.PayloadDigests(path)
	if err != nil {
		return nil, "", err
	}
	if algo != "sha256" {
		return nil, fmt.Sprintf("the published %s records %s file digests, and slipway compares sha256", srpmFile, algo), nil
	}
	here, err := source.SRPMDigests(info, filepath.Join(specsDir, filepath.Dir(info.Path)))
	if err != nil {
		return nil, "", err
	}
	if d := source.DiffDigests(published, here); d != "" {
		return nil, fmt.Sprintf("changed: %s (in the published %s)", d, srpmFile), nil
	}
	return found, fmt.Sprintf("unchanged: the spec and sources are those of %s (%s)", srpmFile, from), nil
}

// publishedPackage is the package called name at evr, for arch or
// noarch, built from srpmFile, in the first repository that has it.
func publishedPackage(remotes []*repo.Repo, name string, evr rpm.EVR, srpmFile, arch string) (RemotePackage, bool) {
	for _, r := range remotes {
		for _, p := range r.ByName(name) {
			if (p.Arch == arch || p.Arch == "noarch") && p.SourceRPM == srpmFile && rpm.CompareEVR(p.EVR, evr) == 0 {
				return RemotePackage{Repo: r, Package: p}, true
			}
		}
	}
	return RemotePackage{}, false
}

// SRPMFinder finds the published source RPMs [remote] names: in the
// repositories' source packages, then under remote.srpm_urls (those
// checked by rpm's digests and, with remote.srpm_gpg_keys, signature).
// rebuild = "changed" compares specs with them; download_srpms builds them.
func SRPMFinder(ctx context.Context, p *project.Project, remotes []*repo.Repo, logger *slog.Logger) (*srpms.Finder, error) {
	rc := p.Config.Remote
	cacheDir, err := RemoteCacheDir(p)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, k := range rc.SRPMKeys {
		keys = append(keys, p.Path(k))
	}
	keyring, err := rpmsig.NewKeyring(ctx, filepath.Join(cacheDir, "keyrings"), keys)
	if err != nil {
		return nil, fmt.Errorf("%s: remote.srpm_gpg_keys: %w", p.File, err)
	}
	return &srpms.Finder{Repos: remotes, URLs: rc.SRPMURLs, Client: fetch.ForHosts(rc.SRPMURLs, p.FetchAuth(rc.SRPMAuth), logger),
		CacheDir: cacheDir, Offline: p.Offline, Verify: keyring.Verify, HeadersOnly: len(keys) == 0}, nil
}
