package toolchain

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"slipway/internal/fetch"
	"slipway/internal/project"
	"slipway/internal/source"
	"slipway/internal/workspace"
)

// RunProject runs the toolchain stage of a project whose tree is loaded:
// the settings come from its [toolchain] and [sources] tables.
func RunProject(ctx context.Context, p *project.Project, tree *workspace.Tree, progress io.Writer, logger *slog.Logger) (*Report, error) {
	tc := p.Config.Toolchain
	if tc.Manifest == "" {
		return nil, fmt.Errorf("%s: [toolchain] manifest is not set: the toolchain stage checks its result against it", p.File)
	}
	manifest, err := ReadRPMList(p.Path(tc.Manifest))
	if err != nil {
		return nil, err
	}
	macros, err := workspace.MacroSet(p)
	if err != nil {
		return nil, err
	}
	opts := Options{
		Mode: tc.Mode, SpecsDir: p.Path(p.Config.Project.SpecsDir), BuildDir: p.Path(p.Config.Project.BuildDir),
		Specs: tree.Eval.Specs, Generated: tree.Eval.GeneratedMacros, Macros: macros,
		Sources: source.ProjectOptions(p, logger), ManifestPath: p.Path(tc.Manifest), Manifest: manifest,
		Progress: progress, Offline: p.Offline,
		Bootstrap: func(ctx context.Context, cacheDir string, log io.Writer) (*Bootstrap, error) {
			return MakeBootstrap(ctx, p, cacheDir, log)
		},
	}
	for _, k := range tc.GPGKeys {
		opts.GPGKeys = append(opts.GPGKeys, p.Path(k))
	}
	switch tc.Mode {
	case "archive":
		if tc.Archive == "" {
			return nil, fmt.Errorf("%s: [toolchain] archive is not set: archive mode takes the RPMs from it", p.File)
		}
		opts.Archive = p.Path(tc.Archive)
	case "download":
		opts.URLs = tc.URLs
		opts.Fetcher = fetch.ForHosts(tc.URLs, p.FetchAuth(tc.Auth), logger)
	case "rebuild":
		if tc.BuildOrder == "" {
			return nil, fmt.Errorf("%s: [toolchain] build_order is not set: rebuild mode builds the specs it lists", p.File)
		}
		if opts.Steps, err = ParseBuildOrder(p.Path(tc.BuildOrder)); err != nil {
			return nil, err
		}
		if tc.DownloadSRPMs {
			if opts.SRPMs, err = workspace.SRPMFinder(ctx, p, tree.Remotes, logger); err != nil {
				return nil, err
			}
		}
	}
	return Run(ctx, opts)
}
