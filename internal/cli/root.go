// Package cli is slipway's command line: flag parsing, loading the
// project, and rendering results and progress. The work itself is done by
// the domain packages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"slipway/examples"
	"slipway/internal/fsutil"
	"slipway/internal/project"
	"slipway/internal/workspace"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the command ran and found problems (failed specs, cycles)
	exitUsage  = 2 // bad flags, bad config, unknown goal
	exitBroken = 3 // slipway itself could not work (missing tools, I/O)
)

// usageError marks errors that are the caller's to fix (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// problemsError marks a command that completed but found problems (exit 1);
// the problems were already printed.
type problemsError struct{ summary string }

func (e problemsError) Error() string { return e.summary }

// app is the state the commands share: where output goes and the global flags.
type app struct {
	stdout, stderr io.Writer
	projectDir     string
	jobs           int
	verbose        bool
	log            *slog.Logger
	// seed, when set, changes [remote] before the tree is evaluated
	// (build --rebuild-only).
	seed func(*project.RemoteSection) error
	// offline goes to the loaded project (project.Offline), ignoreLock
	// to workspace.Options.
	offline, ignoreLock bool
}

// Main runs slipway with args and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "slipway:", err)
	var pe problemsError
	var ue usageError
	switch {
	case errors.As(err, &pe):
		return exitFailed
	case errors.As(err, &ue):
		return exitUsage
	case ctx.Err() != nil:
		return 130
	}
	return exitBroken
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "slipway",
		Short: "Build an RPM-based Linux distribution from a tree of spec files",
		Long: `slipway builds an RPM-based distribution in three stages: a toolchain, every
package in isolated build roots, then images. It reads Azure Linux's inputs
as they are: SPECS/ with *.signatures.json, image configs, toolchain manifests.

A project is a directory with a slipway.toml. Commands use the project in the
current directory, or the one given with --project; outside any project they
use the bundled example distribution "tiny".`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			level := slog.LevelWarn
			if a.verbose {
				level = slog.LevelDebug
			}
			a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVarP(&a.projectDir, "project", "C", "", "project directory or slipway.toml (default: the current directory, else the bundled example)")
	pf.IntVarP(&a.jobs, "jobs", "j", 0, "parallel jobs (default: project.jobs, else the CPU count)")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "log what slipway does")
	pf.BoolVar(&a.offline, "offline", false, "download nothing: remote packages only as "+workspace.LockFileName+" pins them, sources, SRPMs and toolchain RPMs only from the caches; fail naming what is missing")

	root.AddCommand(a.graphCommand(), a.planCommand(), a.depsCommand(false), a.depsCommand(true), a.toolchainCommand(), a.buildCommand(), a.whyCommand(), a.sourcesCommand(), a.imageCommand(), a.bootCommand(), a.buildAllCommand(), a.initCommand(), a.lockCommand(), a.cacheCommand())
	return root
}

// loadProject finds the project: --project, else the current directory,
// else the bundled example (extracted once under the user cache directory).
func (a *app) loadProject() (*project.Project, error) {
	dir := a.projectDir
	if dir == "" {
		if _, err := os.Stat(project.FileName); err == nil {
			dir = "."
		} else {
			cache, err := os.UserCacheDir()
			if err != nil {
				cache = os.TempDir()
			}
			if dir, err = examples.Extract(filepath.Join(cache, "slipway", "examples")); err != nil {
				return nil, fmt.Errorf("extracting the bundled example: %w", err)
			}
			fmt.Fprintf(a.stderr, "No slipway.toml here: using the bundled example project %q (%s).\n", examples.DefaultName, dir)
		}
	}
	p, err := project.Load(dir)
	if err != nil {
		return nil, usageError{err}
	}
	p.Offline = a.offline
	a.log.Debug("project loaded", "file", p.File)
	return p, nil
}

// loadTree loads the project and evaluates its tree, showing progress on
// a terminal and reporting specs that failed to evaluate.
func (a *app) loadTree(ctx context.Context) (*workspace.Tree, error) {
	p, err := a.loadProject()
	if err != nil {
		return nil, err
	}
	return a.evaluate(ctx, p)
}

// evaluate evaluates p's spec tree and resolves its graph.
func (a *app) evaluate(ctx context.Context, p *project.Project) (*workspace.Tree, error) {
	if a.seed != nil {
		if err := a.seed(&p.Config.Remote); err != nil {
			return nil, usageError{err}
		}
	}
	prog := newProgress(a.stderr, "evaluating specs")
	t, err := workspace.Load(ctx, p, workspace.Options{Jobs: a.jobs, Progress: prog.update, Logger: a.log,
		IgnoreLock: a.ignoreLock})
	prog.done()
	if err != nil {
		return nil, err
	}
	st := t.Eval.Stats
	fmt.Fprintf(a.stderr, "%d specs: %d evaluated, %d cached, %d failed in %s (%d rpm helper processes); graph in %s\n",
		st.Specs, st.Evaluated, st.Cached, st.Failed, st.Duration.Round(millisecond), st.HelperProcesses,
		t.GraphTime.Round(millisecond))
	for _, e := range t.Eval.Errors {
		fmt.Fprintf(a.stderr, "error: %s: %s\n", filepath.Join(p.Config.Project.SpecsDir, e.Path), e.Message)
	}
	return t, nil
}

// loadForWork loads the tree of a command that builds: it fails when a
// spec failed to evaluate, and locks the project (unlock when done).
func (a *app) loadForWork(ctx context.Context, what string) (*workspace.Tree, func(), error) {
	t, err := a.loadTree(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := evalProblems(t); err != nil {
		return nil, nil, err
	}
	unlock, err := a.lockProject(t, what)
	if err != nil {
		return nil, nil, err
	}
	return t, unlock, nil
}

// lockProject keeps other slipway processes from running builds in the
// same project while this command does (build/slipway.lock).
func (a *app) lockProject(t *workspace.Tree, what string) (func(), error) {
	return a.lockDir(t.Project, what)
}

// lockDir takes a project's lock (build/slipway.lock).
func (a *app) lockDir(p *project.Project, what string) (func(), error) {
	if err := os.MkdirAll(p.Path(p.Config.Project.BuildDir), 0o755); err != nil {
		return nil, err
	}
	unlock, err := fsutil.Lock(filepath.Join(p.Path(p.Config.Project.BuildDir), "slipway.lock"), what)
	var le *fsutil.LockedError
	if errors.As(err, &le) {
		return nil, problemsError{err.Error()}
	}
	return unlock, err
}

// evalProblems is the problemsError for failed specs, or nil.
func evalProblems(t *workspace.Tree) error {
	if n := len(t.Eval.Errors); n > 0 {
		return problemsError{fmt.Sprintf("%d spec(s) failed to evaluate (see above)", n)}
	}
	return nil
}
