// Package workspace ties a project to its evaluated spec tree and graph:
// the one place that turns slipway.toml settings into inputs of the spec
// evaluator and the graph builder.
package workspace

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"slipway/internal/graph"
	"slipway/internal/image"
	"slipway/internal/project"
	"slipway/internal/repo"
	"slipway/internal/rpm"
	"slipway/internal/spec"
)

// Options tune loading.
type Options struct {
	Jobs     int                   // parallel evaluations; 0 = project setting, then CPU count
	Progress func(done, total int) // called as specs are evaluated
	Logger   *slog.Logger          // default: none
	// IgnoreLock loads the [remote] repositories even when a lock file
	// exists (to write a new one).
	IgnoreLock bool
}

// Tree is a project's evaluated specs and their graph.
type Tree struct {
	Project *project.Project
	Eval    *spec.Result
	Graph   *graph.Graph
	// Toolchain are the headers of the toolchain repository's RPMs (none
	// before the toolchain stage has run).
	Toolchain []*rpm.Header
	// Remote are the packages remote repositories ([remote]) provide to
	// the graph, by name: what nothing local provides.
	Remote map[string]RemotePackage
	// Remotes are the [remote] repositories, in priority order.
	Remotes []*repo.Repo
	// Locked says Remotes are the packages remote.lock.json pins.
	Locked bool
	// Seeding says, per spec, why rebuild = "changed" builds it or takes
	// its packages from the repositories, and which specs rebuild =
	// "listed" takes although they build against a spec built here.
	Seeding map[string]string
	// GraphTime is how long building the graph took (with the remote
	// repositories' metadata).
	GraphTime time.Duration

	localMu sync.Mutex
	local   map[string]*repo.Repo // local repositories loaded for images, by directory
}

// Load evaluates the project's specs (from the cache where unchanged) and
// builds the graph. Specs that fail to evaluate are in Eval.Errors and
// missing from the graph; the error return is for setup problems.
func Load(ctx context.Context, p *project.Project, opts Options) (*Tree, error) {
	macros, err := MacroSet(p)
	if err != nil {
		return nil, err
	}
	prebuilt, err := Prebuilt(p)
	if err != nil {
		return nil, err
	}
	jobs := opts.Jobs
	if jobs == 0 {
		jobs = p.Config.Project.Jobs
	}
	res, err := spec.Evaluate(ctx, spec.Options{
		SpecsDir:           p.Path(p.Config.Project.SpecsDir),
		BuildDir:           p.Path(p.Config.Project.BuildDir),
		Macros:             macros,
		DistTag:            p.Config.RPM.DistTag,
		VersionMacroPrefix: p.Config.RPM.VersionMacroPrefix,
		Jobs:               jobs,
		Progress:           opts.Progress,
	})
	if err != nil {
		return nil, err
	}
	headers, err := toolchainHeaders(p)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	remotes, locked, err := remoteRepos(ctx, p, opts, logger)
	if err != nil {
		return nil, err
	}
	learned := graph.ReadLearned(LearnedPath(p.Path(p.Config.Project.BuildDir)))
	in := graph.Input{Specs: res.Specs, Prebuilt: withHeaders(prebuilt, headers), Learned: learned, Arch: p.Config.Project.Arch}
	var taken map[string]RemotePackage
	var seeding map[string]string
	switch p.Config.Remote.Rebuild {
	case project.RebuildListed:
		if in, taken, seeding, err = seedListed(in, remotes, p.Config.Remote); err != nil {
			return nil, fmt.Errorf("%s: %w", p.File, err)
		}
		for _, s := range slices.Sorted(maps.Keys(seeding)) {
			logger.Warn(s + ": " + seeding[s])
		}
	case project.RebuildChanged:
		finder, err := SRPMFinder(ctx, p, remotes, logger)
		if err != nil {
			return nil, err
		}
		if in, taken, seeding, err = seedChanged(ctx, in, remotes, finder, p.Path(p.Config.Project.SpecsDir), jobs); err != nil {
			return nil, fmt.Errorf("rebuild = %q: %w", project.RebuildChanged, err)
		}
	}
	g, remote := seedFromRemotes(in, remotes, taken)
	if locked {
		if err := lockCovers(g); err != nil {
			return nil, fmt.Errorf("%s: %w", LockPath(p), err)
		}
	}
	return &Tree{Project: p, Eval: res, Graph: g, Toolchain: headers, Remote: remote, Remotes: remotes, Locked: locked,
		Seeding: seeding, GraphTime: time.Since(start)}, nil
}

