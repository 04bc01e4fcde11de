package buildroot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"slipway/internal/fsutil"
)

// BaseSpec says what a base root is made from: exactly one of Rootfs,
// Tarball, RPMs, or Repo with Packages.
type BaseSpec struct {
	// CacheDir holds the bases, each in a directory named by the hash of
	// its inputs. Required except for Rootfs.
	CacheDir string
	// Rootfs is a root directory used in place as a read-only lower
	// layer: it is neither copied nor cached, and must not change while
	// builds use it.
	Rootfs string
	// Tarball is a root file system archive (any compression tar
	// detects), extracted with tar --numeric-owner -xpf.
	Tarball string
	// RPMs are package files installed with the host's rpm --root into an
	// empty directory, dependencies checked.
	RPMs []string
	// Repo is a local rpm-md repository (a directory with repodata/) from
	// which dnf --installroot installs Packages and their dependencies.
	Repo     string
	Packages []string
	// Log receives the output of tar, rpm or dnf; nil discards it.
	Log io.Writer
}

// MakeBase returns the directory of the base root described by b, making
// it if no base with the same inputs exists yet. A base is built in a
// temporary directory and renamed into place, so a crash never leaves a
// partial one, and concurrent calls for the same inputs agree.
func MakeBase(ctx context.Context, b BaseSpec) (string, error) {
	kinds := 0
	for _, set := range []bool{b.Rootfs != "", b.Tarball != "", len(b.RPMs) > 0, b.Repo != ""} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds != 1:
		return "", errors.New("buildroot: BaseSpec needs exactly one of Rootfs, Tarball, RPMs, Repo")
	case b.Rootfs != "":
		fi, err := os.Stat(b.Rootfs)
		if err != nil || !fi.IsDir() {
			return "", fmt.Errorf("buildroot: base root %s is not a directory", b.Rootfs)
		}
		return filepath.Abs(b.Rootfs)
	case b.CacheDir == "":
		return "", errors.New("buildroot: BaseSpec.CacheDir is required")
	case b.Repo != "" && len(b.Packages) == 0:
		return "", fmt.Errorf("buildroot: base from repository %s: no Packages given", b.Repo)
	}
	key, err := b.key()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(b.CacheDir, key)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(b.CacheDir, 0o755); err != nil {
		return "", fmt.Errorf("buildroot: %w", err)
	}
	tmp, err := os.MkdirTemp(b.CacheDir, ".tmp-"+key+"-")
	if err != nil {
		return "", fmt.Errorf("buildroot: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("buildroot: %w", err)
	}
	switch {
	case b.Tarball != "":
		err = runTool(ctx, b.Log, nil, "tar", "--numeric-owner", "--xattrs", "--xattrs-include=*",
			"-xpf", b.Tarball, "-C", tmp)
	case len(b.RPMs) > 0:
		err = rpmInstall(ctx, b.Log, tmp, b.RPMs)
	default:
		err = dnfInstall(ctx, b.Log, tmp, b.Repo, b.Packages)
	}
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			return dir, nil // made meanwhile by someone else
		}
		return "", fmt.Errorf("buildroot: %w", err)
	}
	return dir, nil
}

// key names a base by the digests of its inputs.
func (b BaseSpec) key() (string, error) {
	var kind string
	var lines []string
	switch {
	case b.Tarball != "":
		kind = "tarball"
		d, err := FileDigest(b.CacheDir, b.Tarball)
		if err != nil {
			return "", err
		}
		lines = []string{d}
	case len(b.RPMs) > 0:
		kind = "rpms"
		for _, f := range b.RPMs {
			d, err := FileDigest(b.CacheDir, f)
			if err != nil {
				return "", err
			}
			lines = append(lines, d)
		}
		slices.Sort(lines)
		lines = slices.Compact(lines)
	default:
		kind = "dnf"
		d, err := FileDigest(b.CacheDir, filepath.Join(b.Repo, "repodata", "repomd.xml"))
		if err != nil {
			return "", err
		}
		pkgs := slices.Clone(b.Packages)
		slices.Sort(pkgs)
		lines = append([]string{"repomd " + d}, pkgs...)
	}
	h := sha256.New()
	fmt.Fprintf(h, "slipway base v1\n%s\n%s\n", kind, strings.Join(lines, "\n"))
	return kind + "-" + hex.EncodeToString(h.Sum(nil))[:32], nil
}

