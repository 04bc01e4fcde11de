package disk

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"slipway/internal/image/imagetest"
	"slipway/internal/image/initramfs"
	"slipway/internal/testutil"
)

const bootMarker = "SLIPWAY-BOOT-OK"

// TestBootEFI makes an EFI GPT disk (GRUB on the ESP; a Debian cloud kernel,
// an initramfs from initramfs.Make and a busybox root on ext4), converts it
// to VHD and VHDX, and boots each in QEMU (TCG, OVMF) until the root's
// /sbin/init prints the marker on the serial console.
func TestBootEFI(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, append(imageTools, "grub-mkimage", "qemu-system-x86_64", "cp")...)
	imagetest.OVMF(t)
	imagetest.RequireFile(t, "the grub-efi-amd64-bin package", "/usr/lib/grub/x86_64-efi/linux.mod")
	busybox := imagetest.StaticBusybox(t)
	ctx := context.Background()
	kernelDir := imagetest.DebianKernel(t, "linux-image-cloud-amd64")

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
			took, err := imagetest.Boot(ctx, imagetest.BootOptions{Firmware: "efi",
				Disk: image, DiskFormat: f.qemuFormat, Marker: bootMarker})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s after %.1f s", f.format, bootMarker, took.Seconds())
		})
	}
}

// makeBootRoot fills root with busybox, testdata/root-init as /sbin/init,
// the kernel as /boot/vmlinuz and, as /boot/initrd.img, the initramfs
// initramfs.Make makes from the kernel's modules and busybox (staged
// apart: the modules would not fit on the test's small disk).
func makeBootRoot(t *testing.T, root, busybox, kernelDir string) {
	t.Helper()
	imagetest.InstallBusybox(t, root, busybox, "sh", "mount", "grep", "poweroff", "cat")
	imagetest.CopyFile(t, filepath.Join("testdata", "root-init"), filepath.Join(root, "sbin", "init"), 0o755)

	stage := t.TempDir()
	imagetest.InstallBusybox(t, stage, busybox)
	kver := imagetest.InstallKernel(t, stage, kernelDir, busybox)
	imagetest.CopyFile(t, filepath.Join(stage, "boot", "vmlinuz-"+kver), filepath.Join(root, "boot", "vmlinuz"), 0o644)
	err := initramfs.Make(context.Background(), initramfs.Options{Root: stage, Modules: []string{"virtio_pci", "virtio_blk"}},
		filepath.Join(root, "boot", "initrd.img"))
	if err != nil {
		t.Fatal(err)
	}
}
