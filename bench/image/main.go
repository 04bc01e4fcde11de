// Command image benchmarks the image stage (see bench/README.md): the time
// of each step of making an image config of a built project, from its
// RPMs on disk to the artifacts, over several runs, against the target of
// 60 s for the whole example EFI image (issue: image stage).
//
//	go run ./bench/image -project examples/tiny -config tiny-efi [-runs 3]
//
// The project's toolchain and packages must be built (slipway toolchain,
// slipway build). Work goes to a temporary directory; the project's out/
// is not touched.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"slipway/internal/buildroot"
	"slipway/internal/image"
	"slipway/internal/image/compose"
	"slipway/internal/project"
	"slipway/internal/workspace"
)

func main() {
	if buildroot.IsSandboxInit() {
		buildroot.SandboxInit()
	}
	proj := flag.String("project", "examples/tiny", "a built project")
	config := flag.String("config", "tiny-efi", "image config name (in the project's configs_dir) or .json path")
	runs := flag.Int("runs", 3, "runs to time")
	flag.Parse()
	if err := run(*proj, *config, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(dir, config string, runs int) error {
	p, err := project.Load(dir)
	if err != nil {
		return err
	}
	path, ok := image.ConfigPath(p.Path(p.Config.Images.ConfigsDir), config)
	if !ok {
		return fmt.Errorf("no image config %q", config)
	}
	cfg, err := image.Load(path)
	if err != nil {
		return err
	}
	repos := []string{filepath.Join(p.Path(p.Config.Project.OutDir), "RPMS"), workspace.ToolchainRepoDir(p.Path(p.Config.Project.BuildDir))}
	tmp, err := os.MkdirTemp("", "slipway-bench-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	steps := map[string][]time.Duration{}
	var order []string
	var totals []time.Duration
	for i := 0; i < runs; i++ {
		start := time.Now()
		res, err := compose.Build(context.Background(), compose.Options{Config: cfg, Repos: repos,
			WorkDir: filepath.Join(tmp, "work"), OutDir: filepath.Join(tmp, fmt.Sprint("out", i)), Rebuild: true})
		if err != nil {
			return err
		}
		totals = append(totals, time.Since(start))
		for _, s := range res.Steps {
			if _, seen := steps[s.Name]; !seen {
				order = append(order, s.Name)
			}
			steps[s.Name] = append(steps[s.Name], s.Duration)
		}
		os.RemoveAll(filepath.Join(tmp, fmt.Sprint("out", i)))
	}
	fmt.Printf("image %s, %d runs (median, min, max):\n", config, runs)
	for _, name := range order {
		med, lo, hi := stats(steps[name])
		fmt.Printf("  %-22s %7.2fs %7.2fs %7.2fs\n", name, med.Seconds(), lo.Seconds(), hi.Seconds())
	}
	med, lo, hi := stats(totals)
	fmt.Printf("  %-22s %7.2fs %7.2fs %7.2fs   target 60 s: median is %.2f of it\n", "total", med.Seconds(), lo.Seconds(), hi.Seconds(), med.Seconds()/60)
	return nil
}

func stats(d []time.Duration) (median, lo, hi time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[0], s[len(s)-1]
}
