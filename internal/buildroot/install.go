package buildroot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
)

// InstallInto installs exact RPM files into the upper layer of a build's
// overlay: root gives the layers (Lower and Upper, which is required and
// kept), and optionally Env, Stdout, Stderr and Timeout; root.Argv must be
// empty. Run the build afterwards with the same Lower and Upper.
//
// The rpm that installs is the root's own when it has one (/usr/bin/rpm):
// it reads and writes its database in its own format whatever rpm the host
// has, and runs in the sandbox like any build command. A root without rpm
// (whose database nothing inside can read) gets the host's rpm, run with
// --root on the prepared overlay from a sandbox that still sees the host's
// files. Either way the database is at /var/lib/rpm, as MakeBase makes it,
// and a failed scriptlet is an error even though rpm exits 0.
func InstallInto(ctx context.Context, root Spec, rpms []string) error {
	return InstallIntoWith(ctx, root, rpms, InstallOptions{})
}

// InstallOptions change how InstallInto installs.
type InstallOptions struct {
	// NoDeps skips rpm's dependency check: for roots whose files no rpm
	// database knows (a Debian bootstrap root), where every requirement
	// would look missing.
	NoDeps bool
}

// InstallIntoWith is InstallInto with options.
func InstallIntoWith(ctx context.Context, root Spec, rpms []string, opts InstallOptions) error {
	switch {
	case len(root.Argv) > 0:
		return errors.New("buildroot: InstallInto: root.Argv must be empty, InstallInto runs rpm")
	case root.Upper == "":
		return errors.New("buildroot: InstallInto: root.Upper is required, the packages go there")
	case len(rpms) == 0:
		return nil
	}
	root.KeepUpper = true
	if root.Env == nil {
		root.Env = DefaultEnv()
	}
	root.Env = slices.Concat(root.Env, []string{"LC_ALL=C"}) // rpm's messages are scanned
	out := &lockedBuffer{}
	root.Stdout = teeTo(out, root.Stdout)
	root.Stderr = teeTo(out, root.Stderr)

	var hostView bool
	if hasRPM(root.Lower, root.Upper) {
		const dir = "/tmp/.slipway-rpms"
		root.Argv = []string{"rpm", "--dbpath", rpmDBPath, "-ivh"}
		if opts.NoDeps {
			root.Argv = append(root.Argv, "--nodeps")
		}
		for i, f := range rpms {
			src, err := filepath.Abs(f)
			if err != nil {
				return fmt.Errorf("buildroot: %w", err)
			}
			dest := fmt.Sprintf("%s/%d-%s", dir, i, filepath.Base(f))
			root.Binds = append(root.Binds, Bind{Src: src, Dest: dest, ReadOnly: true})
			root.Argv = append(root.Argv, dest)
		}
	} else {
		host, err := exec.LookPath("rpm")
		if err != nil {
			return fmt.Errorf("buildroot: InstallInto: the root has no rpm and the host neither: %w", err)
		}
		hostView = true
		merged := filepath.Join(root.Upper, "merged")
		root.Argv = []string{host, "--root", merged, "--dbpath", rpmDBPath, "-ivh"}
		if opts.NoDeps {
			root.Argv = append(root.Argv, "--nodeps")
		}
		for _, f := range rpms {
			a, err := filepath.Abs(f)
			if err != nil {
				return fmt.Errorf("buildroot: %w", err)
			}
			root.Argv = append(root.Argv, a)
		}
	}
	res, err := run(ctx, root, hostView)
	switch {
	case err != nil:
		return fmt.Errorf("buildroot: installing %d RPMs into %s: %w", len(rpms), root.Upper, err)
	case res.TimedOut:
		return fmt.Errorf("buildroot: installing %d RPMs into %s: timed out after %v", len(rpms), root.Upper, root.Timeout)
	case res.ExitCode != 0:
		return fmt.Errorf("buildroot: rpm -i into %s exited %d:\n%s", root.Upper, res.ExitCode, tail(out.Bytes()))
	}
	return scriptletFailures("rpm", out.Bytes())
}

// hasRPM reports whether the layered root has /usr/bin/rpm: the topmost
// layer that has the path decides (a whiteout is a character device).
func hasRPM(lower []string, upper string) bool {
	layers := append([]string{filepath.Join(upper, "upper")}, lower...)
	for _, l := range layers {
		fi, err := os.Lstat(filepath.Join(l, "usr", "bin", "rpm"))
		if err != nil {
			continue
		}
		return fi.Mode()&os.ModeCharDevice == 0
	}
	return false
}

func teeTo(buf *lockedBuffer, w io.Writer) io.Writer {
	if w == nil {
		return buf
	}
	return io.MultiWriter(buf, w)
}

// lockedBuffer collects stdout and stderr, which are copied concurrently.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Bytes()
}
