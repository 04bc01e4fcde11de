package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"slipway/internal/toolchain"
	"slipway/internal/workspace"
)

// toolchainFlags are the toolchain stage's flags (slipway toolchain and
// slipway build-all).
type toolchainFlags struct{ mode string }

func (f *toolchainFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.mode, "mode", "", "toolchain mode: rebuild, download or archive (default: [toolchain] mode)")
}

func (a *app) toolchainCommand() *cobra.Command {
	var flags toolchainFlags
	cmd := &cobra.Command{
		Use:   "toolchain",
		Short: "Make the toolchain: the RPMs every package build root is made of",
		Long: `Make the toolchain RPMs and write them as a repository (build/toolchain/RPMS)
that the package stage builds with. The result must match the toolchain
manifest ([toolchain] manifest) exactly.

Modes ([toolchain] mode, or --mode):
  rebuild   build the specs of [toolchain] build_order in order, in isolated
            build roots over the bootstrap root ([toolchain.bootstrap]) plus
            the RPMs its INSTALL steps put in. A build whose inputs (spec,
            files, sources, the root it builds in) are unchanged is reused.
  download  fetch the manifest's RPMs from [toolchain] urls (with
            [toolchain.auth]; signatures checked with [toolchain] gpg_keys)
  archive   take them from [toolchain] archive (a tarball of RPMs)

Each build's log is under build/logs/toolchain/; build/toolchain/summary.json
records what was built or reused.`,
		Example: `  slipway toolchain
  slipway toolchain -C ~/azurelinux`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, unlock, err := a.loadForWork(cmd.Context(), "slipway toolchain")
			if err != nil {
				return err
			}
			defer unlock()
			_, err = a.runToolchain(cmd.Context(), t, flags)
			return err
		},
	}
	flags.add(cmd.Flags())
	return cmd
}

// runToolchain runs the toolchain stage and prints its result line.
func (a *app) runToolchain(ctx context.Context, t *workspace.Tree, flags toolchainFlags) (*toolchain.Report, error) {
	p := t.Project
	if flags.mode != "" {
		p.Config.Toolchain.Mode = flags.mode
	}
	start := time.Now()
	report, err := toolchain.RunProject(ctx, p, t, a.stderr, a.log)
	var be *toolchain.BuildError
	var me *toolchain.MismatchError
	switch {
	case errors.As(err, &be), errors.As(err, &me):
		return nil, problemsError{err.Error()}
	case err != nil:
		return nil, err
	}
	fmt.Fprintf(a.stdout, "toolchain: %s in %s (%s)\n", toolchainCounts(report), a.relPath(report.RepoDir), time.Since(start).Round(time.Millisecond))
	if report.Built == 0 && report.Mode == "rebuild" {
		fmt.Fprintln(a.stdout, "toolchain: nothing changed, nothing was rebuilt")
	}
	return report, nil
}

// toolchainCounts is "N built, M reused; K RPMs".
func toolchainCounts(r *toolchain.Report) string {
	return fmt.Sprintf("%d built, %d reused; %d RPMs", r.Built, r.Reused, len(r.RPMs))
}
