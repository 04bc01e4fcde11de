package iso

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/fsutil"
	"slipway/internal/image"
	"slipway/internal/image/cpio"
	"slipway/internal/image/imagetest"
	"slipway/internal/image/qemu"
	"slipway/internal/testutil"
)

const marker = "SLIPWAY-ISO-OK"

func requireISOTools(t *testing.T) {
	t.Helper()
	testutil.RequireTools(t, "xorriso", "grub-mkimage", "mkfs.vfat", "mmd", "mcopy")
	imagetest.RequireFile(t, "the grub-pc-bin package", filepath.Join(grubPCDir, "cdboot.img"))
	imagetest.RequireFile(t, "the grub-efi-amd64-bin package", filepath.Join(grubEFIDir, "linux.mod"))
}

// busyboxInitrd writes an initrd of busybox and testdata/init to out.
func busyboxInitrd(t *testing.T, busybox, out string) {
	t.Helper()
	bb, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	init, err := os.ReadFile(filepath.Join("testdata", "init"))
	if err != nil {
		t.Fatal(err)
	}
	err = cpio.CreateGzip(out, 0, func(w *cpio.Writer) error {
		for _, err := range []error{
			w.AddDir("bin", 0o755, 0, 0),
			w.AddFile("bin/busybox", 0o755, 0, 0, bb),
			w.AddDir("dev", 0o755, 0, 0),
			w.AddDevice("dev/console", true, 0o600, 0, 0, 5, 1),
			w.AddFile("init", 0o755, 0, 0, init),
			w.AddDir("proc", 0o755, 0, 0),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMakeIsReproducible(t *testing.T) {
	requireISOTools(t)
	work := t.TempDir()
	kernel, initrd := filepath.Join(work, "kernel"), filepath.Join(work, "initrd")
	os.WriteFile(kernel, bytes.Repeat([]byte("not a kernel "), 1000), 0o644)
	os.WriteFile(initrd, []byte("not an initrd"), 0o644)
	o := Options{Kernel: kernel, Initrd: initrd, Cmdline: "quiet", VolumeID: "SLIPWAY_TEST"}
	ctx := context.Background()
	var sums []string
	for i, name := range []string{"a.iso", "b.iso"} {
		if i == 1 {
			// Different input file times change nothing.
			exec.Command("touch", "-d", "2011-11-11", kernel, initrd).Run()
		}
		out := filepath.Join(work, name)
		if err := Make(ctx, o, out); err != nil {
			t.Fatal(err)
		}
		sum, err := fsutil.SHA256File(out)
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, sum)
	}
	if sums[0] != sums[1] {
		out, _ := exec.Command("sh", "-c", `cmp -l "$1" "$2" | head -20`, "sh", filepath.Join(work, "a.iso"), filepath.Join(work, "b.iso")).CombinedOutput()
		t.Fatalf("two ISOs of the same inputs differ: %s\n%s", strings.Join(sums, " "), out)
	}
	t.Logf("sha256 %s", sums[0])
	ls, err := exec.Command("xorriso", "-indev", filepath.Join(work, "a.iso"), "-find", "/", "-exec", "lsdl").CombinedOutput()
	if err != nil {
		t.Fatalf("xorriso -lsdl: %v\n%s", err, ls)
	}
	t.Logf("xorriso -find / -exec lsdl:\n%s", ls)
	for _, line := range strings.Split(string(ls), "\n") {
		if strings.Contains(line, "'/boot/") && !strings.Contains(line, "Jan  1  2020") {
			t.Errorf("not dated with the epoch: %s", line)
		}
	}
	for _, f := range []string{"/boot/vmlinuz", "/boot/initrd.img", "/boot/grub/eltorito.img", "/boot/grub/efiboot.img"} {
		if !strings.Contains(string(ls), "'"+f+"'") {
			t.Errorf("the ISO lacks %s:\n%s", f, ls)
		}
	}
	o.Epoch = image.DefaultEpoch + 1
	if err := Make(ctx, o, filepath.Join(work, "c.iso")); err != nil {
		t.Fatal(err)
	}
	if sum, _ := fsutil.SHA256File(filepath.Join(work, "c.iso")); sum == sums[0] {
		t.Error("another epoch gives the same ISO")
	}

	// Bad options fail before anything is written.
	for _, bad := range []Options{
		{Kernel: kernel, Initrd: initrd, VolumeID: "lower case"},
		{Kernel: kernel, Initrd: initrd, VolumeID: "OK", Cmdline: "a; b"},
		{Kernel: filepath.Join(work, "missing"), Initrd: initrd, VolumeID: "OK"},
	} {
		if err := Make(ctx, bad, filepath.Join(work, "bad.iso")); err == nil {
			t.Errorf("Make(%+v) succeeded", bad)
		}
	}
	entries, _ := os.ReadDir(work)
	if len(entries) != 5 {
		t.Errorf("%s holds %v, want the inputs and three ISOs", work, entries)
	}
}

// TestBoot makes an ISO of Debian's cloud kernel and a busybox initrd
// whose /init prints a marker, twice (identical), and boots it with
// SeaBIOS and with OVMF, from QEMU's CD-ROM drive and as a disk (as a USB
// stick would be), until the marker appears.
func TestBoot(t *testing.T) {
	requireISOTools(t)
	testutil.RequireTools(t, "qemu-system-x86_64")
	imagetest.OVMF(t)
	busybox := imagetest.StaticBusybox(t)
	kernelDir := imagetest.DebianKernel(t, "linux-image-cloud-amd64")
	kernels, _ := filepath.Glob(filepath.Join(kernelDir, "boot", "vmlinuz-*"))
	if len(kernels) != 1 {
		t.Fatalf("%s: want one kernel, found %v", kernelDir, kernels)
	}
	ctx := context.Background()
	work := t.TempDir()
	initrd := filepath.Join(work, "initrd.img")
	busyboxInitrd(t, busybox, initrd)
	o := Options{Kernel: kernels[0], Initrd: initrd, Cmdline: "panic=-1 slipway.test=iso", VolumeID: "SLIPWAY_BOOT_TEST"}
	image := filepath.Join(work, "boot.iso")
	var sums []string
	for _, out := range []string{image, filepath.Join(work, "again.iso")} {
		if err := Make(ctx, o, out); err != nil {
			t.Fatal(err)
		}
		sum, _ := fsutil.SHA256File(out)
		sums = append(sums, sum)
	}
	if sums[0] != sums[1] {
		t.Fatalf("two builds of the same ISO differ: %v", sums)
	}
	st, _ := os.Stat(image)
	t.Logf("ISO: %d KiB, sha256 %s", st.Size()>>10, sums[0])
	for _, c := range []struct{ fw, as string }{{"bios", "cdrom"}, {"efi", "cdrom"}, {"bios", "disk"}, {"efi", "disk"}} {
		t.Run(c.fw+"-"+c.as, func(t *testing.T) {
			o := qemu.BootOptions{Firmware: c.fw, CDROM: image, Marker: marker}
			if c.as == "disk" {
				o.CDROM, o.Disk = "", image
			}
			var console bytes.Buffer
			o.Console = &console
			took, err := qemu.Boot(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(console.String(), "console=ttyS0 panic=-1 slipway.test=iso") {
				t.Errorf("the kernel did not get the command line:\n%s", console.String())
			}
			t.Logf("%s from the %s: %s after %.1f s", c.fw, c.as, marker, took.Seconds())
		})
	}
}
