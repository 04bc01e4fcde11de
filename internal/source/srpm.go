package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"slipway/internal/spec"
)

// PackOptions say which spec to pack and with which rpm configuration.
type PackOptions struct {
	Info    *spec.Info
	SpecDir string // the spec file, its patches and local files
	Sources []File // the spec's resolved Sources (see Resolve)
	OutDir  string // where the .src.rpm goes
	// Macros is the project's macro set (workspace.MacroSet); its Defines
	// are passed as -D. GeneratedMacros are the generated version macros
	// the spec uses, if any. The rpm configuration directory is prepared
	// under ConfigRoot (e.g. <build>/rpmconfig) with spec.PrepareConfigDir.
	Macros          spec.MacroSet
	GeneratedMacros string
	ConfigRoot      string
	// SourceDateEpoch is the packages' timestamp; 0 means the date of the
	// spec's newest %changelog entry (and 0 for a spec without one).
	SourceDateEpoch int64
	// TempDir holds the private rpmbuild directory; default os.TempDir().
	TempDir string
}

// topdir is rpmbuild's _topdir, relative to a private working directory:
// the SRPM keeps the expanded spec, paths included, so the same relative
// paths in every run are what makes it reproducible.
const topdir = "slipway"

// PackSRPM packs a source RPM with rpmbuild -bs in a private directory and
// moves it into OutDir atomically, returning its path. _sourcedir holds
// links to (or, where needed for reproducibility, copies of) the spec
// directory's files and the resolved sources. The result is byte for byte
// the same for the same inputs: SOURCE_DATE_EPOCH, a fixed _buildhost,
// build time and file times clamped to it, normalized file modes.
func PackSRPM(ctx context.Context, opts PackOptions) (string, error) {
	if opts.Info == nil || opts.SpecDir == "" || opts.OutDir == "" || opts.ConfigRoot == "" {
		return "", errors.New("PackSRPM: Info, SpecDir, OutDir and ConfigRoot must be set")
	}
	specFile := filepath.Join(opts.SpecDir, filepath.Base(opts.Info.Path))
	fail := func(err error) (string, error) { return "", fmt.Errorf("packing the SRPM of %s: %w", specFile, err) }
	configDir, err := spec.PrepareConfigDir(opts.ConfigRoot, opts.Macros, opts.GeneratedMacros)
	if err != nil {
		return fail(err)
	}
	work, err := os.MkdirTemp(opts.TempDir, "slipway-srpm-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(work)
	p := packer{opts: opts, work: work, specFile: specFile,
		env: append(spec.RPMEnv(configDir, filepath.Join(work, "home"), runtime.NumCPU()), "TZ=UTC")}
	staged, err := p.stage()
	if err != nil {
		return fail(err)
	}
	sde := opts.SourceDateEpoch
	if sde == 0 {
		if sde, err = p.changelogTime(ctx); err != nil {
			return fail(err)
		}
	}
	if err := normalize(staged, sde); err != nil {
		return fail(err)
	}
	if _, err := p.run(ctx, "rpmbuild", sde, "-bs", "--nodeps"); err != nil {
		return fail(err)
	}
	built, err := filepath.Glob(filepath.Join(work, topdir, "SRPMS", "*.src.rpm"))
	if err != nil || len(built) != 1 {
		return fail(fmt.Errorf("rpmbuild made %d source RPMs, want 1", len(built)))
	}
	dest := filepath.Join(opts.OutDir, filepath.Base(built[0]))
	if err := moveAtomic(built[0], dest); err != nil {
		return fail(err)
	}
	return dest, nil
}

type packer struct {
	opts     PackOptions
	work     string
	specFile string
	env      []string
}

// stage links the spec directory's files and the resolved sources into
// _sourcedir; it returns the links to the files that go into the SRPM.
func (p *packer) stage() ([]string, error) {
	dir := filepath.Join(p.work, topdir, "SOURCES")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(p.opts.SpecDir)
	if err != nil {
		return nil, err
	}
	inPayload := map[string]bool{filepath.Base(p.specFile): true}
	for _, patch := range p.opts.Info.Patches {
		if name, err := FileName(patch); err == nil {
			inPayload[name] = true
		}
	}
	links := map[string]string{}
	for _, e := range entries {
		target := filepath.Join(p.opts.SpecDir, e.Name())
		if fi, err := os.Stat(target); err == nil && fi.Mode().IsRegular() {
			links[e.Name()] = target
		}
	}
	for _, f := range p.opts.Sources {
		links[f.Name] = f.Path
		inPayload[f.Name] = true
	}
	var staged []string
	for name, target := range links {
		abs, err := filepath.Abs(target)
		if err != nil {
			return nil, err
		}
		link := filepath.Join(dir, name)
		if err := os.Symlink(abs, link); err != nil {
			return nil, err
		}
		if inPayload[name] {
			staged = append(staged, link)
		}
	}
	return staged, nil
}

// normalize replaces each link whose target rpm would pack with a time or
// mode that depends on the checkout (a file older than sde, whose time
// rpm does not clamp, or a mode other than 0644 or 0755) by a copy with
// time sde and a normalized mode.
func normalize(links []string, sde int64) error {
	t := time.Unix(sde, 0)
	for _, link := range links {
		fi, err := os.Stat(link)
		if err != nil {
			return err
		}
		mode := fi.Mode().Perm()
		want := os.FileMode(0o644)
		if mode&0o111 != 0 {
			want = 0o755
		}
		if mode == want && !fi.ModTime().Before(t) {
			continue
		}
		target, err := os.Readlink(link)
		if err != nil {
			return err
		}
		if err := os.Remove(link); err != nil {
			return err
		}
		if err := copyFile(target, link, want); err != nil {
			return err
		}
		if err := os.Chtimes(link, t, t); err != nil {
			return err
		}
	}
	return nil
}

// rpmArgs is the command line of an rpm tool run in the private directory.
func rpmArgs(tool string, specFile string, defines []string, args ...string) []string {
	argv := append([]string{tool}, args...)
	for _, d := range defines {
		argv = append(argv, "-D", d)
	}
	for _, d := range []string{
		"_topdir " + topdir,
		"_sourcedir " + topdir + "/SOURCES",
		"_specdir " + topdir + "/SOURCES",
		"_srcrpmdir " + topdir + "/SRPMS",
		"_rpmdir " + topdir + "/RPMS",
		"_builddir " + topdir + "/BUILD",
		"_buildrootdir " + topdir + "/BUILDROOT",
		"_buildhost slipway",
		"use_source_date_epoch_as_buildtime 1",
		"clamp_mtime_to_source_date_epoch 1",
	} {
		argv = append(argv, "-D", d)
	}
	return append(argv, topdir+"/SOURCES/"+filepath.Base(specFile))
}

// run runs an rpm tool on the staged spec; rpm's error lines become the error.
func (p *packer) run(ctx context.Context, tool string, sde int64, args ...string) ([]byte, error) {
	argv := rpmArgs(tool, p.specFile, p.opts.Macros.Defines, args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = p.work
	cmd.Env = append(p.env, "SOURCE_DATE_EPOCH="+strconv.FormatInt(sde, 10))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := strings.ReplaceAll(rpmErrors(stderr.String()), topdir+"/SOURCES/", p.opts.SpecDir+"/")
		return nil, fmt.Errorf("%s: %v: %s", tool, err, msg)
	}
	return stdout.Bytes(), nil
}

// changelogTime is the time of the spec's newest %changelog entry, or 0.
func (p *packer) changelogTime(ctx context.Context) (int64, error) {
	out, err := p.run(ctx, "rpmspec", 0, "-q", "--srpm", "--qf", "%{CHANGELOGTIME}\n")
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(out))
	if s == "(none)" || s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("rpmspec printed %q for the changelog time", s)
	}
	return n, nil
}

// rpmErrors condenses rpm's log to its "error:" lines, or all of it.
func rpmErrors(log string) string {
	var errs []string
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		if strings.HasPrefix(l, "error:") {
			errs = append(errs, l)
		}
	}
	if len(errs) == 0 {
		return strings.TrimSpace(log)
	}
	return strings.Join(errs, "; ")
}

// moveAtomic moves src to dest so dest is never seen half-written: a
// rename, or across file systems a synced copy to a temporary file next to
// dest, renamed.
func moveAtomic(src, dest string) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	if err := os.Chmod(src, 0o644); err != nil {
		return err
	}
	err := os.Rename(src, dest)
	if !errors.Is(err, syscall.EXDEV) {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".tmp-"+filepath.Base(dest)+"-")
	if err != nil {
		return err
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := copyFile(src, tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

// copyFile copies src to dest (replacing it), synced, with mode perm.
func copyFile(src, dest string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Chmod(perm); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
