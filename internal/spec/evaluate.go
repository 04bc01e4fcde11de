package spec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Options says what to evaluate and how.
type Options struct {
	SpecsDir string   // the tree: <SpecsDir>/<name>/<spec>.spec
	BuildDir string   // slipway's state; results are cached in <BuildDir>/specs
	ToolsDir string   // where the helper is compiled; default <BuildDir>/tools
	Macros   MacroSet // macro files and defines
	// DistTag is stripped from releases in the generated version macros.
	DistTag string
	// VersionMacroPrefix names the generated macros %<prefix>_<spec>_version,
	// _release and _epoch ("" turns them off).
	VersionMacroPrefix string
	Jobs               int           // parallel evaluations; default the CPU count
	Timeout            time.Duration // per spec; default 5 minutes
	// Progress, when set, is called after each spec with the running count.
	Progress func(done, total int)
}

// EvalError is a spec that rpm could not evaluate.
type EvalError struct {
	Path    string // spec path relative to the specs directory
	Message string // rpm's own words
}

func (e *EvalError) Error() string { return e.Path + ": " + e.Message }

// Stats counts what an evaluation did.
type Stats struct {
	Specs     int `json:"specs"`
	Cached    int `json:"cached"`    // results taken from the cache
	Evaluated int `json:"evaluated"` // specs rpm evaluated in this run
	Failed    int `json:"failed"`
	// HelperProcesses is how many helper processes were started (each loads
	// the rpm configuration once and forks a child per spec).
	HelperProcesses int           `json:"helperProcesses"`
	Duration        time.Duration `json:"duration"`
}

// Result is the evaluated tree: every spec that evaluated, every one that
// failed, sorted by path.
type Result struct {
	Specs  []*Info
	Errors []*EvalError
	Stats  Stats

	// generated holds, per spec that uses other specs' version macros, the
	// macro file text it was evaluated with.
	generated map[string]string
}

// GeneratedMacros is the text of the generated version macros a spec
// uses ("" for most specs), which every later rpm run on it (packing the
// SRPM, building) must load as it was evaluated with.
func (r *Result) GeneratedMacros(specName string) string { return r.generated[specName] }

// specFile is one spec to evaluate, with what its cache key needs.
type specFile struct {
	rel, abs, name string
	dirHash        string
	refs           []string // specs whose generated version macros it uses
}

// Evaluate evaluates every spec of the tree, from the cache where the
// inputs are unchanged. A spec that fails is reported in Result.Errors and
// does not stop the others; the error return is for problems with the
// setup (unreadable tree, missing macro file, no helper).
func Evaluate(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	if opts.Jobs <= 0 {
		opts.Jobs = runtime.NumCPU()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.ToolsDir == "" {
		opts.ToolsDir = filepath.Join(opts.BuildDir, "tools")
	}
	files, err := findSpecs(opts.SpecsDir, opts.VersionMacroPrefix, filepath.Join(opts.BuildDir, "specs"))
	if err != nil {
		return nil, err
	}
	macroHash, err := opts.Macros.Hash()
	if err != nil {
		return nil, err
	}
	e := &evaluation{opts: opts, macroHash: macroHash, cache: cache{filepath.Join(opts.BuildDir, "specs")},
		done: map[string]*Info{}, total: len(files)}
	defer e.closePools()

	// Specs are evaluated in rounds: a spec whose text uses another spec's
	// generated version macros waits until that spec is evaluated.
	pending := files
	for len(pending) > 0 {
		ready, rest := e.nextRound(pending)
		if err := e.round(ctx, ready); err != nil {
			return nil, err
		}
		pending = rest
	}

	sort.Slice(e.res.Specs, func(i, j int) bool { return e.res.Specs[i].Path < e.res.Specs[j].Path })
	sort.Slice(e.res.Errors, func(i, j int) bool { return e.res.Errors[i].Path < e.res.Errors[j].Path })
	e.res.Stats.Specs = len(files)
	e.res.Stats.Failed = len(e.res.Errors)
	for _, p := range e.pools {
		e.res.Stats.HelperProcesses += p.started
	}
	e.res.Stats.Duration = time.Since(start)
	return &e.res, nil
}

type evaluation struct {
	opts      Options
	macroHash string
	cache     cache

	mu       sync.Mutex
	res      Result
	done     map[string]*Info // by spec name, for version macros
	failed   map[string]bool
	finished int
	total    int
	pools    []*helperPool
	helper   string
}

// nextRound splits pending specs into those whose referenced specs are all
// settled and the rest; with a reference cycle, everything is ready.
func (e *evaluation) nextRound(pending []specFile) (ready, rest []specFile) {
	waiting := map[string]bool{}
	for _, f := range pending {
		waiting[f.name] = true
	}
	for _, f := range pending {
		blocked := false
		for _, r := range f.refs {
			if r != f.name && waiting[r] {
				blocked = true
			}
		}
		if blocked {
			rest = append(rest, f)
		} else {
			ready = append(ready, f)
		}
	}
	if len(ready) == 0 {
		return pending, nil
	}
	return ready, rest
}

// round evaluates specs that can go together: cache hits first, then the
// misses in parallel through one helper pool.
func (e *evaluation) round(ctx context.Context, files []specFile) error {
	generated := e.generatedMacros(files)
	keys := make(map[string]string, len(files))
	for _, f := range files {
		keys[f.rel] = e.key(f)
	}
	entries := make([]*cacheEntry, len(files))
	var lookups errgroup.Group
	lookups.SetLimit(runtime.NumCPU())
	for i, f := range files {
		lookups.Go(func() error {
			entries[i] = e.cache.get(keys[f.rel])
			return nil
		})
	}
	lookups.Wait()
	var misses []specFile
	for i, f := range files {
		if entry := entries[i]; entry != nil {
			e.record(f, entry.Info, entry.Error, true)
			continue
		}
		misses = append(misses, f)
	}
	if len(misses) == 0 {
		return nil
	}
	pool, err := e.pool(ctx, generated)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.opts.Jobs)
	for _, f := range misses {
		g.Go(func() error {
			defines := []string{"_sourcedir " + filepath.Dir(f.abs)}
			raw, err := pool.evaluate(gctx, f.abs, defines)
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				e.record(f, nil, err.Error(), false) // not cached: may pass next time
				return nil
			}
			entry := cacheEntry{Key: keys[f.rel]}
			if raw.Status != 0 {
				entry.Error = rpmMessage(raw.Stderr, raw.Status)
			} else if info, perr := parseResult(f.rel, f.name, raw); perr != nil {
				entry.Error = "reading rpm's answer: " + perr.Error()
			} else {
				entry.Info = info
			}
			if err := e.cache.put(entry); err != nil {
				return fmt.Errorf("caching the result of %s: %w", f.rel, err)
			}
			e.record(f, entry.Info, entry.Error, false)
			return nil
		})
	}
	return g.Wait()
}

