package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"slipway/internal/fsutil"
	"slipway/internal/graph"
	"slipway/internal/rpm"
	"slipway/internal/source"
	"slipway/internal/spec"
	"slipway/internal/srpms"
	"slipway/internal/store"
)

// Decision is what the package stage did with a spec.
type Decision string

const (
	Built     Decision = "built"
	Reused    Decision = "reused"    // inputs unchanged: outputs taken from the store
	Toolchain Decision = "toolchain" // its packages come from the toolchain
	Remote    Decision = "remote"    // its packages come from a remote repository
	Failed    Decision = "failed"
	Blocked   Decision = "blocked" // not built: something it needs failed or is missing
	// Planned is a dry run's "would be built", with the reason.
	Planned Decision = "build"
)

// parallelDownloads is how many remote packages are downloaded at once.
const parallelDownloads = 4

// errWouldBuild is a dry run's stand-in for running a build.
var errWouldBuild = errors.New("would be built")

// Options configure a package stage run.
type Options struct {
	SpecsDir, BuildDir, OutDir string
	Graph                      *graph.Graph // pruned to the goals
	Specs                      []*spec.Info
	Generated                  func(specName string) string
	Macros                     spec.MacroSet
	Sources                    source.Options
	// Base identifies the build root every build starts from (the
	// toolchain), for the input hashes; Builder builds in it.
	BaseID  string
	Builder Builder
	Jobs    int
	// StopOnFailure stops starting builds after the first failure.
	StopOnFailure bool
	// Retries is how many more times a failed build is tried (for flaky
	// builds); 0 = none.
	Retries int
	// AllowToolchainRebuild lets a build make RPMs the toolchain owns.
	AllowToolchainRebuild bool
	// NoCheck says the Builder skips %check; it enters every build's key.
	NoCheck bool
	// Force names specs built even when their outputs are in the store
	// (Azure Linux's PACKAGE_REBUILD_LIST); their new outputs replace the
	// stored ones.
	Force map[string]bool
	// DryRun decides without building: what would be reused, what built
	// and why. Nothing is written.
	DryRun   bool
	Progress io.Writer // one line per finished build; nil: quiet
	// Events, when set, receives every scheduler event (for a live view).
	Events func(Event)
	// Toolchain are the headers of the toolchain repository's RPMs: with
	// them, requirements of built RPMs that nothing provides are reported.
	Toolchain []*rpm.Header
	// LearnedFile, when set, receives what the run's RPMs provide (see
	// graph.Input.Learned), for the next graph.
	LearnedFile string
	// Remote are the packages remote repositories provide (the graph's
	// package nodes with an Origin), by name.
	Remote map[string]RemoteRPM
	// Seeding says why a spec is built here or taken from a repository
	// (rebuild = "changed"); it leads the spec's reason.
	Seeding map[string]string
	// SRPMs, when set, has every build rebuild the spec's published source
	// RPM, found by it, instead of one packed from the spec directory
	// (Azure Linux's DOWNLOAD_SRPMS=y); the spec then only names it.
	SRPMs *srpms.Finder
}

// RemoteRPM is a package a remote repository provides to the builds.
type RemoteRPM struct {
	Repo, URL string
	// Download fetches the RPM (checked against the repository's
	// checksum) and returns its path.
	Download func(ctx context.Context) (string, error)
}

// RemoteUse records a remote package the run installed in build roots.
type RemoteUse struct {
	Name     string   `json:"name"`
	File     string   `json:"file"`
	Repo     string   `json:"repo"`
	URL      string   `json:"url"`
	SHA256   string   `json:"sha256"`
	NeededBy []string `json:"neededBy"`
	// Published: a package of a spec taken from the repository, linked
	// into out/RPMS like a built one.
	Published bool   `json:"published,omitempty"`
	path      string // in the package cache
}

// Builder builds one SRPM into RPMs: with Root installed in the build
// root, rpmbuild --rebuild of SRPM, the RPMs written into OutDir and the
// build's output into Log.
type Builder interface {
	Build(ctx context.Context, req Request) error
}

