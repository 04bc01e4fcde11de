package toolchain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"slipway/internal/buildroot"
	"slipway/internal/fsutil"
	"slipway/internal/graph"
	"slipway/internal/source"
	"slipway/internal/spec"
	"slipway/internal/srpms"
	"slipway/internal/store"
)

// rebuilder runs the steps of a build order: each BUILD in a sandbox over
// the bootstrap root plus the RPMs earlier INSTALL steps put in, each
// reused from the store when its inputs are unchanged.
type rebuilder struct {
	opts      Options
	boot      *Bootstrap
	store     store.Store
	specs     map[string]*spec.Info
	macros    spec.MacroSet
	macroHash string
	dirs      layout

	// latest holds, per spec, the entry of its most recent build step.
	latest map[string]*store.Entry
	// rootID is the identity of the toolchain root at the current step:
	// the bootstrap and every RPM installed so far, in order.
	rootID string
	// installs are the INSTALL steps so far, with the RPMs each installs,
	// to replay into the layer when a build needs the root.
	installs []installed
	report   *Report
}

type installed struct {
	rootID string   // root identity after this install
	rpms   []string // paths
}

// run executes the steps in order.
func (r *rebuilder) run(ctx context.Context, steps []Step) error {
	r.rootID = hashStrings("bootstrap", r.boot.ID)
	for _, s := range steps {
		switch s.Kind {
		case Build:
			if err := r.build(ctx, s); err != nil {
				return err
			}
		case Install:
			rpms, err := r.selectInstall(s)
			if err != nil {
				return err
			}
			parts := []string{"install", r.rootID}
			for _, p := range rpms {
				h, err := fsutil.SHA256File(p)
				if err != nil {
					return err
				}
				parts = append(parts, h)
			}
			r.rootID = hashStrings(parts...)
			r.installs = append(r.installs, installed{rootID: r.rootID, rpms: rpms})
		}
	}
	return nil
}

