package initramfs

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"slipway/internal/image/disk"
	"slipway/internal/image/imagetest"
	"slipway/internal/image/qemu"
	"slipway/internal/testutil"
)

func TestLoadOrder(t *testing.T) {
	dep := map[string][]string{
		"virtio_blk":  {"kernel/virtio_blk.ko", "kernel/virtio.ko", "kernel/virtio_ring.ko"},
		"virtio":      {"kernel/virtio.ko", "kernel/virtio_ring.ko"},
		"virtio_ring": {"kernel/virtio_ring.ko"},
		"sd_mod":      {"kernel/sd_mod.ko", "kernel/scsi_mod.ko"},
		"scsi_mod":    {"kernel/scsi_mod.ko"},
		"loop_a":      {"kernel/loop_a.ko", "kernel/loop-b.ko"},
		"loop_b":      {"kernel/loop-b.ko", "kernel/loop_a.ko"},
	}
	builtin := map[string]bool{"ext4": true}
	got, err := loadOrder(dep, builtin, []string{"virtio-blk", "ext4", "sd_mod", "virtio"}, false)
	want := []string{"kernel/virtio_ring.ko", "kernel/virtio.ko", "kernel/virtio_blk.ko", "kernel/scsi_mod.ko", "kernel/sd_mod.ko"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("loadOrder = %v, %v; want %v", got, err, want)
	}
	if _, err := loadOrder(dep, builtin, []string{"nosuch"}, false); err == nil || !strings.Contains(err.Error(), "no module nosuch") {
		t.Errorf("a missing module: %v", err)
	}
	if got, err := loadOrder(dep, builtin, []string{"nosuch", "virtio"}, true); err != nil || len(got) != 2 {
		t.Errorf("a missing optional module: %v, %v", got, err)
	}
	if _, err := loadOrder(dep, builtin, []string{"loop_a"}, false); err == nil || !strings.Contains(err.Error(), "cycle: loop_a -> loop_b -> loop_a") {
		t.Errorf("a cycle: %v", err)
	}
}

// fakeRoot is an image root with a dynamically linked "busybox" (the
// host's true, its loader and libc, in a merged-/usr layout) and a module
// tree with modules.dep and modules.builtin.
func fakeRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	libdir := "/usr/lib/x86_64-linux-gnu"
	for _, f := range []string{"libc.so.6", "ld-linux-x86-64.so.2"} {
		if _, err := os.Stat(filepath.Join(libdir, f)); err != nil {
			t.Skipf("this test copies the host's glibc: %v", err)
		}
		imagetest.CopyFile(t, filepath.Join(libdir, f), filepath.Join(root, libdir, f), 0o755)
	}
	imagetest.CopyFile(t, "/usr/bin/true", filepath.Join(root, "usr/bin/busybox"), 0o755)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("usr/lib", filepath.Join(root, "lib")))
	must(os.Symlink("usr/bin", filepath.Join(root, "bin")))
	must(os.MkdirAll(filepath.Join(root, "lib64"), 0o755))
	must(os.Symlink("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", filepath.Join(root, "lib64", "ld-linux-x86-64.so.2")))
	mods := filepath.Join(root, "usr/lib/modules/6.1.0-1-test")
	for _, m := range []string{"virtio", "virtio_ring", "virtio_blk", "virtio_pci", "unused"} {
		imagetest.CopyFile(t, "/dev/null", filepath.Join(mods, "kernel/drivers", m+".ko"), 0o644)
		must(os.WriteFile(filepath.Join(mods, "kernel/drivers", m+".ko"), []byte("module "+m), 0o644))
	}
	must(os.WriteFile(filepath.Join(mods, "modules.dep"), []byte(`kernel/drivers/virtio.ko: kernel/drivers/virtio_ring.ko
kernel/drivers/virtio_ring.ko:
kernel/drivers/virtio_blk.ko: kernel/drivers/virtio.ko kernel/drivers/virtio_ring.ko
kernel/drivers/virtio_pci.ko: kernel/drivers/virtio.ko kernel/drivers/virtio_ring.ko
kernel/drivers/unused.ko:
`), 0o644))
	must(os.WriteFile(filepath.Join(mods, "modules.builtin"), []byte("kernel/fs/ext4/ext4.ko\nkernel/drivers/nvme/host/nvme.ko\n"), 0o644))
	return root
}