// MacroSet is the project's macro environment: rpm.vendor_macros,
// the files rpm.macro_files match, rpm.lua_modules and the defines.
func MacroSet(p *project.Project) (spec.MacroSet, error) {
	rc := p.Config.RPM
	m := spec.MacroSet{Defines: p.Defines(), LuaModules: map[string]string{}}
	if rc.VendorMacros != "" {
		m.VendorMacros = p.Path(rc.VendorMacros)
	}
	seen := map[string]string{}
	for _, pattern := range rc.MacroFiles {
		files, err := filepath.Glob(p.Path(pattern))
		if err != nil {
			return m, fmt.Errorf("%s: rpm.macro_files: %q: %w", p.File, pattern, err)
		}
		if len(files) == 0 {
			return m, fmt.Errorf("%s: rpm.macro_files: %q matches no file", p.File, pattern)
		}
		for _, f := range files {
			base := filepath.Base(f)
			if other, dup := seen[base]; dup && other != f {
				return m, fmt.Errorf("%s: rpm.macro_files: %s and %s would both be macros.d/%s", p.File, other, f, base)
			}
			if seen[base] == "" {
				seen[base] = f
				m.MacroFiles = append(m.MacroFiles, f)
			}
		}
	}
	for mod, f := range rc.LuaModules {
		m.LuaModules[mod] = p.Path(f)
	}
	return m, nil
}

// Prebuilt lists the packages that count as already built: those of the
// toolchain manifest and toolchain.prebuilt.
func Prebuilt(p *project.Project) ([]graph.Prebuilt, error) {
	var out []graph.Prebuilt
	if m := p.Config.Toolchain.Manifest; m != "" {
		path := p.Path(m)
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		var errs []error
		for line := 1; sc.Scan(); line++ {
			text := strings.TrimSpace(sc.Text())
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			pkg, err := graph.ParseRPMFileName(text)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %w", path, line, err))
				continue
			}
			out = append(out, pkg)
		}
		if err := errors.Join(append(errs, sc.Err())...); err != nil {
			return nil, err
		}
	}
	for _, name := range p.Config.Toolchain.Prebuilt {
		out = append(out, graph.Prebuilt{Name: name})
	}
	return out, nil
}

// Goals turns goal arguments into graph nodes. A goal is a spec name, a
// package name, or an image config (a path ending in .json, or a config
// name found in images.configs_dir) whose packages become the goals. A
// name given directly must exist; packages an image config names that no
// spec builds are returned in external (they come from the toolchain or a
// remote repository).
func (t *Tree) Goals(args []string) (nodes []int, external []string, err error) {
	var names []string
	for _, a := range args {
		cfg, ok := t.imageConfig(a)
		if !ok {
			names = append(names, a)
			continue
		}
		pkgs, err := image.Packages(cfg)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range pkgs {
			if _, ok := t.Graph.Lookup(p); ok {
				names = append(names, p)
			} else {
				external = append(external, p)
			}
		}
	}
	if nodes, err = t.Graph.Resolve(names); err != nil {
		return nil, nil, err
	}
	sort.Ints(nodes)
	return nodes, external, nil
}

func (t *Tree) imageConfig(arg string) (string, bool) {
	return image.ConfigPath(t.Project.Path(t.Project.Config.Images.ConfigsDir), arg)
}