func (e *evaluation) record(f specFile, info *Info, errMsg string, cached bool) {
	e.mu.Lock()
	if errMsg != "" {
		e.res.Errors = append(e.res.Errors, &EvalError{Path: f.rel, Message: errMsg})
		if e.failed == nil {
			e.failed = map[string]bool{}
		}
		e.failed[f.name] = true
	} else {
		e.res.Specs = append(e.res.Specs, info)
		e.done[f.name] = info
		if text := e.generatedMacros([]specFile{f}); text != "" {
			if e.res.generated == nil {
				e.res.generated = map[string]string{}
			}
			e.res.generated[f.name] = text
		}
	}
	if cached {
		e.res.Stats.Cached++
	} else {
		e.res.Stats.Evaluated++
	}
	e.finished++
	n := e.finished
	e.mu.Unlock()
	if e.opts.Progress != nil {
		e.opts.Progress(n, e.total)
	}
}

// pool returns a helper pool for the given generated macros, compiling the
// helper and preparing the rpm configuration directory on first need.
func (e *evaluation) pool(ctx context.Context, generated string) (*helperPool, error) {
	if e.helper == "" {
		bin, err := HelperPath(ctx, e.opts.ToolsDir)
		if err != nil {
			return nil, err
		}
		e.helper = bin
	}
	configDir, err := PrepareConfigDir(filepath.Join(e.opts.BuildDir, "rpmconfig"), e.opts.Macros, generated)
	if err != nil {
		return nil, fmt.Errorf("preparing the rpm configuration: %w", err)
	}
	home := filepath.Join(configDir, "home")
	env := RPMEnv(configDir, home, e.opts.Jobs)
	p := newHelperPool(e.helper, e.opts.Macros.Defines, env, e.opts.Timeout)
	e.pools = append(e.pools, p)
	return p, nil
}

func (e *evaluation) closePools() {
	for _, p := range e.pools {
		p.close()
	}
}