func listing(t *testing.T, archive string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", `gzip -dc "$1" | cpio -t -v --quiet --numeric-uid-gid`, "sh", archive).CombinedOutput()
	if err != nil {
		t.Fatalf("gzip -dc %s | cpio -t -v: %v\n%s", archive, err, out)
	}
	return string(out)
}

func TestMakeCollectsBusyboxLibrariesAndModules(t *testing.T) {
	testutil.RequireTools(t, "cpio", "gzip")
	root := fakeRoot(t)
	outDir := t.TempDir()
	a, b := filepath.Join(outDir, "a.img"), filepath.Join(outDir, "b.img")
	ctx := context.Background()
	if err := Make(ctx, Options{Root: root}, a); err != nil {
		t.Fatal(err)
	}
	if err := Make(ctx, Options{Root: root, KernelVersion: "6.1.0-1-test"}, b); err != nil {
		t.Fatal(err)
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if !bytes.Equal(da, db) {
		t.Error("two initramfs images of the same root differ")
	}
	list := listing(t, a)
	t.Logf("cpio -t -v:\n%s", list)
	for _, want := range []string{
		" 0        0    ", "Jan  1  2020 init\n", "crw-------   1 0        0          5,   1 Jan  1  2020 dev/console",
		"usr/bin/busybox\n", "lib -> usr/lib",
		"lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
		"usr/lib/x86_64-linux-gnu/libc.so.6\n", "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n",
		"usr/lib/modules/6.1.0-1-test/kernel/drivers/virtio_blk.ko\n",
	} {
		if !strings.Contains(list, want) {
			t.Errorf("the archive lacks %q", want)
		}
	}
	if strings.Contains(list, "unused.ko") {
		t.Error("the archive holds a module nobody asked for")
	}
	x := t.TempDir()
	sh := exec.Command("sh", "-c", `gzip -dc "$1" | cpio -i -d --quiet init`, "sh", a)
	sh.Dir = x
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("extracting init: %v\n%s", err, out)
	}
	init, _ := os.ReadFile(filepath.Join(x, "init"))
	if !strings.HasPrefix(string(init), "#!/usr/bin/busybox sh\n") {
		t.Errorf("/init starts %q", strings.SplitN(string(init), "\n", 2)[0])
	}
	var loads []string
	for _, line := range strings.Split(string(init), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "load" {
			loads = append(loads, filepath.Base(f[1]))
		}
	}
	// DefaultModules present in this kernel: virtio_pci, virtio_blk (nvme and ext4 are built in).
	if want := []string{"virtio_ring.ko", "virtio.ko", "virtio_pci.ko", "virtio_blk.ko"}; !slices.Equal(loads, want) {
		t.Errorf("/init loads %v, want %v", loads, want)
	}
	if out, err := exec.Command("busybox", "sh", "-n", filepath.Join(x, "init")).CombinedOutput(); err != nil {
		t.Errorf("busybox sh -n init: %v\n%s", err, out)
	}
}

