package buildroot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// An image root is a directory that becomes a system: packages are
// installed into it and scripts run in it with /proc and /dev present.
// It is the upper layer of an overlay whose lower layer is empty, so
// every change lands in the directory itself (nothing to merge, and with
// nothing below, the overlay writes no whiteouts). ImageRoot names the
// directory: its upper layer is Dir/upper, the root.

// ImageRoot is where an image root is kept.
type ImageRoot struct {
	Dir string // holds upper (the root), work, merged and an empty lower
	Log io.Writer
}

// Path is the root directory itself.
func (r ImageRoot) Path() string { return filepath.Join(r.Dir, "upper") }

// spec is the sandbox that sees the image root.
func (r ImageRoot) spec(argv []string) (Spec, error) {
	lower := filepath.Join(r.Dir, "lower")
	if err := os.MkdirAll(lower, 0o755); err != nil {
		return Spec{}, fmt.Errorf("buildroot: %w", err)
	}
	return Spec{Lower: []string{lower}, Upper: r.Dir, KeepUpper: true, Argv: argv, Env: DefaultEnv(),
		Stdout: r.Log, Stderr: r.Log, Hostname: "slipway-image"}, nil
}

// PackageInstall is what InstallPackages installs, from where.
type PackageInstall struct {
	Repos    []string // local rpm-md repositories (directories with repodata/), in priority order
	Packages []string // names or capabilities; dnf adds their dependencies
	// NoDocs leaves out files marked %doc (DisableRpmDocs).
	NoDocs bool
	// Epoch, when set, is SOURCE_DATE_EPOCH for rpm, which then records
	// it as the install time (and transaction id) of every package, so
	// the rpm database is the same on every run.
	Epoch int64
}

// InstallPackages installs packages and their dependencies into the image
// root with the host's dnf, run from a sandbox (no network) that has the
// root prepared with /proc and /dev, so scriptlets work. A failed
// scriptlet is an error although rpm exits 0. The rpm database is at
// /var/lib/rpm.
func (r ImageRoot) InstallPackages(ctx context.Context, in PackageInstall) error {
	if len(in.Repos) == 0 {
		return errors.New("buildroot: installing packages: no repository given")
	}
	host, err := exec.LookPath("dnf")
	if err != nil {
		return fmt.Errorf("buildroot: installing packages needs dnf: %w", err)
	}
	home, err := os.MkdirTemp("", "slipway-dnf-")
	if err != nil {
		return fmt.Errorf("buildroot: %w", err)
	}
	defer os.RemoveAll(home)
	argv, err := dnfArgs(host, home, filepath.Join(r.Dir, "merged"), in.Repos)
	if err != nil {
		return err
	}
	if in.NoDocs {
		argv = append(argv, "--setopt=tsflags=nodocs")
	}
	argv = append(append(argv, "install"), in.Packages...)
	s, err := r.spec(argv)
	if err != nil {
		return err
	}
	s.Env = []string{"PATH=" + DefaultPath, "HOME=" + home, "LC_ALL=C", "LANG=C"}
	if in.Epoch != 0 {
		s.Env = append(s.Env, fmt.Sprintf("SOURCE_DATE_EPOCH=%d", in.Epoch))
	}
	out := &lockedBuffer{}
	s.Stdout, s.Stderr = teeTo(out, r.Log), teeTo(out, r.Log)
	res, err := run(ctx, s, true)
	switch {
	case err != nil:
		return fmt.Errorf("buildroot: dnf install into %s: %w", r.Path(), err)
	case res.ExitCode != 0:
		return fmt.Errorf("buildroot: dnf install into %s exited %d:\n%s", r.Path(), res.ExitCode, tail(out.Bytes()))
	}
	if err := scriptletFailures("dnf", out.Bytes()); err != nil {
		return err
	}
	return r.check()
}

// Run runs a command inside the image root (chrooted, no network, /proc
// and /dev mounted); its changes stay in the root.
func (r ImageRoot) Run(ctx context.Context, argv []string, binds ...Bind) (Result, error) {
	s, err := r.spec(argv)
	if err != nil {
		return Result{ExitCode: -1}, err
	}
	s.Binds = binds
	res, err := Run(ctx, s)
	if err == nil {
		err = r.check()
	}
	return res, err
}

// Clean removes what the sandbox left beside the root (work, merged,
// lower), leaving the root itself.
func (r ImageRoot) Clean() error {
	var errs []error
	for _, d := range []string{"work", "merged", "lower"} {
		errs = append(errs, os.RemoveAll(filepath.Join(r.Dir, d)))
	}
	return errors.Join(errs...)
}

// check makes sure the root holds no overlay bookkeeping: whiteouts
// (character devices 0:0) and trusted.overlay.* attributes would be
// copied into the image as junk. With an empty lower layer there should be
// none; finding one is a bug worth stopping for.
func (r ImageRoot) check() error {
	root := r.Path()
	return filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeCharDevice != 0 {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Rdev == 0 {
				return fmt.Errorf("buildroot: %s: an overlay whiteout in the image root", p)
			}
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			buf := make([]byte, 1024)
			n, _ := syscall.Listxattr(p, buf)
			for _, name := range strings.Split(string(buf[:max(n, 0)]), "\x00") {
				if strings.HasPrefix(name, "trusted.overlay.") {
					if err := syscall.Removexattr(p, name); err != nil {
						return fmt.Errorf("buildroot: %s: removing %s: %w", p, name, err)
					}
				}
			}
		}
		return nil
	})
}
