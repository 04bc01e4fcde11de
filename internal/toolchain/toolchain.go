package toolchain

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"slipway/internal/fsutil"
	"slipway/internal/repo"
	"slipway/internal/source"
	"slipway/internal/spec"
	"slipway/internal/srpms"
	"slipway/internal/store"
	"slipway/internal/workspace"
)

// Decision is what happened to a build step.
type Decision string

const (
	Built  Decision = "built"
	Reused Decision = "reused" // its inputs were unchanged: taken from the store
	Failed Decision = "failed"
)

// Options configure a toolchain run.
type Options struct {
	Mode     string // rebuild, download or archive
	SpecsDir string
	BuildDir string
	// Specs are the evaluated specs of the tree, and Generated gives the
	// generated version macros a spec was evaluated with.
	Specs     []*spec.Info
	Generated func(specName string) string
	Macros    spec.MacroSet
	Sources   source.Options
	// Steps is the build order (rebuild mode).
	Steps []Step
	// SRPMs, when set, has BUILD steps rebuild each spec's published
	// source RPM, found by it, instead of one packed from the spec
	// directory (Azure Linux's final toolchain phase, which builds the
	// SRPMs DOWNLOAD_SRPMS fetched). The spec then only names it.
	SRPMs *srpms.Finder
	// Archive is the tarball (archive mode); URLs and Fetcher download
	// (download mode); GPGKeys, when set, must have signed those RPMs.
	Archive string
	URLs    []string
	Fetcher Fetcher
	GPGKeys []string
	// Offline: download mode takes only RPMs already downloaded.
	Offline bool
	// Manifest is the toolchain manifest's path and RPM file names: the
	// result must be exactly this set.
	ManifestPath string
	Manifest     []string
	// Bootstrap makes the bootstrap root (rebuild mode); it is called only
	// when a build has to run.
	Bootstrap func(ctx context.Context, cacheDir string, log io.Writer) (*Bootstrap, error)
	Timeout   time.Duration // per build; default 2 hours
	// Progress receives one line per step.
	Progress io.Writer
}

