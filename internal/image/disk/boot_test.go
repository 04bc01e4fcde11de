package disk

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/image/imagetest"
	"slipway/internal/image/initramfs"
	"slipway/internal/image/qemu"
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
			took, err := qemu.Boot(ctx, qemu.BootOptions{Firmware: "efi",
				Disk: image, DiskFormat: f.qemuFormat, Marker: bootMarker})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s after %.1f s", f.format, bootMarker, took.Seconds())
		})
	}
}

// TestBootBIOS makes a BIOS disk, with an MBR and with a GPT (GRUB's core
// in a bios_grub partition), and boots each under SeaBIOS until the root's
// init prints the marker.
func TestBootBIOS(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, append(imageTools, "grub-mkimage", "qemu-system-x86_64", "sfdisk")...)
	imagetest.RequireFile(t, "the grub-pc-bin package", "/usr/lib/grub/i386-pc/boot.img")
	busybox := imagetest.StaticBusybox(t)
	ctx := context.Background()
	kernelDir := imagetest.DebianKernel(t, "linux-image-cloud-amd64")
	root := filepath.Join(t.TempDir(), "root")
	makeBootRoot(t, root, busybox, kernelDir)
	for _, table := range []string{"mbr", "gpt"} {
		t.Run(table, func(t *testing.T) {
			l := Layout{Table: table, SizeMiB: 64, Partitions: []Partition{
				{Name: "rootfs", FsType: "ext4", Flags: []string{"legacy_boot"}, Dir: root}}}
			if table == "gpt" {
				l.Partitions = append([]Partition{{Name: "bios", SizeMiB: 1, Flags: []string{"bios_grub"}}}, l.Partitions...)
			}
			l = l.WithUUIDs("slipway-bios-test-" + table)
			raw := filepath.Join(t.TempDir(), "disk.raw")
			if err := MakeRaw(ctx, l, raw); err != nil {
				t.Fatal(err)
			}
			rootUUID := l.Partitions[len(l.Partitions)-1].UUID
			if err := InstallGRUBBIOS(ctx, raw, l, rootUUID, "panic=-1"); err != nil {
				t.Fatal(err)
			}
			if table == "mbr" {
				out, err := exec.Command("sfdisk", "--dump", raw).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "label-id: 0x"+l.diskID()) || !strings.Contains(string(out), "type=83, bootable") {
					t.Errorf("sfdisk --dump after installing GRUB: %v\n%s", err, out)
				}
			}
			took, err := qemu.Boot(ctx, qemu.BootOptions{Firmware: "bios", Disk: raw, DiskFormat: "raw", Marker: bootMarker})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s after %.1f s", table, bootMarker, took.Seconds())
		})
	}
	// Without a bios_grub partition a GPT disk has nowhere for GRUB's core.
	l := Layout{SizeMiB: 8, Partitions: []Partition{{Name: "rootfs", FsType: "ext4"}}}.WithUUIDs("no-bios-grub")
	if err := InstallGRUBBIOS(ctx, filepath.Join(t.TempDir(), "none.raw"), l, l.Partitions[0].UUID, ""); err == nil || !strings.Contains(err.Error(), "needs a bios_grub partition") {
		t.Errorf("GPT without bios_grub: %v", err)
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