// key hashes every input of one spec's evaluation.
func (e *evaluation) key(f specFile) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", e.macroHash, f.rel, f.dirHash)
	for _, r := range f.refs {
		fmt.Fprintf(h, "ref %s\x00", r)
		if info := e.done[r]; info != nil {
			io.WriteString(h, versionMacros(e.opts.VersionMacroPrefix, r, info, e.opts.DistTag))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// generatedMacros is the macro file defining the version macros the given
// specs use, from the specs evaluated so far.
func (e *evaluation) generatedMacros(files []specFile) string {
	seen := map[string]bool{}
	var b strings.Builder
	for _, f := range files {
		for _, r := range f.refs {
			if info := e.done[r]; info != nil && !seen[r] {
				seen[r] = true
				b.WriteString(versionMacros(e.opts.VersionMacroPrefix, r, info, e.opts.DistTag))
			}
		}
	}
	return b.String()
}

// versionMacros defines %<prefix>_<spec>_version, _release (without the
// dist tag) and _epoch (0 when the spec has none), as Azure Linux's build
// system does for specs that build against another spec's exact version.
func versionMacros(prefix, spec string, info *Info, distTag string) string {
	m := prefix + "_" + macroName(spec)
	release := info.SRPM.Release
	if distTag != "" {
		release = strings.TrimSuffix(release, distTag)
	}
	epoch := info.SRPM.Epoch
	if epoch == "" {
		epoch = "0"
	}
	return fmt.Sprintf("%%%s_version %s\n%%%s_release %s\n%%%s_epoch %s\n",
		m, info.SRPM.Version, m, release, m, epoch)
}

// rpmMessage condenses rpm's log into the error to show: its "error:"
// lines when there are any, else everything it said.
func rpmMessage(stderr string, status int) string {
	var errs []string
	for _, l := range lines(stderr) {
		if strings.HasPrefix(l, "error:") {
			errs = append(errs, strings.TrimSpace(strings.TrimPrefix(l, "error:")))
		}
	}
	if len(errs) == 0 {
		errs = lines(stderr)
	}
	if len(errs) == 0 {
		return fmt.Sprintf("rpm failed with exit status %d and said nothing", status)
	}
	return strings.Join(errs, "; ")
}

var versionMacroRef = regexp.MustCompile(`[A-Za-z0-9_]+_(?:version|release|epoch)\b`)

// findSpecs lists <dir>/*/*.spec with their directory hashes and the
// specs whose generated version macros each uses.
func findSpecs(dir, prefix, indexDir string) ([]specFile, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", "*.spec"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("specs directory: %w", err)
		}
	}
	sort.Strings(paths)
	byMacro := map[string]string{} // macroName(spec) -> spec
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".spec")
		byMacro[macroName(name)] = name
	}
	// The references a spec's text makes depend on which specs exist: the
	// index is per set of spec names (and macro prefix).
	names := slices.Sorted(maps.Keys(byMacro))
	sum := sha256.Sum256([]byte(prefix + "\x00" + strings.Join(names, "\x00")))
	index := loadDirIndex(filepath.Join(indexDir, "dirs-"+hex.EncodeToString(sum[:8])+".json"))
	// Hash the spec directories in parallel: on a warm run this and
	// reading the cache are all the work there is.
	var dirList []string
	for _, p := range paths {
		if d := filepath.Dir(p); len(dirList) == 0 || dirList[len(dirList)-1] != d {
			dirList = append(dirList, d) // paths are sorted: a directory's specs are adjacent
		}
	}
	hashes := make([]string, len(dirList))
	refs := make([]map[string][]string, len(dirList))
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	for i, d := range dirList {
		g.Go(func() error {
			rec, stamp, ok := index.lookup(d)
			if ok {
				hashes[i], refs[i] = rec.Hash, rec.Refs
				return nil
			}
			h, err := HashDir(d)
			if err != nil {
				return err
			}
			r := map[string][]string{}
			if prefix != "" {
				specs, _ := filepath.Glob(filepath.Join(d, "*.spec"))
				for _, p := range specs {
					text, err := os.ReadFile(p)
					if err != nil {
						return err
					}
					r[filepath.Base(p)] = versionRefs(string(text), prefix, byMacro)
				}
			}
			hashes[i], refs[i] = h, r
			index.store(d, dirRecord{Stamp: stamp, Hash: h, Refs: r})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := index.save(); err != nil {
		return nil, err
	}
	byDir := make(map[string]int, len(dirList))
	for i, d := range dirList {
		byDir[d] = i
	}
	files := make([]specFile, len(paths))
	for i, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		d := byDir[filepath.Dir(p)]
		files[i] = specFile{rel: filepath.ToSlash(rel), abs: p, name: strings.TrimSuffix(filepath.Base(p), ".spec"),
			dirHash: hashes[d], refs: refs[d][filepath.Base(p)]}
	}
	return files, nil
}

// versionRefs finds the specs whose %<prefix>_<spec>_version (or _release,
// _epoch) macros a spec's text uses.
func versionRefs(text, prefix string, byMacro map[string]string) []string {
	seen := map[string]bool{}
	var refs []string
	for _, m := range versionMacroRef.FindAllString(text, -1) {
		rest, ok := strings.CutPrefix(m, prefix+"_")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, '_')
		if spec, ok := byMacro[rest[:i]]; ok && !seen[spec] {
			seen[spec] = true
			refs = append(refs, spec)
		}
	}
	sort.Strings(refs)
	return refs
}

// HashDir hashes the names and contents of every regular file under dir
// (and the targets of its symlinks): a spec directory's identity.
func HashDir(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			if d.Type()&os.ModeSymlink != 0 {
				target, err := os.Readlink(p)
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				fmt.Fprintf(h, "link %q %q\n", rel, target)
			}
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "file %q %d\n", rel, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
