package imagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// InstallKernel installs the kernel unpacked in kernelDir (see
// DebianKernel) into root the way the tiny distribution's kernel package
// does: root/boot/vmlinuz-<kver> and root/usr/lib/modules/<kver>/ with
// the modules.dep busybox's depmod makes. The modules are hard links to
// kernelDir's files where possible. It returns the kernel version.
func InstallKernel(t testing.TB, root, kernelDir, busybox string) string {
	t.Helper()
	kernels, _ := filepath.Glob(filepath.Join(kernelDir, "boot", "vmlinuz-*"))
	modDirs, _ := filepath.Glob(filepath.Join(kernelDir, "lib", "modules", "*"))
	if len(kernels) != 1 || len(modDirs) != 1 {
		t.Fatalf("%s: want one kernel and one module tree, found %v and %v", kernelDir, kernels, modDirs)
	}
	kver := filepath.Base(modDirs[0])
	CopyFile(t, kernels[0], filepath.Join(root, "boot", "vmlinuz-"+kver), 0o644)
	mods := filepath.Join(root, "usr", "lib", "modules")
	if err := os.MkdirAll(mods, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("cp", "-al", modDirs[0], mods).Run(); err != nil {
		os.RemoveAll(filepath.Join(mods, kver))
		if out, err := exec.Command("cp", "-a", modDirs[0], mods).CombinedOutput(); err != nil {
			t.Fatalf("cp -a %s %s: %v\n%s", modDirs[0], mods, err, out)
		}
	}
	if out, err := exec.Command(busybox, "depmod", "-b", filepath.Join(root, "usr"), kver).CombinedOutput(); err != nil {
		t.Fatalf("busybox depmod -b %s/usr %s: %v\n%s", root, kver, err, out)
	}
	return kver
}

// InstallBusybox makes root a minimal merged-/usr busybox root: busybox
// as /usr/bin/busybox, links /bin, /sbin and /lib into /usr, links for
// applets in /usr/bin, and empty /dev, /proc, /sys, /tmp and /run.
func InstallBusybox(t testing.TB, root, busybox string, applets ...string) {
	t.Helper()
	CopyFile(t, busybox, filepath.Join(root, "usr", "bin", "busybox"), 0o755)
	for _, d := range []string{"usr/sbin", "usr/lib", "dev", "proc", "sys", "tmp", "run"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []string{"bin", "sbin", "lib"} {
		if err := os.Symlink("usr/"+l, filepath.Join(root, l)); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range applets {
		if err := os.Symlink("busybox", filepath.Join(root, "usr", "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
}

// CopyFile copies src to dst (making dst's directory) with mode perm.
func CopyFile(t testing.TB, src, dst string, perm os.FileMode) {
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