// build runs one BUILD step, or reuses its result.
func (r *rebuilder) build(ctx context.Context, s Step) error {
	info := r.specs[s.Spec]
	specDir := filepath.Join(r.opts.SpecsDir, filepath.Dir(info.Path))
	start := time.Now()
	step := StepResult{Step: s.Kind, Spec: s.Spec}

	in, err := r.buildInput(ctx, info, specDir)
	if err != nil {
		return fmt.Errorf("%s: BUILD %s: %w", s.where(), s.Spec, err)
	}
	inputs := in.inputs
	hash := hashInputs(inputs)
	if e, err := r.store.Get(hash); err != nil {
		return err
	} else if e != nil {
		r.latest[s.Spec] = e
		step.Decision, step.RPMs, step.Log = Reused, e.Meta.Files, filepath.Join(e.Dir, "build.log")
		step.Duration = time.Since(start)
		r.report.add(r.opts, step)
		return nil
	}

	logPath := filepath.Join(r.dirs.logs, s.Spec+".log")
	if err := os.MkdirAll(r.dirs.logs, 0o755); err != nil {
		return err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "slipway: toolchain BUILD %s (%s), input hash %s\n", s.Spec, s.where(), hash)

	srpmDir := filepath.Join(r.dirs.work, s.Spec, "in")
	os.RemoveAll(filepath.Join(r.dirs.work, s.Spec))
	if err := os.MkdirAll(srpmDir, 0o755); err != nil {
		return err
	}
	var srpm string
	if in.published != nil {
		srpm, err = in.published.Place(srpmDir, logFile)
	} else {
		srpm, err = source.PackSRPM(ctx, source.PackOptions{
			Info: info, SpecDir: specDir, Sources: in.sources, OutDir: srpmDir, Macros: r.macros,
			GeneratedMacros: r.opts.Generated(s.Spec), ConfigRoot: r.dirs.rpmconfig, TempDir: r.dirs.work,
		})
	}
	if err != nil {
		fmt.Fprintln(logFile, err)
		return r.failed(s, logPath, err)
	}
	if err := r.prepareLayer(ctx, logFile); err != nil {
		return r.failed(s, logPath, err)
	}
	outDir := filepath.Join(r.dirs.work, s.Spec, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	argv := []string{"rpmbuild", "--rebuild", "--nodeps",
		"--define", "_topdir /slipway/out", "--define", "_dbpath /var/lib/rpm"}
	for _, d := range r.macros.Defines {
		argv = append(argv, "--define", d)
	}
	argv = append(argv, "/slipway/in/"+filepath.Base(srpm))
	fmt.Fprintf(logFile, "slipway: %s\n", strings.Join(argv, " "))
	res, err := buildroot.Run(ctx, buildroot.Spec{
		Lower: r.lower(), Upper: filepath.Join(r.dirs.work, s.Spec, "root"),
		Binds: []buildroot.Bind{{Src: srpmDir, Dest: "/slipway/in", ReadOnly: true}, {Src: outDir, Dest: "/slipway/out"}},
		Env:   buildroot.DefaultEnv(), Argv: argv, Stdout: logFile, Stderr: logFile,
		Timeout: r.opts.Timeout, Hostname: "slipway-toolchain",
	})
	if err != nil {
		return r.failed(s, logPath, err)
	}
	if res.TimedOut {
		return r.failed(s, logPath, fmt.Errorf("timed out after %s", r.opts.Timeout))
	}
	if res.ExitCode != 0 {
		return r.failed(s, logPath, fmt.Errorf("rpmbuild exited with status %d", res.ExitCode))
	}
	built, _ := filepath.Glob(filepath.Join(outDir, "RPMS", "*", "*.rpm"))
	if len(built) == 0 {
		return r.failed(s, logPath, errors.New("rpmbuild made no RPM"))
	}
	files := map[string]string{}
	for _, f := range built {
		files[filepath.Base(f)] = f
	}
	logFile.Sync()
	e, err := r.store.Put(store.Meta{Hash: hash, Name: s.Spec, Inputs: inputs, Created: time.Now().UTC(),
		Duration: time.Since(start)}, files, logPath, true)
	if err != nil {
		return err
	}
	os.RemoveAll(filepath.Join(r.dirs.work, s.Spec))
	r.latest[s.Spec] = e
	step.Decision, step.RPMs, step.Log, step.Duration = Built, e.Meta.Files, logPath, time.Since(start)
	r.report.add(r.opts, step)
	return nil
}

// failed reports a failed build: the error names the step and the log,
// which is kept; nothing of the build enters the store.
func (r *rebuilder) failed(s Step, logPath string, err error) error {
	r.report.add(r.opts, StepResult{Step: Build, Spec: s.Spec, Decision: Failed, Log: logPath, Error: err.Error()})
	return &BuildError{Step: s, Log: logPath, Err: err}
}

// BuildError is a toolchain build that failed.
type BuildError struct {
	Step Step
	Log  string
	Err  error
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("%s: BUILD %s failed: %v (log: %s)", e.Step.where(), e.Step.Spec, e.Err, e.Log)
}

func (e *BuildError) Unwrap() error { return e.Err }

// buildInput is what a BUILD step builds from: the spec directory and
// its resolved sources, or the published source RPM (Options.SRPMs).
type buildInput struct {
	sources   []source.File
	published *srpms.Published
	inputs    map[string]string
}

// buildInput finds a step's sources or published source RPM and names
// the parts of its input hash.
func (r *rebuilder) buildInput(ctx context.Context, info *spec.Info, specDir string) (*buildInput, error) {
	in := &buildInput{inputs: map[string]string{
		"root":    r.rootID,
		"macros":  r.macroHash,
		"builder": "rpmbuild --rebuild --nodeps v1",
	}}
	if r.opts.SRPMs != nil {
		var err error
		if in.published, err = r.opts.SRPMs.Published(ctx, info.SRPM); err != nil {
			return nil, err
		}
		in.inputs["srpm"] = in.published.Key
		return in, nil
	}
	var err error
	if in.sources, err = source.Resolve(ctx, info, specDir, r.opts.Sources); err != nil {
		return nil, err
	}
	dirHash, err := spec.HashDir(specDir)
	if err != nil {
		return nil, err
	}
	var srcs []string
	for _, f := range in.sources {
		srcs = append(srcs, f.Name+"="+f.SHA256)
	}
	in.inputs["spec"] = info.Path + " " + dirHash
	in.inputs["sources"] = hashStrings(srcs...)
	in.inputs["generated"] = hashStrings(r.opts.Generated(info.Name))
	return in, nil
}

func hashInputs(inputs map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(inputs)) {
		parts = append(parts, k, inputs[k])
	}
	return hashStrings(parts...)
}

