package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"slipway/internal/build"
	"slipway/internal/fetch"
	"slipway/internal/project"
	"slipway/internal/report"
	"slipway/internal/workspace"
)

// buildFlags are the package stage's flags (slipway build and slipway
// build-all).
type buildFlags struct {
	goals []string
	force []string
	// rebuild, rebuildOnly and rebuildDependents override [remote] rebuild.
	rebuild           string
	rebuildOnly       []string
	rebuildDependents int
	stopOnFailure     bool
	retries           int
	timeout           time.Duration
}

func (f *buildFlags) add(fs *pflag.FlagSet) {
	fs.StringSliceVarP(&f.goals, "goal", "g", nil, "build only what these need (spec, package or image config; repeatable)")
	fs.StringSliceVar(&f.force, "force-rebuild", nil, "build these specs (or the specs of these packages) even if their outputs are stored (repeatable)")
	fs.StringVar(&f.rebuild, "rebuild-policy", "", `which specs to build when [remote] repositories are set: "all", "changed" (those that differ from their published source RPM, and what builds against them) or "listed" (see --rebuild-only); default: [remote] rebuild`)
	fs.StringSliceVar(&f.rebuildOnly, "rebuild-only", nil, "build only these specs (repeatable); take every other spec's packages from the [remote] repositories")
	fs.IntVar(&f.rebuildDependents, "rebuild-dependents", 0, "with --rebuild-only, also build the specs that build against them, to this depth")
	fs.BoolVar(&f.stopOnFailure, "stop-on-failure", false, "start no new build after a failure")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Hour, "time limit of one build")
	fs.IntVar(&f.retries, "retries", 0, "try a failed build this many more times")
}

// seedPolicy is the [remote] rebuild policy the flags ask for, or nil.
func (f *buildFlags) seedPolicy() func(*project.RemoteSection) error {
	switch {
	case f.rebuild == "" && len(f.rebuildOnly) == 0 && f.rebuildDependents != 0:
		return func(*project.RemoteSection) error { return errors.New("--rebuild-dependents needs --rebuild-only") }
	case f.rebuild == "" && len(f.rebuildOnly) == 0:
		return nil
	}
	return func(r *project.RemoteSection) error {
		policy := f.rebuild
		if len(f.rebuildOnly) > 0 {
			if policy != "" && policy != project.RebuildListed {
				return fmt.Errorf("--rebuild-policy %s and --rebuild-only: --rebuild-only is --rebuild-policy %s", policy, project.RebuildListed)
			}
			policy = project.RebuildListed
		}
		switch policy {
		case project.RebuildAll:
			r.Rebuild = policy
			return nil
		case project.RebuildChanged, project.RebuildListed:
		default:
			return fmt.Errorf("--rebuild-policy %q: use %q, %q or %q", policy, project.RebuildAll, project.RebuildChanged, project.RebuildListed)
		}
		if len(r.Repos) == 0 && len(r.RepoFiles) == 0 {
			flag := "--rebuild-policy " + policy
			if len(f.rebuildOnly) > 0 {
				flag = "--rebuild-only"
			}
			return fmt.Errorf("%s takes packages from the [remote] repositories, and slipway.toml has none", flag)
		}
		if policy == project.RebuildListed && len(f.rebuildOnly) == 0 && len(r.RebuildList) == 0 {
			return errors.New("--rebuild-policy listed: name the specs with --rebuild-only (or remote.rebuild_list)")
		}
		if f.rebuildDependents < 0 {
			return fmt.Errorf("--rebuild-dependents %d: negative", f.rebuildDependents)
		}
		r.Rebuild = policy
		if len(f.rebuildOnly) > 0 {
			r.RebuildList, r.RebuildDependents = f.rebuildOnly, f.rebuildDependents
		}
		return nil
	}
}

func (a *app) buildCommand() *cobra.Command {
	var flags buildFlags
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the packages (the package stage), reusing what is unchanged",
		Long: `Build every spec that is not part of the toolchain (or only what --goal
needs), in parallel (-j) in isolated build roots made from the toolchain
(run slipway toolchain first). A build is keyed by its spec directory, its
sources, the macros and the exact RPMs of its build root: a build whose key
is in the store is reused, so an unchanged tree builds nothing, and a
rebuild that produces the same bytes does not rebuild what depends on it.

With [remote] repositories, --rebuild-policy changed (or [remote] rebuild)
builds only the specs that differ from their published source RPM, and
what builds against them, and takes every other spec's packages from the
repositories; --rebuild-only SPEC builds only SPEC.

A failure does not stop unrelated builds; what needs the failed package is
reported blocked. Logs: build/logs/packages/<spec>.log. Outputs: out/RPMS,
out/SRPMS (with repository metadata). Summary: build/summary.json, and
build/report.html (open it in a browser: the decisions, reasons, logs and
a timeline of the workers). slipway why SPEC explains a decision.`,
		Example: `  slipway build
  slipway build --goal tinysh -j 4
  slipway build --stop-on-failure
  slipway build --rebuild-policy changed`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.seed = flags.seedPolicy()
			t, unlock, err := a.loadForWork(cmd.Context(), "slipway build")
			if err != nil {
				return err
			}
			defer unlock()
			run := a.newRun(t, "slipway build")
			sum, err := a.runPackages(cmd.Context(), t, flags, run)
			if sum != nil {
				a.writeReport(t, run)
			}
			return err
		},
	}
	flags.add(cmd.Flags())
	return cmd
}

