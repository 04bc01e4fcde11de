// Package imagetest holds what the image packages' boot tests share:
// finding firmware and a static busybox, fetching a Debian kernel, and
// making a small root to boot (see package qemu for booting it). It is
// imported by tests only.
package imagetest

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/fsutil"
	"slipway/internal/image/qemu"
	"slipway/internal/testutil"
)

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
	return RequireFile(t, "the ovmf package", qemu.OVMFPaths...)
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