// StepResult is the outcome of one BUILD step.
type StepResult struct {
	Step     StepKind      `json:"step"`
	Spec     string        `json:"spec"`
	Decision Decision      `json:"decision"`
	Duration time.Duration `json:"duration"`
	RPMs     []string      `json:"rpms,omitempty"`
	Log      string        `json:"log,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// Report is the result of a toolchain run.
type Report struct {
	Mode     string        `json:"mode"`
	Steps    []StepResult  `json:"steps,omitempty"`
	RepoDir  string        `json:"repo"`
	RPMs     []string      `json:"rpms"`
	Built    int           `json:"built"`
	Reused   int           `json:"reused"`
	Duration time.Duration `json:"duration"`
}

func (r *Report) add(opts Options, s StepResult) {
	r.Steps = append(r.Steps, s)
	switch s.Decision {
	case Built:
		r.Built++
	case Reused:
		r.Reused++
	}
	if opts.Progress != nil {
		line := fmt.Sprintf("%-7s %-30s %s", s.Decision, s.Spec, s.Duration.Round(time.Millisecond))
		if s.Decision == Failed {
			line += "  log: " + s.Log
		}
		fmt.Fprintln(opts.Progress, line)
	}
}

// layout is where the toolchain stage keeps its state under the build dir.
type layout struct {
	root, repo, work, layer, logs, bootstrap, rpmconfig, store string
}

func newLayout(buildDir string) layout {
	t := filepath.Join(buildDir, "toolchain")
	return layout{
		root: t, repo: workspace.ToolchainRepoDir(buildDir), work: filepath.Join(t, "work"), layer: filepath.Join(t, "layer"),
		logs: filepath.Join(buildDir, "logs", "toolchain"), bootstrap: filepath.Join(t, "bootstrap"),
		rpmconfig: filepath.Join(buildDir, "rpmconfig"), store: filepath.Join(buildDir, "store"),
	}
}

// Run makes the toolchain: the RPMs of the manifest, in a local repository
// (<build>/toolchain/RPMS) that the package stage installs from. The
// repository is replaced only when the whole set is made and matches the
// manifest; a failure leaves the previous one as it was.
func Run(ctx context.Context, opts Options) (*Report, error) {
	start := time.Now()
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Hour
	}
	if opts.Generated == nil {
		opts.Generated = func(string) string { return "" }
	}
	dirs := newLayout(opts.BuildDir)
	report := &Report{Mode: opts.Mode, RepoDir: dirs.repo}
	var set map[string]string
	var err error
	switch opts.Mode {
	case "rebuild":
		set, err = rebuild(ctx, opts, dirs, report)
	case "archive":
		set, err = fromArchive(ctx, opts, dirs)
	case "download":
		set, err = download(ctx, opts, dirs)
	default:
		err = fmt.Errorf("unknown toolchain mode %q", opts.Mode)
	}
	if err != nil {
		return report, err
	}
	if err := CheckSet(opts.ManifestPath, opts.Manifest, slices.Sorted(maps.Keys(set))); err != nil {
		return report, err
	}
	if err := writeRepo(ctx, dirs, set); err != nil {
		return report, err
	}
	report.RPMs = slices.Sorted(maps.Keys(set))
	report.Duration = time.Since(start)
	data, _ := json.MarshalIndent(report, "", "  ")
	return report, fsutil.WriteFileAtomic(filepath.Join(dirs.root, "summary.json"), data, 0o644)
}

func rebuild(ctx context.Context, opts Options, dirs layout, report *Report) (map[string]string, error) {
	specs := map[string]*spec.Info{}
	pkgs := map[string][]string{}
	for _, s := range opts.Specs {
		specs[s.Name] = s
		for _, p := range s.Packages {
			pkgs[s.Name] = append(pkgs[s.Name], p.Name)
		}
	}
	if err := CheckSteps(opts.Steps, pkgs); err != nil {
		return nil, err
	}
	macroHash, err := opts.Macros.Hash()
	if err != nil {
		return nil, err
	}
	logFile, err := openLog(dirs.logs, "bootstrap.log")
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	boot, err := opts.Bootstrap(ctx, dirs.bootstrap, logFile)
	if err != nil {
		return nil, fmt.Errorf("making the bootstrap root: %w (log: %s)", err, logFile.Name())
	}
	r := &rebuilder{opts: opts, boot: boot, store: store.Store{Root: dirs.store}, specs: specs,
		macros: opts.Macros, macroHash: macroHash, dirs: dirs, latest: map[string]*store.Entry{}, report: report}
	if err := r.run(ctx, opts.Steps); err != nil {
		return nil, err
	}
	return r.finalSet(), nil
}

func openLog(dir, name string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.Create(filepath.Join(dir, name))
}

// writeRepo replaces the toolchain repository with the set: a new
// directory with hard links (or copies) and createrepo_c metadata, swapped
// in by rename. A repository that already holds exactly the set is left
// alone: its metadata (whose digest names the build roots' base, and so
// enters every package's build key) stays byte for byte the same.
func writeRepo(ctx context.Context, dirs layout, set map[string]string) error {
	if holdsSet(dirs.repo, set) {
		return nil
	}
	if err := os.MkdirAll(dirs.root, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dirs.root, ".tmp-RPMS-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for name, src := range set {
		if err := fsutil.LinkInto(src, filepath.Join(tmp, name)); err != nil {
			return err
		}
	}
	if err := repo.Create(ctx, tmp); err != nil {
		return err
	}
	old := dirs.repo + ".old"
	os.RemoveAll(old)
	if err := os.Rename(dirs.repo, old); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.Rename(tmp, dirs.repo); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// holdsSet reports whether repoDir has metadata and exactly the set's
// RPMs, each the same file as (or a byte-identical copy of) its source.
func holdsSet(repoDir string, set map[string]string) bool {
	if _, err := os.Stat(filepath.Join(repoDir, "repodata", "repomd.xml")); err != nil {
		return false
	}
	have, err := filepath.Glob(filepath.Join(repoDir, "*.rpm"))
	if err != nil || len(have) != len(set) {
		return false
	}
	for _, f := range have {
		src, ok := set[filepath.Base(f)]
		if !ok || !sameContent(f, src) {
			return false
		}
	}
	return true
}

// sameContent reports whether two paths are one file or equal copies.
func sameContent(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA != nil || errB != nil || sa.Size() != sb.Size() {
		return false
	}
	if os.SameFile(sa, sb) {
		return true
	}
	da, errA := fsutil.SHA256File(a)
	db, errB := fsutil.SHA256File(b)
	return errA == nil && errB == nil && da == db
}