func TestMakeFailsClearly(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		change func(root string) error
		opts   Options
		want   string
	}{
		"no busybox": {change: func(root string) error { return os.Remove(filepath.Join(root, "usr/bin/busybox")) },
			want: "the image must install busybox"},
		"unknown module": {opts: Options{Modules: []string{"virtio_blk", "nosuch"}}, want: "no module nosuch"},
		"wrong kernel":   {opts: Options{KernelVersion: "5.0"}, want: "has no modules of kernel 5.0"},
		"compressed module": {change: func(root string) error {
			dep := filepath.Join(root, "usr/lib/modules/6.1.0-1-test/modules.dep")
			data, _ := os.ReadFile(dep)
			data = bytes.ReplaceAll(data, []byte("virtio_blk.ko"), []byte("virtio_blk.ko.xz"))
			os.WriteFile(filepath.Join(root, "usr/lib/modules/6.1.0-1-test/kernel/drivers/virtio_blk.ko.xz"), nil, 0o644)
			return os.WriteFile(dep, data, 0o644)
		}, want: "compressed modules (.ko.xz, .ko.zst) are not supported"},
		"no modules.dep": {change: func(root string) error {
			return os.Remove(filepath.Join(root, "usr/lib/modules/6.1.0-1-test/modules.dep"))
		}, want: "run depmod"},
	} {
		t.Run(name, func(t *testing.T) {
			root := fakeRoot(t)
			if tc.change != nil {
				if err := tc.change(root); err != nil {
					t.Fatal(err)
				}
			}
			tc.opts.Root = root
			outDir := t.TempDir()
			err := Make(ctx, tc.opts, filepath.Join(outDir, "initrd.img"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Make error = %v, want one saying %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
				t.Errorf("a failed Make left %v", entries)
			}
		})
	}
}

// TestBootEFI makes a busybox root with Debian's cloud kernel (whose disk
// drivers are modules), an initramfs of it with the default modules, and
// an EFI GPT disk whose root's /sbin/init prints a marker, and boots the
// disk in QEMU (OVMF) until the marker appears.
func TestBootEFI(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "mkfs.ext4", "debugfs", "mkfs.vfat", "mmd", "mcopy", "sgdisk", "dd",
		"grub-mkimage", "qemu-system-x86_64", "cp")
	imagetest.OVMF(t)
	imagetest.RequireFile(t, "the grub-efi-amd64-bin package", "/usr/lib/grub/x86_64-efi/linux.mod")
	busybox := imagetest.StaticBusybox(t)
	kernelDir := imagetest.DebianKernel(t, "linux-image-cloud-amd64")
	ctx := context.Background()

	work := t.TempDir()
	stage, root, esp := filepath.Join(work, "stage"), filepath.Join(work, "root"), filepath.Join(work, "esp")
	imagetest.InstallBusybox(t, stage, busybox)
	kver := imagetest.InstallKernel(t, stage, kernelDir, busybox)
	imagetest.InstallBusybox(t, root, busybox, "sh", "mount", "grep", "cut", "sort", "tr", "poweroff")
	imagetest.CopyFile(t, filepath.Join("testdata", "root-init"), filepath.Join(root, "sbin", "init"), 0o755)
	imagetest.CopyFile(t, filepath.Join(stage, "boot", "vmlinuz-"+kver), filepath.Join(root, "boot", "vmlinuz"), 0o644)
	if err := Make(ctx, Options{Root: stage}, filepath.Join(root, "boot", "initrd.img")); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(root, "boot", "initrd.img"))
	t.Logf("initramfs of kernel %s with the default modules: %d KiB", kver, st.Size()>>10)

	l := disk.Layout{SizeMiB: 128, Partitions: []disk.Partition{
		{Name: "esp", FsType: "fat32", SizeMiB: 40, Flags: []string{"esp"}, Dir: esp},
		{Name: "rootfs", FsType: "ext4", Dir: root},
	}}.WithUUIDs("slipway-initramfs-test")
	if err := disk.InstallGRUBEFI(ctx, esp, l.Partitions[1].UUID, "panic=-1 rootfstype=ext4"); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(work, "disk.raw")
	if err := disk.MakeRaw(ctx, l, raw); err != nil {
		t.Fatal(err)
	}
	const marker = "SLIPWAY-INITRAMFS-OK"
	var console bytes.Buffer
	took, err := qemu.Boot(ctx, qemu.BootOptions{Firmware: "efi", Disk: raw, Marker: marker, Console: &console})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s after %.1f s", marker, took.Seconds())
	for _, line := range strings.Split(console.String(), "\n") {
		if strings.Contains(line, "slipway-initramfs:") || strings.Contains(line, marker) {
			t.Log(line)
		}
		if strings.Contains(line, "not loaded") && strings.Contains(line, "virtio") {
			t.Error(line)
		}
		if strings.Contains(line, marker) && !strings.Contains(line, "virtio_blk,") {
			t.Error("virtio_blk is not loaded")
		}
	}
}