// Request is one build for a Builder.
type Request struct {
	Spec   string
	SRPM   string
	Root   []string // RPM files to install into the build root first
	OutDir string
	Log    io.Writer
}

// Result is one spec's outcome.
type Result struct {
	Spec     string        `json:"spec"`
	Decision Decision      `json:"decision"`
	Reason   string        `json:"reason,omitempty"`
	Blocker  string        `json:"blocker,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	Log      string        `json:"log,omitempty"`
	Outputs  []string      `json:"outputs,omitempty"`
	Worker   int           `json:"worker"`
	Start    time.Time     `json:"start,omitzero"`
	End      time.Time     `json:"end,omitzero"`
}

// Summary is a run of the package stage (build/summary.json).
type Summary struct {
	Results []Result `json:"results"`
	// Unprovided are requirements of the RPMs of this run that neither
	// they nor the toolchain provide (with Options.Toolchain only).
	Unprovided []graph.Unresolved `json:"unprovided,omitempty"`
	Counts     map[Decision]int   `json:"counts"`
	Duration   time.Duration      `json:"duration"`
	Workers    int                `json:"workers"`
	// Remote are the packages taken from remote repositories.
	Remote []RemoteUse `json:"remote,omitempty"`
}

// stage runs one package stage.
type stage struct {
	opts      Options
	store     store.Store
	specs     map[string]*spec.Info
	macroHash string
	deps      map[string][]string // build -> builds it needs
	closure   map[string][]string // build -> package names in its build root (not pre-built)
	owner     map[string]string   // package name -> spec
	// late are the BuildRequires the graph could not resolve, per build:
	// generated capabilities of packages not built yet. Such a build comes
	// after every build it does not feed, and looks for them in their RPMs.
	late map[string][]rpm.Dep

	mu      sync.Mutex
	entries map[string]*store.Entry // spec -> entry of this run (built or reused)
	built   *providerIndex          // the RPMs of entries
	pending map[string]pendingBuild // spec -> key and inputs decided in Ready
	results map[string]*Result

	refusedPkg map[string]string // builds refused: they would make this toolchain package
	planned    int               // builds a dry run would run
}

type pendingBuild struct {
	from   buildSource // resolved and verified when the key was made
	key    string
	inputs map[string]string
	root   []string
	reason string
}

// Run runs the package stage: every build of the graph that is not
// pre-built, in dependency order on Jobs workers, reusing every build
// whose inputs (its spec directory, sources, macros, and the exact RPMs of
// its build root) are unchanged. Outputs go to the store, then to
// OutDir/RPMS and OutDir/SRPMS with repository metadata.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	start := time.Now()
	if opts.Jobs <= 0 {
		opts.Jobs = 1
	}
	if opts.Generated == nil {
		opts.Generated = func(string) string { return "" }
	}
	macroHash, err := opts.Macros.Hash()
	if err != nil {
		return nil, err
	}
	s := &stage{opts: opts, store: store.Store{Root: filepath.Join(opts.BuildDir, "store")}, specs: map[string]*spec.Info{},
		macroHash: macroHash, closure: map[string][]string{}, owner: map[string]string{},
		entries: map[string]*store.Entry{}, built: newProviderIndex(), pending: map[string]pendingBuild{}, results: map[string]*Result{}}
	for _, info := range opts.Specs {
		s.specs[info.Name] = info
	}
	g := opts.Graph
	buildDeps := g.BuildDeps()
	s.deps = map[string][]string{}
	neededRemote := map[string][]string{} // remote package -> builds whose roots get it
	published := map[string]bool{}        // remote packages of specs taken from a repository
	origin := map[string]string{}         // spec -> the repository its packages come from
	for _, n := range g.Nodes {
		if n.Kind == graph.PackageNode && n.Spec != "" && n.Origin != "" {
			origin[n.Spec] = n.Origin
		}
	}
	var tasks []Task
	for i, n := range g.Nodes {
		switch {
		case n.Kind == graph.PackageNode && n.Spec != "":
			s.owner[n.Name] = n.Spec
			if n.Origin != "" && !opts.DryRun {
				published[n.Name] = true
			}
		case n.Kind == graph.BuildNode && n.Prebuilt && origin[n.Name] != "":
			reason := "its packages come from " + origin[n.Name]
			if why := opts.Seeding[n.Name]; why != "" {
				reason = why + "; " + reason
			}
			s.results[n.Name] = &Result{Spec: n.Name, Decision: Remote, Reason: reason, Worker: -1}
		case n.Kind == graph.BuildNode && n.Prebuilt:
			s.results[n.Name] = &Result{Spec: n.Name, Decision: Toolchain, Worker: -1}
		case n.Kind == graph.BuildNode:
			var deps []string
			for _, d := range buildDeps[i] {
				if !g.Nodes[d].Prebuilt {
					deps = append(deps, g.Nodes[d].Name)
				}
			}
			s.deps[n.Name] = deps
			for _, p := range g.Reach([]int{i}, graph.Forward, graph.BuildEdge, graph.RunEdge) {
				pn := g.Nodes[p]
				if pn.Kind == graph.PackageNode && (!pn.Prebuilt || pn.Origin != "") {
					s.closure[n.Name] = append(s.closure[n.Name], pn.Name)
				}
				if pn.Kind == graph.PackageNode && pn.Origin != "" {
					neededRemote[pn.Name] = append(neededRemote[pn.Name], n.Name)
				}
			}
			tasks = append(tasks, Task{Name: n.Name, Deps: deps, Weight: s.lastDuration(n.Name)})
		}
	}
	remote, err := s.fetchRemote(ctx, neededRemote, published)
	if err != nil {
		return nil, err
	}
	missing := s.lateBuildRequires()
	orderLate(tasks, s.late)
	if !opts.AllowToolchainRebuild {
		s.refusedPkg = s.toolchainOwned()
	}

	var ex Exec = &stageExec{s, missing}
	if opts.DryRun {
		ex = dryExec{ex, s}
	}
	out := Schedule(ctx, tasks, opts.Jobs, ex, opts.StopOnFailure, func(e Event) {
		if opts.DryRun {
			return
		}
		if e.Outcome != nil && opts.Progress != nil {
			s.progressLine(e)
		}
		if opts.Events != nil {
			opts.Events(e)
		}
	})
	for name, o := range out {
		r := s.result(name)
		r.Start, r.End, r.Worker = o.Start, o.End, o.Worker
		switch {
		case opts.DryRun && errors.Is(o.Err, errWouldBuild):
			r.Decision, r.Reason = Planned, s.pending[name].reason
		case opts.DryRun && o.Blocker != "" && errors.Is(out[o.Blocker].Err, errWouldBuild):
			r.Decision, r.Reason = Planned, "after "+o.Blocker+" is built, if its RPMs change"
		case o.Reused:
			r.Decision = Reused
		case o.Err != nil:
			r.Decision, r.Reason = Failed, o.Err.Error()
		case o.Blocker != "" && out[o.Blocker] == nil:
			r.Decision, r.Reason = Blocked, o.Blocker // a cycle, a stop, a cancellation
		case o.Blocker != "":
			r.Decision, r.Blocker = Blocked, o.Blocker
			r.Reason = "needs " + o.Blocker + ", which " + s.describeBlocker(o.Blocker, out)
		default:
			r.Decision = Built
		}
		if e := s.entries[name]; e != nil {
			r.Outputs = e.Meta.Files
		}
		if why := opts.Seeding[name]; why != "" && (r.Decision == Built || r.Decision == Reused || r.Decision == Planned) {
			r.Reason = why + "; " + r.Reason
		}
		if (r.Decision == Failed || r.Decision == Blocked) && !opts.DryRun {
			s.writeWhy(name, why{Key: s.pending[name].key, Inputs: s.pending[name].inputs, Decision: r.Decision,
				Reason: r.Reason, Duration: s.lastDuration(name)})
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	sum := &Summary{Counts: map[Decision]int{}, Duration: time.Since(start), Workers: opts.Jobs, Unprovided: s.unprovided(), Remote: remote}
	for _, name := range slices.Sorted(maps.Keys(s.results)) {
		r := *s.results[name]
		sum.Results = append(sum.Results, r)
		sum.Counts[r.Decision]++
	}
	if opts.DryRun {
		return sum, nil
	}
	if err := s.publish(ctx, remote); err != nil {
		return nil, err
	}
	if err := s.writeLearned(); err != nil {
		return nil, err
	}
	data, _ := json.MarshalIndent(sum, "", "  ")
	if err := fsutil.WriteFileAtomic(filepath.Join(opts.BuildDir, "summary.json"), data, 0o644); err != nil {
		return nil, err
	}
	return sum, nil
}

// fetchRemote downloads the remote packages builds need and those to
// publish (each checked against its repository's checksum, a few at a
// time) and adds them to the RPMs build roots are made of: from here on
// they are inputs like built RPMs, by digest.
func (s *stage) fetchRemote(ctx context.Context, needed map[string][]string, published map[string]bool) ([]RemoteUse, error) {
	names := slices.Collect(maps.Keys(needed))
	for name := range published {
		if needed[name] == nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	paths := make([]string, len(names))
	var downloads errgroup.Group
	downloads.SetLimit(parallelDownloads)
	for i, name := range names {
		r, ok := s.opts.Remote[name]
		if !ok {
			return nil, fmt.Errorf("package %s comes from a remote repository, but none was given to the package stage", name)
		}
		downloads.Go(func() (err error) {
			if paths[i], err = r.Download(ctx); err != nil {
				return fmt.Errorf("remote repository %s: %w", r.Repo, err)
			}
			return nil
		})
	}
	if err := downloads.Wait(); err != nil {
		return nil, err
	}
	var uses []RemoteUse
	for i, name := range names {
		r, path := s.opts.Remote[name], paths[i]
		h, err := rpm.ReadHeader(path)
		if err != nil {
			return nil, fmt.Errorf("package %s from %s: %w", name, r.Repo, err)
		}
		b := fromHeader(filepath.Base(path), h)
		b.path = path
		s.built.add(b)
		by := slices.Compact(slices.Sorted(slices.Values(needed[name])))
		uses = append(uses, RemoteUse{Name: name, File: b.File, Repo: r.Repo, URL: r.URL, SHA256: b.SHA256, NeededBy: by,
			Published: published[name], path: path})
	}
	return uses, nil
}

func (s *stage) result(name string) *Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.results[name] == nil {
		s.results[name] = &Result{Spec: name, Worker: -1}
	}
	return s.results[name]
}

func (s *stage) describeBlocker(name string, out map[string]*Outcome) string {
	o := out[name]
	switch {
	case o == nil:
		return "did not run"
	case o.Err != nil:
		return "failed"
	case o.Blocker != "":
		return "is blocked"
	}
	return "did not finish"
}

// toolchainOwned finds builds that would make an RPM the toolchain
// manifest owns: spec -> one such package.
func (s *stage) toolchainOwned() map[string]string {
	g := s.opts.Graph
	out := map[string]string{}
	for i, n := range g.Nodes {
		if n.Kind != graph.BuildNode || n.Prebuilt {
			continue
		}
		for j, m := range g.Nodes {
			if m.Kind == graph.PackageNode && m.Spec == n.Name && m.Prebuilt && j != i {
				out[n.Name] = m.Name
				break
			}
		}
	}
	return out
}

// lateBuildRequires sorts the BuildRequires the graph left unresolved:
// simple capabilities go to s.late, to be looked for in the RPMs built
// first; the rest (rich or unparsable) are returned, build -> capability,
// and fail their builds.
func (s *stage) lateBuildRequires() map[string]string {
	s.late = map[string][]rpm.Dep{}
	missing := map[string]string{}
	for _, u := range s.opts.Graph.Unresolved {
		for _, by := range u.NeededBy {
			name, ok := strings.CutSuffix(by, " BUILD")
			if !ok || s.specs[name] == nil {
				continue
			}
			if d, err := rpm.ParseDep(u.Cap); err == nil && !rpm.IsRich(u.Cap) {
				s.late[name] = append(s.late[name], d)
			} else if missing[name] == "" {
				missing[name] = u.Cap
			}
		}
	}
	return missing
}

// orderLate puts each build with late BuildRequires after every build
// that does not need it (directly or not): whichever may make what it
// needs. Late builds do not wait for each other.
func orderLate(tasks []Task, late map[string][]rpm.Dep) {
	users := map[string][]string{}
	for _, t := range tasks {
		for _, d := range t.Deps {
			users[d] = append(users[d], t.Name)
		}
	}
	for i := range tasks {
		name := tasks[i].Name
		if len(late[name]) == 0 {
			continue
		}
		needsIt := map[string]bool{name: true}
		queue := []string{name}
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			for _, u := range users[n] {
				if !needsIt[u] {
					needsIt[u] = true
					queue = append(queue, u)
				}
			}
		}
		for _, t := range tasks {
			if !needsIt[t.Name] && len(late[t.Name]) == 0 {
				tasks[i].After = append(tasks[i].After, t.Name)
			}
		}
	}
}

// lastDuration is a spec's previous build time, for scheduling.
func (s *stage) lastDuration(name string) time.Duration {
	var w why
	if data, err := os.ReadFile(s.whyPath(name)); err == nil && json.Unmarshal(data, &w) == nil {
		return w.Duration
	}
	return 0
}

func (s *stage) progressLine(e Event) {
	line := fmt.Sprintf("[%d/%d] %s", e.Finished, e.Total, e.Outcome.Line(e.Name))
	if e.Outcome.Err != nil {
		line += ": " + e.Outcome.Err.Error()
	}
	if len(e.Running) > 0 {
		line += "  running: " + strings.Join(e.Running, " ")
	}
	fmt.Fprintln(s.opts.Progress, line)
}

// dryExec decides like stageExec but builds nothing.
type dryExec struct {
	Exec
	s *stage
}

func (x dryExec) Run(_ context.Context, name string) error {
	x.s.mu.Lock()
	x.s.planned++
	x.s.mu.Unlock()
	return errWouldBuild
}

// stageExec is the package stage's side of the scheduler.
type stageExec struct {
	s       *stage
	missing map[string]string
}

// Ready decides, once everything a build needs is done, whether its
// outputs can be reused: its key covers its own inputs and the exact RPMs
// that will be in its build root.
func (x *stageExec) Ready(name string) (bool, error) {
	s := x.s
	if pkg := s.refusedPkg[name]; pkg != "" {
		return false, fmt.Errorf("it would build %s, which the toolchain manifest owns: drop it from the manifest, or set [build] allow_toolchain_rebuild = true", pkg)
	}
	if c := x.missing[name]; c != "" {
		return false, fmt.Errorf("nothing provides its BuildRequires %q", c)
	}
	info := s.specs[name]
	specDir := filepath.Join(s.opts.SpecsDir, filepath.Dir(info.Path))
	inputs, from, err := s.ownInputs(info, specDir)
	if err != nil {
		return false, err
	}
	root, err := s.rootRPMs(name)
	s.mu.Lock()
	planned := s.planned
	s.mu.Unlock()
	var late *lateError
	if errors.As(err, &late) && s.opts.DryRun && planned > 0 {
		s.mu.Lock()
		s.pending[name] = pendingBuild{reason: fmt.Sprintf("nothing declares its BuildRequires %q; it waits for the builds planned before it, whose RPMs may provide it", late.dep)}
		s.mu.Unlock()
		return false, errWouldBuild
	}
	if err != nil {
		return false, err
	}
	for _, r := range root {
		inputs["root:"+r.Name] = r.File + " " + r.SHA256
	}
	key := hashInputs(inputs)
	var paths []string
	for _, r := range root {
		paths = append(paths, r.path)
	}
	prev := s.readWhy(name)
	reason := explain(prev.Inputs, inputs)
	var e *store.Entry
	if s.opts.Force[name] {
		reason = "rebuild forced (--force-rebuild)"
	} else if e, err = s.store.Get(key); err != nil {
		return false, err
	}
	s.mu.Lock()
	s.pending[name] = pendingBuild{from: from, key: key, inputs: inputs, root: paths, reason: reason}
	if e != nil {
		s.addEntry(name, e)
	}
	s.mu.Unlock()
	if e != nil {
		r := s.result(name)
		r.Reason = "inputs unchanged since " + e.Meta.Created.Format(time.RFC3339)
		r.Log = filepath.Join(e.Dir, "build.log")
		if !s.opts.DryRun {
			s.writeWhy(name, why{Key: key, Inputs: inputs, Decision: Reused, Reason: r.Reason, Duration: e.Meta.Duration})
		}
		return true, nil
	}
	return false, nil
}

// Run builds one spec and stores its outputs.
func (x *stageExec) Run(ctx context.Context, name string) error {
	s := x.s
	s.mu.Lock()
	p := s.pending[name]
	s.mu.Unlock()
	info := s.specs[name]
	specDir := filepath.Join(s.opts.SpecsDir, filepath.Dir(info.Path))
	start := time.Now()
	r := s.result(name)
	r.Reason = p.reason
	logDir := filepath.Join(s.opts.BuildDir, "logs", "packages")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	r.Log = filepath.Join(logDir, name+".log")
	log, err := os.Create(r.Log)
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintf(log, "slipway: building %s (%s), input hash %s\nslipway: why: %s\n", name, info.Path, p.key, p.reason)

	work := filepath.Join(s.opts.BuildDir, "work", name)
	os.RemoveAll(work)
	defer os.RemoveAll(work)
	var srpm string
	if p.from.published != nil {
		srpm, err = p.from.published.Place(filepath.Join(work, "srpm"), log)
	} else {
		srpm, err = source.PackSRPM(ctx, source.PackOptions{Info: info, SpecDir: specDir, Sources: p.from.sources,
			OutDir: filepath.Join(work, "srpm"), Macros: s.opts.Macros, GeneratedMacros: s.opts.Generated(name),
			ConfigRoot: filepath.Join(s.opts.BuildDir, "rpmconfig"), TempDir: s.opts.BuildDir})
	}
	if err != nil {
		fmt.Fprintln(log, err)
		return err
	}
	outDir := filepath.Join(work, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	err = s.opts.Builder.Build(ctx, Request{Spec: name, SRPM: srpm, Root: p.root, OutDir: outDir, Log: log})
	for try := 1; err != nil && try <= s.opts.Retries && ctx.Err() == nil; try++ {
		fmt.Fprintf(log, "slipway: the build failed (%v); retry %d of %d\n", err, try, s.opts.Retries)
		os.RemoveAll(outDir)
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return err
		}
		err = s.opts.Builder.Build(ctx, Request{Spec: name, SRPM: srpm, Root: p.root, OutDir: outDir, Log: log})
	}
	if err != nil {
		if line := lastErrorLine(r.Log); line != "" {
			err = fmt.Errorf("%w: %s", err, line)
		}
		if full := diskFull(s.opts.BuildDir); full != "" {
			err = fmt.Errorf("%w; %s", err, full) // rpm's own words rarely say so
		}
		return fmt.Errorf("%w (log: %s)", err, r.Log)
	}
	built, _ := filepath.Glob(filepath.Join(outDir, "RPMS", "*", "*.rpm"))
	if len(built) == 0 {
		return fmt.Errorf("rpmbuild made no RPM (log: %s)", r.Log)
	}
	files := map[string]string{filepath.Base(srpm): srpm}
	var rpms []builtRPM
	for _, f := range built {
		h, err := rpm.ReadHeader(f)
		if err != nil {
			return err
		}
		files[filepath.Base(f)] = f
		rpms = append(rpms, fromHeader(filepath.Base(f), h))
	}
	slices.SortFunc(rpms, func(a, b builtRPM) int { return strings.Compare(a.File, b.File) })
	data, err := json.Marshal(rpms)
	if err != nil {
		return err
	}
	dur := time.Since(start)
	fmt.Fprintf(log, "slipway: built %d RPMs in %s\n", len(built), dur.Round(time.Millisecond))
	log.Sync()
	if s.opts.Force[name] {
		if err := s.store.Remove(p.key); err != nil { // the new outputs replace the old
			return err
		}
	}
	e, err := s.store.Put(store.Meta{Hash: p.key, Name: name, Inputs: p.inputs, Created: time.Now().UTC(),
		Duration: dur, Data: data}, files, r.Log, true)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.addEntry(name, e)
	s.mu.Unlock()
	s.writeWhy(name, why{Key: p.key, Inputs: p.inputs, Decision: Built, Reason: p.reason, Duration: dur})
	return nil
}

// buildSource is what a build makes its SRPM from: the spec's sources,
// or the published source RPM (Options.SRPMs).
type buildSource struct {
	sources   []source.File
	published *srpms.Published
}

// ownInputs are the parts of a build's key that do not depend on other
// builds, and what it builds from: the spec's sources, resolved and
// verified, or its published source RPM, downloaded and verified.
func (s *stage) ownInputs(info *spec.Info, specDir string) (map[string]string, buildSource, error) {
	builder := "rpmbuild --rebuild v1"
	if s.opts.NoCheck {
		builder += " --nocheck"
	}
	inputs := map[string]string{"macros": s.macroHash, "base": s.opts.BaseID, "builder": builder}
	var from buildSource
	if s.opts.SRPMs != nil {
		var err error
		if from.published, err = s.opts.SRPMs.Published(context.Background(), info.SRPM); err != nil {
			return nil, from, err
		}
		inputs["srpm"] = from.published.Key
		return inputs, from, nil
	}
	dirHash, err := spec.HashDir(specDir)
	if err != nil {
		return nil, from, err
	}
	if from.sources, err = source.Resolve(context.Background(), info, specDir, s.opts.Sources); err != nil {
		return nil, from, err
	}
	var srcs []string
	for _, f := range from.sources {
		srcs = append(srcs, f.Name+"="+f.SHA256)
	}
	inputs["spec"] = dirHash
	inputs["sources"] = hashStrings(srcs...)
	inputs["generated"] = hashStrings(s.opts.Generated(info.Name))
	return inputs, from, nil
}

// addEntry records a finished build (built or reused); s.mu is held.
func (s *stage) addEntry(name string, e *store.Entry) {
	s.entries[name] = e
	s.built.add(rpmsOf(e)...)
}

// rootRPMs are the exact built RPMs a build's root gets: the packages its
// BuildRequires reach in the graph, from the builds of this run, the
// providers of its late BuildRequires, plus what their generated
// requirements (sonames, pkgconfig(), paths) bring.
func (s *stage) rootRPMs(name string) ([]builtRPM, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var chosen []int
	for _, pkg := range s.closure[name] {
		i, ok := s.built.byName[pkg]
		if !ok {
			return nil, fmt.Errorf("package %s (built by %s) is needed in the build root but was not built", pkg, s.owner[pkg])
		}
		chosen = append(chosen, i)
	}
	for _, d := range s.late[name] {
		i := s.built.satisfier(d)
		if i < 0 {
			return nil, &lateError{d}
		}
		chosen = append(chosen, i)
	}
	var out []builtRPM
	for _, i := range s.built.expand(chosen) {
		out = append(out, s.built.rpms[i])
	}
	return out, nil
}

// lateError is a late BuildRequires no RPM of the run provides.
type lateError struct{ dep rpm.Dep }

func (e *lateError) Error() string {
	return fmt.Sprintf("nothing provides its BuildRequires %q: no spec declares it, and no RPM of the toolchain or of this run has it", e.dep)
}

// unprovided lists the requirements of this run's RPMs that neither they
// nor the toolchain's RPMs satisfy, with the RPMs needing each.
func (s *stage) unprovided() []graph.Unresolved {
	if len(s.opts.Toolchain) == 0 {
		return nil // the base root is not known package by package
	}
	toolchain := newProviderIndex()
	for _, h := range s.opts.Toolchain {
		toolchain.add(fromHeader(h.FileName(), h))
	}
	needed := map[string][]string{}
	for _, r := range s.built.rpms {
		for _, req := range r.Requires {
			if needs(req) && s.built.provider(req) < 0 && toolchain.provider(req) < 0 {
				c := headerDep(req).String()
				needed[c] = append(needed[c], r.Name)
			}
		}
	}
	var out []graph.Unresolved
	for _, c := range slices.Sorted(maps.Keys(needed)) {
		by := needed[c]
		slices.Sort(by)
		out = append(out, graph.Unresolved{Cap: c, NeededBy: slices.Compact(by)})
	}
	return out
}

// writeLearned saves what the run's RPMs provide, for the next graph.
func (s *stage) writeLearned() error {
	if s.opts.LearnedFile == "" {
		return nil
	}
	byName := map[string]graph.Prebuilt{}
	for _, p := range graph.ReadLearned(s.opts.LearnedFile) { // builds outside this run's goals
		byName[p.Name] = p
	}
	for _, r := range s.built.rpms {
		p, err := graph.ParseRPMFileName(r.File)
		if err != nil {
			return err
		}
		h := rpm.Header{Name: r.Name, Arch: p.Arch, Provides: r.Provides, Files: r.Files}
		byName[r.Name] = graph.PrebuiltFromHeader(&h)
	}
	var learned []graph.Prebuilt
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		learned = append(learned, byName[name])
	}
	return graph.WriteLearned(s.opts.LearnedFile, learned)
}

// publish links every finished build's outputs, and the packages of specs
// taken from a repository, into OutDir (RPMS/<arch>/, SRPMS/) and writes
// the repository metadata. Files go in by rename of a
// fresh link, so out/ never holds a partial RPM.
func (s *stage) publish(ctx context.Context, remote []RemoteUse) error {
	rpmsDir := filepath.Join(s.opts.OutDir, "RPMS")
	srpmsDir := filepath.Join(s.opts.OutDir, "SRPMS")
	for _, r := range remote {
		if !r.Published {
			continue
		}
		p, err := graph.ParseRPMFileName(r.File)
		if err != nil {
			return err
		}
		if err := fsutil.LinkInto(r.path, filepath.Join(rpmsDir, p.Arch, r.File)); err != nil {
			return err
		}
	}
	for _, e := range s.entries {
		for _, f := range e.Meta.Files {
			dir := srpmsDir
			if !strings.HasSuffix(f, ".src.rpm") {
				p, err := graph.ParseRPMFileName(f)
				if err != nil {
					return err
				}
				dir = filepath.Join(rpmsDir, p.Arch)
			}
			if err := fsutil.LinkInto(e.Path(f), filepath.Join(dir, f)); err != nil {
				return err
			}
		}
	}
	if _, err := os.Stat(rpmsDir); err != nil {
		return nil // nothing built
	}
	return createRepo(ctx, rpmsDir)
}

// diskFull says when the file system holding dir is (nearly) full: less
// than 4 MiB free. "" otherwise.
func diskFull(dir string) string {
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) != nil {
		return ""
	}
	free := st.Bavail * uint64(st.Bsize)
	if free >= 4<<20 {
		return ""
	}
	return fmt.Sprintf("no space left on the file system of %s (%d KiB free)", dir, free>>10)
}

// lastErrorLine is the last line of a build log that reports an error
// (rpmbuild's "error: ...", a compiler's, a full disk), to show with the
// failure; "" when there is none.
func lastErrorLine(logPath string) string {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return ""
	}
	if len(data) > 64<<10 {
		data = data[len(data)-64<<10:]
	}
	lines := strings.Split(string(data), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		low := strings.ToLower(l)
		if strings.Contains(low, "no space left") || strings.HasPrefix(low, "error:") || strings.Contains(low, ": error:") {
			if len(l) > 200 {
				l = l[:200] + "..."
			}
			return l
		}
	}
	return ""
}

func hashStrings(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashInputs(inputs map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(inputs)) {
		parts = append(parts, k, inputs[k])
	}
	return hashStrings(parts...)
}