// selectInstall finds the RPMs an INSTALL step names: with a prefix, the
// RPMs of that spec's latest build whose names start with it; without,
// the package of that name from the latest build that made it, or else
// all RPMs of that spec.
func (r *rebuilder) selectInstall(s Step) ([]string, error) {
	pick := func(e *store.Entry, keep func(name string) bool) []string {
		var out []string
		for _, f := range e.Meta.Files {
			p, err := graph.ParseRPMFileName(f)
			if err == nil && keep(p.Name) && !strings.HasSuffix(p.Name, "-debuginfo") && !strings.HasSuffix(p.Name, "-debugsource") {
				out = append(out, e.Path(f))
			}
		}
		return out
	}
	if s.Prefix != "" {
		e := r.latest[s.Spec]
		if e == nil {
			return nil, fmt.Errorf("%s: INSTALL %s: no earlier BUILD of that spec", s.where(), s.Spec)
		}
		if rpms := pick(e, func(n string) bool { return strings.HasPrefix(n, s.Prefix) }); len(rpms) > 0 {
			return rpms, nil
		}
		return nil, fmt.Errorf("%s: INSTALL %s %s: the build made no RPM whose name starts with %s", s.where(), s.Spec, s.Prefix, s.Prefix)
	}
	for _, e := range r.latest {
		if rpms := pick(e, func(n string) bool { return n == s.Spec }); len(rpms) > 0 {
			return rpms, nil
		}
	}
	if e := r.latest[s.Spec]; e != nil {
		return pick(e, func(string) bool { return true }), nil
	}
	return nil, fmt.Errorf("%s: INSTALL %s: no earlier build made a package or spec of that name", s.where(), s.Spec)
}

// prepareLayer brings the install layer to the current root: the RPMs of
// every INSTALL so far, installed in order over the bootstrap root. The
// layer remembers which root it holds, so installs are replayed only when
// a build needs them and something changed.
func (r *rebuilder) prepareLayer(ctx context.Context, log io.Writer) error {
	want := ""
	if n := len(r.installs); n > 0 {
		want = r.installs[n-1].rootID
	}
	state := filepath.Join(r.dirs.layer, "state")
	have, _ := os.ReadFile(state)
	if string(have) == want {
		return nil
	}
	// Continue from the layer's state when it is a step of this chain.
	from := 0
	for i, in := range r.installs {
		if in.rootID == string(have) {
			from = i + 1
		}
	}
	if from == 0 {
		if err := os.RemoveAll(r.dirs.layer); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(r.dirs.layer, 0o755); err != nil {
		return err
	}
	os.Remove(state) // a layer caught half-way is not trusted on the next run
	for _, in := range r.installs[from:] {
		fmt.Fprintf(log, "slipway: installing into the toolchain root: %s\n", baseNames(in.rpms))
		// The bootstrap root's own files are in no rpm database: every
		// requirement would look missing, so dependencies are not checked.
		err := buildroot.InstallIntoWith(ctx, buildroot.Spec{Lower: []string{r.boot.Dir}, Upper: r.dirs.layer,
			Env: buildroot.DefaultEnv(), Stdout: log, Stderr: log, Timeout: r.opts.Timeout}, in.rpms,
			buildroot.InstallOptions{NoDeps: true})
		if err != nil {
			return fmt.Errorf("installing %s into the toolchain root: %w", baseNames(in.rpms), err)
		}
	}
	return os.WriteFile(state, []byte(want), 0o644)
}

// lower is the root a build sees: the install layer over the bootstrap.
func (r *rebuilder) lower() []string {
	if len(r.installs) == 0 {
		return []string{r.boot.Dir}
	}
	return []string{filepath.Join(r.dirs.layer, "upper"), r.boot.Dir}
}

func baseNames(paths []string) string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return strings.Join(names, " ")
}

// finalSet is the toolchain: the RPMs of each spec's latest build.
func (r *rebuilder) finalSet() map[string]string {
	out := map[string]string{}
	for _, e := range r.latest {
		for _, f := range e.Meta.Files {
			out[f] = e.Path(f)
		}
	}
	return out
}
