package compose

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"slipway/internal/buildroot"
	"slipway/internal/image"
)

// configure sets the installed system up as the config says: host name,
// fstab, machine-id, groups and users, additional files. It edits the
// root's files directly (deterministic, no tools from the image needed).
func (j *job) configure(ctx context.Context) error {
	root := j.root.Path()
	if st, err := os.Stat(filepath.Join(root, "etc")); err != nil || !st.IsDir() {
		return fmt.Errorf("the installed packages made no /etc in the image root")
	}
	if j.sc.Hostname != "" {
		if err := writeIn(root, "/etc/hostname", j.sc.Hostname+"\n", 0o644); err != nil {
			return err
		}
	}
	if dp := j.disk; dp != nil {
		old, err := readFileIn(root, "/etc/fstab")
		if err != nil {
			return err
		}
		if err := writeIn(root, "/etc/fstab", dp.fstab(old), 0o644); err != nil {
			return err
		}
	}
	// An empty machine-id: each booted system makes its own (systemd's
	// first-boot convention, as Azure Linux's images do).
	if err := writeIn(root, "/etc/machine-id", "", 0o444); err != nil {
		return err
	}
	if err := j.accounts(root); err != nil {
		return err
	}
	return j.additionalFiles(root)
}

// additionalFiles copies AdditionalFiles (relative to the config's
// directory) to their places in the root.
func (j *job) additionalFiles(root string) error {
	for _, src := range sortedKeys(j.sc.AdditionalFiles) {
		data, err := os.ReadFile(filepath.Join(j.o.Config.Dir(), src))
		if err != nil {
			return fmt.Errorf("AdditionalFiles: %w", err)
		}
		st, _ := os.Stat(filepath.Join(j.o.Config.Dir(), src))
		for _, t := range j.sc.AdditionalFiles[src] {
			perm := st.Mode().Perm()
			if t.Permissions != "" {
				v, err := strconv.ParseUint(t.Permissions, 8, 32)
				if err != nil || v > 0o7777 {
					return fmt.Errorf("AdditionalFiles[%q]: Permissions %q is not an octal mode", src, t.Permissions)
				}
				perm = os.FileMode(v)
			}
			if err := writeIn(root, t.Path, string(data), perm); err != nil {
				return fmt.Errorf("AdditionalFiles[%q]: %w", src, err)
			}
		}
	}
	return nil
}

// scripts runs PostInstallScripts, then FinalizeImageScripts, in the root
// (chrooted, no network), and removes what the package manager leaves
// behind (its caches and logs; the rpm database too with RemoveRpmDb).
func (j *job) scripts(ctx context.Context) error {
	groups := []struct {
		field   string
		scripts []image.Script
	}{
		{"PostInstallScripts", j.sc.PostInstallScripts},
		{"FinalizeImageScripts", j.sc.FinalizeImageScripts},
	}
	if len(j.sc.PreInstallScripts) > 0 {
		fmt.Fprintln(j.o.Log, "slipway: PreInstallScripts run only in an ISO installer's environment; slipway makes no installer, so they are not run")
	}
	for _, g := range groups {
		for i, s := range g.scripts {
			if err := j.runScript(ctx, fmt.Sprintf("%s[%d] (%s)", g.field, i, s.Path), s); err != nil {
				return err
			}
		}
	}
	root := j.root.Path()
	junk := []string{"/var/cache/dnf", "/var/lib/dnf", "/var/log/dnf.log", "/var/log/dnf.librepo.log",
		"/var/log/dnf.rpm.log", "/var/log/hawkey.log", "/var/lib/rpm/.rpm.lock", "/var/lib/rpm/rpmdb.sqlite-shm",
		// ldconfig's record of the inodes and times it saw: a cache it
		// remakes, and different on every install.
		"/var/cache/ldconfig/aux-cache"}
	if j.sc.RemoveRpmDb {
		junk = append(junk, "/var/lib/rpm")
	}
	for _, p := range junk {
		if err := os.RemoveAll(filepath.Join(root, p)); err != nil {
			return err
		}
	}
	return j.root.Clean()
}

// runScript runs one config script inside the root: the script is bound
// at /tmp/slipway-script (a tmpfs, so nothing of it stays in the image)
// and run by /bin/sh with its Args.
func (j *job) runScript(ctx context.Context, what string, s image.Script) error {
	src, err := filepath.Abs(filepath.Join(j.o.Config.Dir(), s.Path))
	if err != nil {
		return err
	}
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	fmt.Fprintf(j.o.Log, "slipway: running %s\n", what)
	out := &tailBuffer{w: j.o.Log}
	j.root.Log = out
	defer func() { j.root.Log = j.o.Log }()
	res, err := j.root.Run(ctx, []string{"/bin/sh", "-c", "/bin/sh /tmp/slipway-script " + s.Args},
		buildroot.Bind{Src: src, Dest: "/tmp/slipway-script", ReadOnly: true})
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	case res.ExitCode != 0:
		return fmt.Errorf("%s exited %d; its last output:\n%s", what, res.ExitCode, out.tail())
	}
	return nil
}

// tailBuffer passes writes on and keeps the last few KiB for errors.
type tailBuffer struct {
	w   io.Writer
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return t.w.Write(p)
}

func (t *tailBuffer) tail() string { return strings.TrimSpace(string(t.buf)) }

// writeIn writes a file at path (absolute, inside the image) in root,
// making its parent directories; symlinks on the way must stay in root.
func writeIn(root, path, data string, perm os.FileMode) error {
	target, err := inRoot(root, path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	os.Remove(target) // a symlink or a read-only file is replaced, not followed
	if err := os.WriteFile(target, []byte(data), perm); err != nil {
		return err
	}
	return os.Chmod(target, perm) // WriteFile's mode is filtered by the umask
}

// inRoot maps an absolute image path to the host path under root,
// refusing paths that leave it (.., or a symlink in the root pointing out).
func inRoot(root, path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("%q is not an absolute path", path)
	}
	clean := filepath.Clean(path)
	dir := root
	parts := strings.Split(strings.TrimPrefix(filepath.Dir(clean), "/"), "/")
	for _, part := range parts {
		if part == "" {
			continue
		}
		next := filepath.Join(dir, part)
		if fi, err := os.Lstat(next); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			link, _ := os.Readlink(next)
			rel := link
			if !filepath.IsAbs(link) {
				rel = filepath.Join(strings.TrimPrefix(dir, root), link)
			}
			resolved, err := inRoot(root, filepath.Join("/", rel, "x"))
			if err != nil {
				return "", err
			}
			next = filepath.Dir(resolved)
		}
		if !strings.HasPrefix(next+"/", root+"/") {
			return "", fmt.Errorf("%s leaves the image root", path)
		}
		dir = next
	}
	return filepath.Join(dir, filepath.Base(clean)), nil
}

// readFileIn reads a file of the image root, "" if it is missing.
func readFileIn(root, path string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, path))
	if os.IsNotExist(err) {
		return "", nil
	}
	return string(data), err
}