// FileDigest returns the sha256 of a file. Digests are remembered in
// cacheDir/.digests by the file's identity (device, inode, size, mtime,
// ctime: any change to the file changes its ctime), so asking again for a
// large unchanged tarball costs a stat, not a read.
func FileDigest(cacheDir, path string) (string, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return "", fmt.Errorf("buildroot: base input %s: %w", path, err)
	}
	id := fmt.Sprintf("%d %d %d %d.%d %d.%d", st.Dev, st.Ino, st.Size,
		st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
	abs, _ := filepath.Abs(path)
	memo := filepath.Join(cacheDir, ".digests", hashString(abs))
	if b, err := os.ReadFile(memo); err == nil {
		if d, ok := strings.CutPrefix(string(b), id+" "); ok && len(d) == 64 {
			return d, nil
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("buildroot: base input: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("buildroot: reading %s: %w", path, err)
	}
	d := hex.EncodeToString(h.Sum(nil))
	_ = fsutil.WriteCacheFile(memo, []byte(id+" "+d), 0o644) // only a cache
	return d, nil
}

func hashString(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// rpmDBPath is where every root's rpm database lives. Debian's rpm would
// otherwise put it in ~/.rpmdb (under --root: <root>/root/.rpmdb).
const rpmDBPath = "/var/lib/rpm"

// rpmInstall installs files into root with the host's rpm.
func rpmInstall(ctx context.Context, log io.Writer, root string, files []string) error {
	abs := make([]string, len(files))
	for i, f := range files {
		a, err := filepath.Abs(f)
		if err != nil {
			return fmt.Errorf("buildroot: %w", err)
		}
		abs[i] = a
	}
	argv := append([]string{"rpm", "--root", root, "--dbpath", rpmDBPath, "-ivh"}, abs...)
	return runTool(ctx, log, nil, argv...)
}

// dnfInstall installs pkgs and their dependencies from the local
// repository repo into root. Only HOME/.rpmmacros can move dnf's rpm
// database out of Debian's ~/.rpmdb.
func dnfInstall(ctx context.Context, log io.Writer, root, repo string, pkgs []string) error {
	home, err := os.MkdirTemp("", "slipway-dnf-")
	if err != nil {
		return fmt.Errorf("buildroot: %w", err)
	}
	defer os.RemoveAll(home)
	argv, err := dnfArgs("dnf", home, root, []string{repo})
	if err != nil {
		return err
	}
	argv = append(append(argv, "install"), pkgs...)
	return runTool(ctx, log, []string{"HOME=" + home}, argv...)
}

// dnfArgs is a dnf command line (without its verb) that installs into
// root from local repositories only, in the order given (the first has
// the highest priority), with no weak dependencies, plugins or GPG checks.
// Its configuration is written into home, which must be the command's
// HOME: only HOME/.rpmmacros moves dnf's rpm database out of Debian's
// ~/.rpmdb to /var/lib/rpm.
func dnfArgs(dnf, home, root string, repos []string) ([]string, error) {
	conf := filepath.Join(home, "dnf.conf")
	files := map[string]string{
		".rpmmacros": "%_dbpath " + rpmDBPath + "\n",
		"dnf.conf":   "[main]\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(home, name), []byte(data), 0o644); err != nil {
			return nil, fmt.Errorf("buildroot: %w", err)
		}
	}
	argv := []string{dnf, "-y", "--config", conf, "--installroot", root,
		"--setopt=reposdir=" + filepath.Join(home, "repos.d"),
		"--setopt=cachedir=" + filepath.Join(home, "cache"),
		"--setopt=install_weak_deps=False", "--setopt=keepcache=False",
		"--disableplugin=*", "--nogpgcheck", "--releasever=slipway"}
	for i, repo := range repos {
		abs, err := filepath.Abs(repo)
		if err != nil {
			return nil, fmt.Errorf("buildroot: %w", err)
		}
		id := fmt.Sprintf("slipway-%d", i)
		argv = append(argv, "--repofrompath="+id+",file://"+abs, "--repo="+id,
			fmt.Sprintf("--setopt=%s.priority=%d", id, 10+i))
	}
	return argv, nil
}

// runTool runs a host tool with a C locale (its messages are scanned),
// failing on a non-zero exit or on a failed rpm scriptlet, which rpm
// reports only in its output.
func runTool(ctx context.Context, log io.Writer, env []string, argv ...string) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), append([]string{"LC_ALL=C", "LANG=C"}, env...)...)
	w := io.Writer(&out)
	if log != nil {
		w = io.MultiWriter(&out, log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("buildroot: %s: %w\n%s", strings.Join(argv, " "), err, tail(out.Bytes()))
	}
	return scriptletFailures(argv[0], out.Bytes())
}

// scriptletFailures turns rpm's reports of failed scriptlets into an
// error: "%post(...) scriptlet failed" for a shell one, "lua script failed"
// for a Lua one.
func scriptletFailures(tool string, out []byte) error {
	var failed []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "scriptlet failed") || strings.Contains(line, "lua script failed") {
			failed = append(failed, strings.TrimSpace(line))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("buildroot: %s exited 0 but a scriptlet failed:\n%s", tool, strings.Join(failed, "\n"))
}

// tail is the end of a tool's output, for error messages.
func tail(out []byte) string {
	const max = 2000
	if len(out) > max {
		out = out[len(out)-max:]
	}
	return strings.TrimSpace(string(out))
}
