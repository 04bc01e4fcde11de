// Package imagetest holds what the image packages' boot tests share:
// finding firmware and a static busybox, fetching a Debian kernel, and
// booting an image in QEMU until a marker appears on its serial console.
// It is imported by tests only.
package imagetest

import (
	"bufio"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"slipway/internal/fsutil"
	"slipway/internal/testutil"
)

// OVMFPaths are where Debian 12's ovmf package puts a firmware image that
// works with -bios.
var OVMFPaths = []string{"/usr/share/ovmf/OVMF.fd", "/usr/share/OVMF/OVMF.fd"}

// RequireFile returns the first of paths that exists; if none does, the
// test skips, or fails when SLIPWAY_REQUIRE_TOOLS is set.
func RequireFile(t testing.TB, what string, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s is not installed (none of %s)", what, strings.Join(paths, ", "))
	if os.Getenv("SLIPWAY_REQUIRE_TOOLS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// OVMF returns the OVMF firmware image (package ovmf), or skips the test.
func OVMF(t testing.TB) string {
	t.Helper()
	return RequireFile(t, "the ovmf package", OVMFPaths...)
}

// StaticBusybox returns the busybox on PATH if it is statically linked
// (Debian's busybox-static); otherwise the test skips, or fails when
// SLIPWAY_REQUIRE_TOOLS is set.
func StaticBusybox(t testing.TB) string {
	t.Helper()
	testutil.RequireTools(t, "busybox")
	path, _ := exec.LookPath("busybox")
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			RequireFile(t, "busybox-static (the busybox on PATH is dynamically linked)")
		}
	}
	return path
}

// DebianKernel returns a directory holding Debian's kernel package pkg (a
// meta package such as linux-image-cloud-amd64, resolved to the kernel it
// depends on) unpacked with dpkg-deb -x: boot/vmlinuz-<kver> and
// lib/modules/<kver>/ (without modules.dep: Debian's postinst makes it).
// It is downloaded once into testutil.RootsDir().
func DebianKernel(t testing.TB, pkg string) string {
	t.Helper()
	testutil.RequireTools(t, "apt-get", "apt-cache", "dpkg-deb")
	out, err := exec.Command("apt-cache", "depends", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("apt-cache depends %s: %v\n%s", pkg, err, out)
	}
	name := ""
	for _, line := range strings.Split(string(out), "\n") {
		if dep, ok := strings.CutPrefix(strings.TrimSpace(line), "Depends: linux-image-"); ok {
			name = "linux-image-" + dep
			break
		}
	}
	if name == "" {
		t.Fatalf("apt-cache depends %s names no linux-image package (apt-get update?):\n%s", pkg, out)
	}
	dir := filepath.Join(testutil.RootsDir(), "debian-kernel", name)
	err = fsutil.MakeDirOnce(dir, func(tmp string) error {
		dl := exec.Command("apt-get", "download", name)
		dl.Dir = tmp
		if out, err := dl.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get download %s: %v\n%s", name, err, out)
		}
		debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
		if len(debs) != 1 {
			return fmt.Errorf("apt-get download %s left %d .deb files", name, len(debs))
		}
		if out, err := exec.Command("dpkg-deb", "-x", debs[0], filepath.Join(tmp, "x")).CombinedOutput(); err != nil {
			return fmt.Errorf("dpkg-deb -x %s: %v\n%s", debs[0], err, out)
		}
		return os.Remove(debs[0])
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "x")
}

// BootOptions say what QEMU boots and what it waits for.
type BootOptions struct {
	Firmware   string // "bios" (SeaBIOS, QEMU's default) or "efi" (OVMF)
	Disk       string // a disk image attached as a virtio drive, read-only; optional
	DiskFormat string // QEMU's name of Disk's format ("raw", "vpc", "vhdx", "qcow2"); "" = raw
	CDROM      string // an ISO attached as the IDE CD-ROM; optional
	Marker     string // the console text that means success
	Timeout    time.Duration
	Console    io.Writer // if set, gets every console line
}

// DefaultBootTimeout is Boot's limit when BootOptions.Timeout is 0.
const DefaultBootTimeout = 120 * time.Second

// lockQEMU waits until no other test process (go test runs packages in
// parallel) is running QEMU through Boot: a TCG guest is slow enough on
// its own. It holds an flock on a file in the temporary directory.
func lockQEMU(ctx context.Context) (unlock func(), err error) {
	name := filepath.Join(os.TempDir(), "slipway-qemu.lock")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK && err != syscall.EINTR {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Boot runs QEMU (TCG, 512 MiB, serial console on its output, no reboot)
// on o's disk or CD-ROM and returns how long o.Marker took to appear, or
// an error with the last 60 console lines. After the marker the guest
// has 10 s to power off by itself; QEMU is killed in any case. Only one
// Boot runs at a time on the machine (see lockQEMU); o.Timeout starts
// once it is its turn.
func Boot(ctx context.Context, o BootOptions) (time.Duration, error) {
	if o.Marker == "" {
		return 0, fmt.Errorf("imagetest.Boot: no marker to wait for")
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultBootTimeout
	}
	argv := []string{"qemu-system-x86_64", "-accel", "tcg", "-m", "512",
		"-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot"}
	var what []string
	switch o.Firmware {
	case "bios", "":
	case "efi":
		var ovmf string
		for _, p := range OVMFPaths {
			if _, err := os.Stat(p); err == nil {
				ovmf = p
				break
			}
		}
		if ovmf == "" {
			return 0, fmt.Errorf("no OVMF firmware (package ovmf): none of %s", strings.Join(OVMFPaths, ", "))
		}
		argv = append(argv, "-bios", ovmf)
	default:
		return 0, fmt.Errorf("imagetest.Boot: unknown firmware %q (bios or efi)", o.Firmware)
	}
	if o.Disk != "" {
		format := o.DiskFormat
		if format == "" {
			format = "raw"
		}
		argv = append(argv, "-drive", fmt.Sprintf("file=%s,format=%s,if=virtio,readonly=on", o.Disk, format))
		what = append(what, o.Disk)
	}
	if o.CDROM != "" {
		argv = append(argv, "-cdrom", o.CDROM)
		what = append(what, o.CDROM)
	}
	if len(what) == 0 {
		return 0, fmt.Errorf("imagetest.Boot: neither a disk nor a CD-ROM to boot")
	}
	name := fmt.Sprintf("%s (%s)", strings.Join(what, " + "), o.Firmware)
	unlock, err := lockQEMU(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()

	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 5 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	waited := make(chan error, 1)
	go func() { err := cmd.Wait(); pw.Close(); waited <- err }()

	var last []string
	var took time.Duration
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if o.Console != nil {
			fmt.Fprintln(o.Console, line)
		}
		if last = append(last, line); len(last) > 60 {
			last = last[1:]
		}
		if took == 0 && strings.Contains(line, o.Marker) {
			took = time.Since(start)
			time.AfterFunc(10*time.Second, cancel) // it should power off by itself
		}
	}
	io.Copy(io.Discard, pr)
	err = <-waited
	if took > 0 {
		return took, nil
	}
	return 0, fmt.Errorf("%s did not print %s (%v after %.0f s); last console lines:\n%s",
		name, o.Marker, err, time.Since(start).Seconds(), strings.Join(last, "\n"))
}