// runPackages runs the package stage, prints its summary and records it
// in run; failed or blocked builds are a problemsError.
func (a *app) runPackages(ctx context.Context, t *workspace.Tree, flags buildFlags, run *report.Run) (*build.Summary, error) {
	var nodes []int
	if len(flags.goals) > 0 {
		var err error
		if nodes, _, err = t.Goals(flags.goals); err != nil {
			return nil, usageError{err}
		}
	}
	force, err := forcedSpecs(t, flags.force)
	if err != nil {
		return nil, usageError{err}
	}
	opts := build.ProjectOptions{Goals: nodes, Force: force, Jobs: a.jobs, StopOnFailure: flags.stopOnFailure, Retries: flags.retries, Timeout: flags.timeout, Logger: a.log}
	var live *liveView
	if isTerminal(a.stderr) {
		live = newLiveView(a.stderr, a.jobs)
		opts.Events = live.event
	} else {
		opts.Progress = a.stderr // plain lines in a pipe or CI
	}
	start := time.Now() // the stage's time includes making the base root, which sum.Duration leaves out
	sum, err := build.RunProject(ctx, t.Project, t, opts)
	if live != nil {
		live.close()
	}
	if err != nil {
		return nil, err
	}
	writeBuildSummary(a.stdout, sum)
	failed := sum.Counts[build.Failed] + sum.Counts[build.Blocked]
	run.Packages, run.Workers = report.Packages(sum), sum.Workers
	run.Stages = append(run.Stages, report.Stage{Name: "packages", Summary: packageCounts(sum), Duration: time.Since(start), Failed: failed > 0})
	if failed > 0 {
		return sum, problemsError{fmt.Sprintf("%d failed, %d blocked (see above; logs in %s)",
			sum.Counts[build.Failed], sum.Counts[build.Blocked], filepath.Join(t.Project.Config.Project.BuildDir, "logs", "packages"))}
	}
	return sum, nil
}

// forcedSpecs resolves --force-rebuild's spec and package names to the
// specs that build them.
func forcedSpecs(t *workspace.Tree, names []string) ([]string, error) {
	nodes, err := t.Graph.Resolve(names)
	if err != nil {
		return nil, fmt.Errorf("--force-rebuild: %w", err)
	}
	var specs []string
	for i, n := range nodes {
		node := t.Graph.Nodes[n]
		if node.Spec == "" || node.Prebuilt {
			return nil, fmt.Errorf("--force-rebuild %s: no spec of the package stage builds it", names[i])
		}
		specs = append(specs, node.Spec)
	}
	return specs, nil
}

func writeBuildSummary(w io.Writer, sum *build.Summary) {
	fmt.Fprintf(w, "%-30s %-9s %10s  %s\n", "SPEC", "DECISION", "TIME", "REASON")
	for _, r := range sum.Results {
		if r.Decision == build.Toolchain {
			continue
		}
		d := ""
		if r.Decision == build.Built || r.Decision == build.Failed {
			d = r.End.Sub(r.Start).Round(time.Millisecond).String()
		}
		fmt.Fprintf(w, "%-30s %-9s %10s  %s\n", r.Spec, r.Decision, d, r.Reason)
	}
	if len(sum.Remote) > 0 {
		fmt.Fprintf(w, "%d packages from remote repositories (in out/RPMS when their spec was taken from there; for the build roots named):\n", len(sum.Remote))
		for _, r := range sum.Remote {
			use := slices.Clone(r.NeededBy)
			if r.Published {
				use = append([]string{"out/RPMS"}, use...)
			}
			fmt.Fprintf(w, "  %-40s %-12s sha256 %.12s  %s  (%s)\n", r.File, r.Repo, r.SHA256, fetch.Redact(r.URL), strings.Join(use, " "))
		}
	}
	if len(sum.Unprovided) > 0 {
		fmt.Fprintf(w, "%d requirements of the built RPMs that nothing here provides (installing them will need another repository):\n", len(sum.Unprovided))
		for _, u := range sum.Unprovided {
			fmt.Fprintf(w, "  %-40s needed by %s\n", u.Cap, strings.Join(u.NeededBy, " "))
		}
	}
	fmt.Fprintf(w, "package stage: %s in %s on %d workers\n", packageCounts(sum), sum.Duration.Round(time.Millisecond), sum.Workers)
}

// packageCounts is "N built, M reused, ..." (the decisions that occurred).
func packageCounts(sum *build.Summary) string {
	var parts []string
	for _, d := range []build.Decision{build.Built, build.Reused, build.Remote, build.Failed, build.Blocked, build.Toolchain} {
		if n := sum.Counts[d]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, d))
		}
	}
	if len(parts) == 0 {
		return "nothing to build"
	}
	return strings.Join(parts, ", ")
}

func (a *app) whyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "why SPEC",
		Short: "Say why the last build built, reused or blocked a spec",
		Long: `Say what the last slipway build decided for SPEC and why: which of its
inputs changed (its spec directory, a source, the macros, a package of its
build root), that nothing changed, or which failed package blocked it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.loadProject()
			if err != nil {
				return err
			}
			d, reason, err := build.Why(p.Path(p.Config.Project.BuildDir), args[0])
			if err != nil {
				return usageError{err}
			}
			fmt.Fprintf(a.stdout, "%s: %s: %s\n", args[0], d, reason)
			return nil
		},
	}
}
