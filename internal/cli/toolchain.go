package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"slipway/internal/toolchain"
)

func (a *app) toolchainCommand() *cobra.Command {
	var mode string
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
			p := t.Project
			if mode != "" {
				p.Config.Toolchain.Mode = mode
			}
			start := time.Now()
			report, err := toolchain.RunProject(cmd.Context(), p, t, a.stderr, a.log)
			var be *toolchain.BuildError
			var me *toolchain.MismatchError
			switch {
			case errors.As(err, &be):
				return problemsError{err.Error()}
			case errors.As(err, &me):
				return problemsError{err.Error()}
			case err != nil:
				return err
			}
			fmt.Fprintf(a.stdout, "toolchain: %d built, %d reused; %d RPMs in %s (%s)\n",
				report.Built, report.Reused, len(report.RPMs), report.RepoDir, time.Since(start).Round(time.Millisecond))
			if report.Built == 0 && report.Mode == "rebuild" {
				fmt.Fprintln(a.stdout, "toolchain: nothing changed, nothing was rebuilt")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&mode, "mode", "", "rebuild, download or archive (default: [toolchain] mode)")
	return cmd
}
