package buildroot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"
)

// setupRoot mounts, in the init's own mount namespace, the overlay at
// c.Merged and under it /proc, a minimal /dev, /tmp and the binds.
func setupRoot(c *initConfig) error {
	// Nothing mounted from here on may propagate to the host.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making the mount tree private: %w", err)
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s",
		strings.Join(c.Lower, ":"), c.Upper, c.Work)
	// volatile: a build root is thrown away, so its writes need no sync.
	err := syscall.Mount("overlay", c.Merged, "overlay", 0, opts+",volatile")
	if errors.Is(err, syscall.EINVAL) {
		err = syscall.Mount("overlay", c.Merged, "overlay", 0, opts)
	}
	if err != nil {
		return fmt.Errorf("mounting the overlay on %s (%s): %w", c.Merged, opts, err)
	}
	root := c.Merged
	const nosuid, nodev, noexec = syscall.MS_NOSUID, syscall.MS_NODEV, syscall.MS_NOEXEC
	if err := mountIn(root, "/proc", "proc", "proc", nosuid|nodev|noexec, ""); err != nil {
		return err
	}
	if err := protectProc(filepath.Join(root, "proc")); err != nil {
		return err
	}
	if err := setupDev(root); err != nil {
		return err
	}
	if err := mountIn(root, "/tmp", "tmpfs", "tmpfs", nosuid|nodev, "mode=1777"); err != nil {
		return err
	}
	for _, b := range c.Binds {
		if err := bindIn(root, b); err != nil {
			return err
		}
	}
	return nil
}

// protectProc makes the host-wide knobs of a fresh /proc read-only (a
// root process could otherwise set the host's core_pattern or trigger
// sysrq) and hides what leaks the host's kernel state, as container
// runtimes do. The command has no CAP_SYS_ADMIN to undo it.
func protectProc(proc string) error {
	for _, p := range []string{"sys", "sysrq-trigger", "irq", "bus", "fs"} {
		p = filepath.Join(proc, p)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if err := syscall.Mount(p, p, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			return fmt.Errorf("protecting %s: %w", p, err)
		}
		flags := uintptr(syscall.MS_BIND | syscall.MS_REMOUNT | syscall.MS_RDONLY | syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC)
		if err := syscall.Mount("", p, "", flags, ""); err != nil {
			return fmt.Errorf("making %s read-only: %w", p, err)
		}
	}
	for _, p := range []string{"kcore", "keys", "timer_list", "sched_debug", "latency_stats"} {
		p = filepath.Join(proc, p)
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			continue
		}
		if err := syscall.Mount("/dev/null", p, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("masking %s: %w", p, err)
		}
	}
	return nil
}

// setupDev mounts a tmpfs on /dev holding the host's harmless devices, a
// private devpts, /dev/shm and the usual symlinks.
func setupDev(root string) error {
	const nosuid, nodev, noexec = syscall.MS_NOSUID, syscall.MS_NODEV, syscall.MS_NOEXEC
	if err := mountIn(root, "/dev", "tmpfs", "tmpfs", nosuid|noexec, "mode=0755,size=64k"); err != nil {
		return err
	}
	dev, err := resolveIn(root, "/dev")
	if err != nil {
		return err
	}
	for _, name := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		if err := bindIn(root, Bind{Src: "/dev/" + name, Dest: "/dev/" + name}); err != nil {
			return err
		}
	}
	if err := mountIn(root, "/dev/pts", "devpts", "devpts", nosuid|noexec,
		"newinstance,ptmxmode=0666,mode=0620,gid=5"); err != nil {
		return err
	}
	if err := mountIn(root, "/dev/shm", "tmpfs", "tmpfs", nosuid|nodev, "mode=1777"); err != nil {
		return err
	}
	links := [][2]string{
		{"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
	}
	for _, l := range links {
		if err := os.Symlink(l[0], filepath.Join(dev, l[1])); err != nil {
			return fmt.Errorf("creating /dev/%s: %w", l[1], err)
		}
	}
	return nil
}

// mountIn mounts a file system at path inside root, creating the directory.
func mountIn(root, path, source, fstype string, flags uintptr, data string) error {
	target, err := mkdirIn(root, path)
	if err != nil {
		return err
	}
	if err := syscall.Mount(source, target, fstype, flags, data); err != nil {
		return fmt.Errorf("mounting %s on %s: %w", fstype, path, err)
	}
	return nil
}

// bindIn bind-mounts b.Src at b.Dest inside root, read-only if asked.
func bindIn(root string, b Bind) error {
	fi, err := os.Stat(b.Src)
	if err != nil {
		return fmt.Errorf("bind source: %w", err)
	}
	var target string
	if fi.IsDir() {
		target, err = mkdirIn(root, b.Dest)
	} else {
		target, err = mkfileIn(root, b.Dest)
	}
	if err != nil {
		return err
	}
	if err := syscall.Mount(b.Src, target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("binding %s on %s: %w", b.Src, b.Dest, err)
	}
	if b.ReadOnly {
		flags := uintptr(syscall.MS_BIND | syscall.MS_REMOUNT | syscall.MS_RDONLY)
		if err := syscall.Mount("", target, "", flags, ""); err != nil {
			return fmt.Errorf("making %s read-only: %w", b.Dest, err)
		}
	}
	return nil
}

// mkdirIn creates directory path inside root (and its parents), with
// symlinks resolved inside root, and returns its host path.
func mkdirIn(root, path string) (string, error) {
	p, err := resolveIn(root, path)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(p, 0o755); err != nil {
		return "", fmt.Errorf("creating %s in the root: %w", path, err)
	}
	return p, nil
}

// mkfileIn creates an empty file at path inside root unless one exists.
func mkfileIn(root, path string) (string, error) {
	p, err := resolveIn(root, path)
	if err != nil {
		return "", err
	}
	if _, err := mkdirIn(root, filepath.Dir(path)); err != nil {
		return "", err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return "", fmt.Errorf("creating %s in the root: %w", path, err)
	}
	return p, f.Close()
}

// resolveIn returns the host path of path as seen inside root: symlinks
// are followed as if root were "/", so no link can lead out of it (the root
// is not entered yet when mount points are made). Missing components are
// kept as they are.
func resolveIn(root, path string) (string, error) {
	resolved := "" // relative to root, cleaned
	rest := path
	for links := 0; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(strings.TrimLeft(rest, "/"), "/")
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = strings.TrimPrefix(filepath.Dir("/"+resolved), "/")
			continue
		}
		next := filepath.Join(resolved, part)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			resolved = next // missing (created later) or not a link
			continue
		}
		if links++; links > 40 {
			return "", fmt.Errorf("resolving %s in the root: too many symlinks", path)
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", fmt.Errorf("resolving %s in the root: %w", path, err)
		}
		if filepath.IsAbs(target) {
			resolved = ""
		}
		rest = target + "/" + rest
	}
	return filepath.Join(root, resolved), nil
}

// loopbackUp brings up lo, the only interface of a new network namespace.
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var ifr struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(ifr.name[:], "lo")
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		return e
	}
	ifr.flags |= syscall.IFF_UP
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		return e
	}
	return nil
}
