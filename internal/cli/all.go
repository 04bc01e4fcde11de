package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"slipway/internal/image"
	"slipway/internal/report"
	"slipway/internal/workspace"
)

func (a *app) buildAllCommand() *cobra.Command {
	var (
		tf  toolchainFlags
		bf  buildFlags
		imf imageFlags
	)
	cmd := &cobra.Command{
		Use:     "build-all [CONFIG...]",
		Aliases: []string{"all"},
		Short:   "Build everything: the toolchain, the packages, then the images",
		Long: `Run the three stages in order, as slipway toolchain, slipway build and
slipway image would, and stop at the first stage that fails:

  toolchain  the toolchain RPMs (build/toolchain/RPMS)
  packages   every other spec, in parallel (out/RPMS, out/SRPMS)
  images     the image configs: CONFIG, else every config in
             [images] configs_dir (out/images/<config>/)

The image configs are checked first, so a mistake in one stops the run
before anything is built. With CONFIG and no --goal, the package stage
builds only what those images need. Every stage reuses what did not
change: a second run with nothing changed builds nothing.

At the end slipway prints each stage's counts and time and where every
artifact is, and writes build/report.html: the stages, every package's
decision with its reason and log, and a timeline of the build workers.
The flags are those of the three stage commands.`,
		Example: `  slipway build-all                      # the bundled example, or the project here
  slipway -C examples/tiny build-all tiny-efi
  slipway build-all --retries 1 -j 8`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a.seed = bf.seedPolicy()
			t, unlock, err := a.loadForWork(ctx, "slipway build-all")
			if err != nil {
				return err
			}
			defer unlock()
			configs, paths, err := a.configsOf(t, args, "nothing was built")
			if err != nil {
				return err
			}
			if len(args) > 0 && len(bf.goals) == 0 {
				bf.goals = paths
			}
			run := a.newRun(t, "slipway build-all")
			defer a.finishAll(t, run)
			err = a.allStages(ctx, t, tf, bf, imf, configs, run)
			return err
		},
	}
	tf.add(cmd.Flags())
	bf.add(cmd.Flags())
	imf.add(cmd.Flags())
	return cmd
}

// stageNames are the stages of build-all, in order.
var stageNames = []string{"toolchain", "packages", "images"}

// allStages runs the stages in order until one fails.
func (a *app) allStages(ctx context.Context, t *workspace.Tree, tf toolchainFlags, bf buildFlags, imf imageFlags, configs []*image.Config, run *report.Run) error {
	start := time.Now()
	tc, err := a.runToolchain(ctx, t, tf)
	if err != nil {
		run.Stages = append(run.Stages, report.Stage{Name: "toolchain", Summary: "failed", Duration: time.Since(start), Failed: true})
		return err
	}
	run.Stages = append(run.Stages, report.Stage{Name: "toolchain", Summary: toolchainCounts(tc), Duration: time.Since(start)})
	// The package stage resolves against the toolchain just made.
	if t, err = a.evaluate(ctx, t.Project); err != nil {
		return err
	}
	if _, err := a.runPackages(ctx, t, bf, run); err != nil {
		return err
	}
	return a.runImages(ctx, t, configs, imf, run)
}

// finishAll prints the summary of a build-all run and writes its report.
func (a *app) finishAll(t *workspace.Tree, run *report.Run) {
	fmt.Fprintf(a.stdout, "\nsummary of %s (%s):\n", run.Command, time.Since(run.Start).Round(time.Millisecond))
	for i, name := range stageNames {
		if i >= len(run.Stages) {
			fmt.Fprintf(a.stdout, "  %-10s not run (an earlier stage failed)\n", name)
			continue
		}
		s := run.Stages[i]
		status := ""
		if s.Failed {
			status = "  FAILED"
		}
		fmt.Fprintf(a.stdout, "  %-10s %-50s %10s%s\n", s.Name, s.Summary, s.Duration.Round(time.Millisecond), status)
	}
	if len(run.Artifacts) > 0 {
		fmt.Fprintln(a.stdout, "artifacts:")
		for _, art := range run.Artifacts {
			fmt.Fprintf(a.stdout, "  %-20s %-8s %9.1f MiB  %s\n", art.Image, art.Type, float64(art.Size)/(1<<20), a.relPath(art.Path))
		}
	}
	a.writeReport(t, run)
}
