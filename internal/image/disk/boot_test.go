package disk

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
	"testing"
	"time"

	"slipway/internal/fsutil"
	"slipway/internal/testutil"
)

const bootMarker = "SLIPWAY-BOOT-OK"

// ovmfPaths are where Debian 12's ovmf package puts a firmware image that
// works with -bios.
var ovmfPaths = []string{"/usr/share/ovmf/OVMF.fd", "/usr/share/OVMF/OVMF.fd"}

// TestBootEFI makes an EFI GPT disk (GRUB on the ESP; a Debian cloud kernel,
// a busybox initramfs and a busybox root on ext4), converts it to VHD and
// VHDX, and boots each in QEMU (TCG, OVMF) until the root's /sbin/init
// prints the marker on the serial console.
func TestBootEFI(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, append(imageTools, "grub-mkimage", "qemu-system-x86_64",
		"busybox", "cpio", "gzip", "apt-get", "apt-cache", "dpkg-deb")...)
	ovmf := requireFile(t, "the ovmf package", ovmfPaths...)
	requireFile(t, "the grub-efi-amd64-bin package", "/usr/lib/grub/x86_64-efi/linux.mod")
	busybox := staticBusybox(t)
	ctx := context.Background()
	kernelDir := debianKernel(t, "linux-image-cloud-amd64")

	work := t.TempDir()
	root, esp := filepath.Join(work, "root"), filepath.Join(work, "esp")
	l := Layout{SizeMiB: 128, Partitions: []Partition{
		{Name: "esp", FsType: "fat32", SizeMiB: 40, Flags: []string{"esp"}, Dir: esp},
		{Name: "rootfs", FsType: "ext4", Dir: root},
	}}.WithUUIDs("slipway-boot-test")
	makeBootRoot(t, root, busybox, kernelDir)
	if err := InstallGRUBEFI(ctx, esp, l.Partitions[1].UUID, "panic=-1"); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(work, "disk.raw")
	if err := MakeRaw(ctx, l, raw); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ format, qemuFormat string }{{"raw", "raw"}, {"vhd", "vpc"}, {"vhdx", "vhdx"}} {
		t.Run(f.format, func(t *testing.T) {
			image := raw
			if f.format != "raw" {
				image = filepath.Join(work, "disk."+f.format)
				if err := Convert(ctx, raw, f.format, image); err != nil {
					t.Fatal(err)
				}
				defer os.Remove(image)
			}
			took, err := bootQEMU(ctx, ovmf, image, f.qemuFormat)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s after %.1f s", f.format, bootMarker, took.Seconds())
		})
	}
}

// requireFile returns the first of paths that exists; if none does, the
// test skips, or fails when SLIPWAY_REQUIRE_TOOLS is set.
func requireFile(t *testing.T, what string, paths ...string) string {
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

// staticBusybox returns the busybox on PATH if it is statically linked
// (Debian's busybox-static), the only userland of the test's initramfs and root.
func staticBusybox(t *testing.T) string {
	t.Helper()
	path, _ := exec.LookPath("busybox")
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			requireFile(t, "busybox-static (the busybox on PATH is dynamically linked)")
		}
	}
	return path
}

// debianKernel returns a directory holding Debian's kernel package pkg (a
// meta package, resolved to the kernel it depends on) unpacked with
// dpkg-deb -x; it is downloaded once into testutil.RootsDir().
func debianKernel(t *testing.T, pkg string) string {
	t.Helper()
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

// virtioModules are the modules the initramfs loads, in dependency order.
var virtioModules = []string{"virtio/virtio_ring", "virtio/virtio", "virtio/virtio_pci_modern_dev",
	"virtio/virtio_pci_legacy_dev", "virtio/virtio_pci", "block/virtio_blk"}

// makeBootRoot fills root with busybox, testdata/root-init as /sbin/init,
// the kernel as /boot/vmlinuz and an initramfs as /boot/initrd.img.
func makeBootRoot(t *testing.T, root, busybox, kernelDir string) {
	t.Helper()
	kernels, _ := filepath.Glob(filepath.Join(kernelDir, "boot", "vmlinuz-*"))
	moduleDirs, _ := filepath.Glob(filepath.Join(kernelDir, "lib", "modules", "*", "kernel", "drivers"))
	if len(kernels) != 1 || len(moduleDirs) != 1 {
		t.Fatalf("%s: want one kernel and one module tree, found %v and %v", kernelDir, kernels, moduleDirs)
	}
	copyFile(t, busybox, filepath.Join(root, "bin", "busybox"), 0o755)
	for _, applet := range []string{"sh", "mount", "grep", "poweroff", "cat"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"proc", "sys", "dev", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, filepath.Join("testdata", "root-init"), filepath.Join(root, "sbin", "init"), 0o755)
	copyFile(t, kernels[0], filepath.Join(root, "boot", "vmlinuz"), 0o644)

	initrd := t.TempDir()
	copyFile(t, busybox, filepath.Join(initrd, "bin", "busybox"), 0o755)
	copyFile(t, filepath.Join("testdata", "initramfs-init"), filepath.Join(initrd, "init"), 0o755)
	for _, m := range virtioModules {
		copyFile(t, filepath.Join(moduleDirs[0], m+".ko"), filepath.Join(initrd, "lib", "modules", filepath.Base(m)+".ko"), 0o644)
	}
	out := filepath.Join(root, "boot", "initrd.img")
	sh := exec.Command("sh", "-c", `cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -n -9 > "$2"`, "sh", initrd, out)
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("making the initramfs (find | cpio | gzip): %v\n%s", err, out)
	}
}

func copyFile(t *testing.T, src, dst string, perm os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(dst), 0o755)
	}
	if err == nil {
		err = os.WriteFile(dst, data, perm)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// bootQEMU boots image in QEMU (TCG, OVMF, virtio disk, serial console on
// stdout) and returns how long the marker took to appear, or an error with
// the last 60 console lines. QEMU is killed in any case.
func bootQEMU(ctx context.Context, ovmf, image, qemuFormat string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", "-accel", "tcg", "-m", "512",
		"-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
		"-bios", ovmf, "-drive", fmt.Sprintf("file=%s,format=%s,if=virtio,readonly=on", image, qemuFormat))
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
		if last = append(last, line); len(last) > 60 {
			last = last[1:]
		}
		if took == 0 && strings.Contains(line, bootMarker) {
			took = time.Since(start)
			time.AfterFunc(10*time.Second, cancel) // it should power off by itself
		}
	}
	io.Copy(io.Discard, pr)
	err := <-waited
	if took > 0 {
		return took, nil
	}
	return 0, fmt.Errorf("%s did not print %s (%v after %.0f s); last console lines:\n%s",
		image, bootMarker, err, time.Since(start).Seconds(), strings.Join(last, "\n"))
}
