// Command build benchmarks the package stage (see bench/README.md): the
// time of a no-op `slipway build` (nothing changed), and the overhead of
// one real build apart from rpmbuild itself: making the build root and
// installing the build's dependencies into it.
//
//	go run ./bench/build -base /path/to/root-with-rpm [-runs 5]
//	go run ./bench/build -project examples/tiny   (after slipway toolchain there)
//
// By default the project is internal/build/testdata/project (three small
// specs) in the base root -base, which must hold rpm, rpmbuild and patch
// (e.g. mmdebstrap --variant=essential --include=rpm,patch bookworm DIR).
// With -project, a copy of that project is built on its own toolchain.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"slipway/internal/build"
	"slipway/internal/buildroot"
	"slipway/internal/project"
	"slipway/internal/workspace"
)

func main() {
	if buildroot.IsSandboxInit() {
		buildroot.SandboxInit()
	}
	base := flag.String("base", "", "base root directory with rpm, rpmbuild and patch")
	proj := flag.String("project", "", "a project whose toolchain is made (instead of the test project and -base)")
	runs := flag.Int("runs", 5, "no-op runs to time")
	flag.Parse()
	if (*base == "") == (*proj == "") {
		fmt.Fprintln(os.Stderr, "bench: give -base or -project")
		os.Exit(2)
	}
	if err := run(*base, *proj, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(base, proj string, runs int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "slipway-bench-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src := "internal/build/testdata/project"
	if proj != "" {
		src = proj
	}
	if err := copyProject(src, dir); err != nil {
		return fmt.Errorf("run from the repository's top directory: %w", err)
	}
	once := func() (time.Duration, *build.Summary, error) {
		start := time.Now()
		p, err := project.Load(dir)
		if err != nil {
			return 0, nil, err
		}
		tree, err := workspace.Load(ctx, p, workspace.Options{})
		if err != nil {
			return 0, nil, err
		}
		sum, err := build.RunProject(ctx, p, tree, build.ProjectOptions{BaseRootfs: base})
		return time.Since(start), sum, err
	}
	cold, sum, err := once()
	if err != nil {
		return err
	}
	fmt.Printf("first build: %s (%v)\n", cold.Round(time.Millisecond), sum.Counts)
	var noop []time.Duration
	for i := 0; i < runs; i++ {
		d, sum, err := once()
		if err != nil {
			return err
		}
		if sum.Counts[build.Built] != 0 {
			return fmt.Errorf("a no-op run built %d specs", sum.Counts[build.Built])
		}
		noop = append(noop, d)
	}
	slices.Sort(noop)
	fmt.Printf("no-op build (evaluate from cache, plan, reuse all, publish): median %s of %d runs (target < 2 s)\n",
		noop[len(noop)/2].Round(time.Millisecond), runs)

	if proj != "" {
		return nil // the overhead is measured on the test project, with -base
	}
	// The overhead of one build apart from rpmbuild: an overlay root over
	// the base, the build's dependencies (plib, plib-devel) installed with
	// rpm, a sandbox started and torn down.
	rpms, _ := filepath.Glob(filepath.Join(dir, "out", "RPMS", "noarch", "plib*.rpm"))
	var over []time.Duration
	for i := 0; i < runs; i++ {
		upper := filepath.Join(dir, "bench-root")
		start := time.Now()
		spec := buildroot.Spec{Lower: []string{base}, Upper: upper, Env: buildroot.DefaultEnv()}
		if err := buildroot.InstallInto(ctx, spec, rpms); err != nil {
			return err
		}
		spec.Argv = []string{"/bin/true"}
		if _, err := buildroot.Run(ctx, spec); err != nil {
			return err
		}
		os.RemoveAll(upper)
		over = append(over, time.Since(start))
	}
	slices.Sort(over)
	fmt.Printf("per-build overhead (build root + installing %d dependency RPMs, no rpmbuild): median %s\n",
		len(rpms), over[len(over)/2].Round(time.Millisecond))
	return nil
}

// copyProject copies a project without its out/, and with its build/ only
// when it holds a made toolchain (so -project does not rebuild it).
func copyProject(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		switch {
		case d.IsDir() && rel == "out",
			d.IsDir() && strings.HasPrefix(rel, "build") && rel != "build" && rel != filepath.Join("build", "toolchain") &&
				!strings.HasPrefix(rel, filepath.Join("build", "toolchain", "RPMS")):
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}
