package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"slipway/internal/buildroot"
	"slipway/internal/graph"
	"slipway/internal/project"
	"slipway/internal/rpm"
	"slipway/internal/source"
	"slipway/internal/srpms"
	"slipway/internal/workspace"
)

// ProjectOptions tune RunProject.
type ProjectOptions struct {
	Goals         []int // graph nodes; nil: everything
	Jobs          int
	StopOnFailure bool
	Retries       int
	Timeout       time.Duration // per build; default 2 hours
	// BaseRootfs, when set, is the build root base instead of a root made
	// from the toolchain repository (for tests and custom setups).
	BaseRootfs string
	Progress   io.Writer
	Logger     *slog.Logger
	// DryRun decides without building anything (slipway plan).
	DryRun bool
	// Force names specs built even when their outputs are in the store.
	Force []string
	// Events receives every scheduler event (for a live view).
	Events func(Event)
}

// RunProject runs the package stage of a loaded project: builds start
// from a base root made of the toolchain (build/toolchain/RPMS, see
// slipway toolchain) and get the exact RPMs their BuildRequires need.
func RunProject(ctx context.Context, p *project.Project, tree *workspace.Tree, o ProjectOptions) (*Summary, error) {
	buildDir := p.Path(p.Config.Project.BuildDir)
	macros, err := workspace.MacroSet(p)
	if err != nil {
		return nil, err
	}
	if o.BaseRootfs == "" && p.Config.Build.BaseRootfs != "" {
		o.BaseRootfs = p.Path(p.Config.Build.BaseRootfs)
	}
	base, baseID, err := baseRoot(ctx, buildDir, o.BaseRootfs, o.DryRun)
	if err != nil {
		return nil, err
	}
	g := tree.Graph
	if o.Goals != nil {
		g = g.Prune(o.Goals)
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Hour
	}
	if o.Jobs <= 0 {
		o.Jobs = p.Config.Project.Jobs
	}
	if o.Jobs <= 0 {
		o.Jobs = runtime.NumCPU()
	}
	// Build roots a killed slipway left behind (nothing of them is mounted:
	// their mounts died with their namespaces).
	if !o.DryRun {
		if err := buildroot.Cleanup(filepath.Join(buildDir, "roots")); err != nil {
			return nil, err
		}
	}
	var headers []*rpm.Header // with a custom base root, what it provides is not known package by package
	if o.BaseRootfs == "" {
		headers = tree.Toolchain
	}
	remote, err := remoteRPMs(p, tree)
	if err != nil {
		return nil, err
	}
	var published *srpms.Finder
	if p.Config.Build.DownloadSRPMs {
		if published, err = workspace.SRPMFinder(ctx, p, tree.Remotes, o.Logger); err != nil {
			return nil, err
		}
	}
	return Run(ctx, Options{
		SpecsDir: p.Path(p.Config.Project.SpecsDir), BuildDir: buildDir, OutDir: p.Path(p.Config.Project.OutDir),
		Graph: g, Specs: tree.Eval.Specs, Generated: tree.Eval.GeneratedMacros, Macros: macros,
		Sources: source.ProjectOptions(p, o.Logger), BaseID: baseID,
		Builder: &SandboxBuilder{Base: base, WorkDir: filepath.Join(buildDir, "roots"), Defines: macros.Defines, Timeout: o.Timeout, NoCheck: p.Config.Build.SkipCheck},
		Jobs:    o.Jobs, StopOnFailure: o.StopOnFailure, Retries: o.Retries, Progress: o.Progress,
		AllowToolchainRebuild: p.Config.Build.AllowToolchainRebuild, DryRun: o.DryRun, Events: o.Events,
		Force: forced(o.Force), NoCheck: p.Config.Build.SkipCheck,
		Toolchain: headers, LearnedFile: workspace.LearnedPath(buildDir), Remote: remote, Seeding: tree.Seeding, SRPMs: published,
	})
}

// remoteRPMs are the packages the tree takes from remote repositories,
// downloaded into the remote cache when a build root needs them.
func remoteRPMs(p *project.Project, tree *workspace.Tree) (map[string]RemoteRPM, error) {
	if len(tree.Remote) == 0 {
		return nil, nil
	}
	cacheDir, err := workspace.RemoteCacheDir(p)
	if err != nil {
		return nil, err
	}
	out := map[string]RemoteRPM{}
	for name, rp := range tree.Remote {
		out[name] = RemoteRPM{Repo: rp.Repo.ID, URL: rp.URL(),
			Download: func(ctx context.Context) (string, error) { return rp.Download(ctx, cacheDir) }}
	}
	return out, nil
}

// baseRoot is the root every build starts from: every package of the
// toolchain repository installed with dnf (made once per toolchain), or a
// given rootfs. Its ID enters every build's key. idOnly skips making it.
func baseRoot(ctx context.Context, buildDir, rootfs string, idOnly bool) (dir, id string, err error) {
	if rootfs != "" {
		return rootfs, "rootfs:" + rootfs, nil
	}
	repoDir := workspace.ToolchainRepoDir(buildDir)
	if _, err := os.Stat(filepath.Join(repoDir, "repodata", "repomd.xml")); err != nil {
		return "", "", fmt.Errorf("no toolchain repository in %s: run slipway toolchain first", repoDir)
	}
	// The ID is made of the RPMs' contents, not of the metadata (whose
	// timestamps differ between machines), so a store moved to another
	// machine with the same toolchain keeps its keys.
	files, _ := filepath.Glob(filepath.Join(repoDir, "*.rpm"))
	var names []string
	h := sha256.New()
	for _, f := range files { // Glob sorts
		pkg, err := graph.ParseRPMFileName(filepath.Base(f))
		if err == nil && !slices.Contains(names, pkg.Name) {
			names = append(names, pkg.Name)
		}
		d, err := buildroot.FileDigest(filepath.Join(buildDir, "bases"), f)
		if err != nil {
			return "", "", err
		}
		fmt.Fprintf(h, "%s %s\n", filepath.Base(f), d)
	}
	id = "toolchain-rpms:" + hex.EncodeToString(h.Sum(nil))
	if idOnly {
		return "", id, nil
	}
	dir, err = buildroot.MakeBase(ctx, buildroot.BaseSpec{CacheDir: filepath.Join(buildDir, "bases"), Repo: repoDir, Packages: names})
	return dir, id, err
}

func forced(specs []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range specs {
		m[s] = true
	}
	return m
}
