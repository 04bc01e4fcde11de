// Package iso makes hybrid ISO 9660 images that boot a kernel and an
// initrd under BIOS and UEFI, from a CD or a USB stick: GRUB's El Torito
// image for BIOS (grub-mkimage -O i386-pc-eltorito, with GRUB's hybrid
// MBR), and an EFI system partition image holding GRUB for UEFI
// (grub-mkimage -O x86_64-efi, mkfs.vfat + mtools, no mounts), put
// together by xorriso the way grub-mkrescue does.
package iso

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"slipway/internal/fsutil"
	"slipway/internal/image"
	"slipway/internal/image/disk"
)

// Options say what an ISO boots.
type Options struct {
	Kernel  string // the kernel image (bzImage); becomes /boot/vmlinuz
	Initrd  string // the initrd; becomes /boot/initrd.img
	Cmdline string // kernel command line; console=ttyS0 is added
	// VolumeID is the ISO 9660 volume label: 1 to 32 characters of
	// A-Z, 0-9 and _.
	VolumeID string
	// Epoch is the time of every file and volume date, and so of the
	// volume's UUID, as seconds since 1970; 0 = image.DefaultEpoch.
	Epoch int64
}

// Where GRUB's platform files are (packages grub-pc-bin and grub-efi-amd64-bin).
var (
	grubPCDir  = "/usr/lib/grub/i386-pc"
	grubEFIDir = "/usr/lib/grub/x86_64-efi"
)

// Modules built into each GRUB image: all the embedded grub.cfg uses.
var (
	biosModules = []string{"biosdisk", "iso9660", "search", "search_fs_uuid", "linux", "echo"}
	efiModules  = []string{"iso9660", "part_gpt", "part_msdos", "search", "search_fs_uuid", "linux", "echo", "efi_gop"}
)

var volumeIDRE = regexp.MustCompile(`^[A-Z0-9_]{1,32}$`)

// validate checks o and returns its epoch.
func (o Options) validate() (int64, error) {
	for what, p := range map[string]string{"kernel": o.Kernel, "initrd": o.Initrd} {
		if p == "" {
			return 0, fmt.Errorf("no %s given", what)
		}
		st, err := os.Stat(p)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		if !st.Mode().IsRegular() {
			return 0, fmt.Errorf("%s %s is not a regular file", what, p)
		}
	}
	if !volumeIDRE.MatchString(o.VolumeID) {
		return 0, fmt.Errorf("volume ID %q: want 1 to 32 characters of A-Z, 0-9 and _", o.VolumeID)
	}
	if err := disk.CheckKernelCmdline(o.Cmdline); err != nil {
		return 0, err
	}
	epoch := image.EpochOrDefault(o.Epoch)
	if epoch < 315532800 { // 1980-01-01: FAT keeps no earlier time
		return 0, fmt.Errorf("epoch %d is before 1980", epoch)
	}
	return epoch, nil
}

// grubConfig is the grub.cfg built into both GRUB images: it finds the
// ISO by its volume UUID (GRUB's iso9660 UUID is the modification date)
// and boots its kernel and initrd.
func grubConfig(uuid, cmdline string) string {
	return fmt.Sprintf(`echo "slipway: booting the ISO %[1]s"
search --no-floppy --fs-uuid --set=root %[1]s
linux /boot/vmlinuz console=ttyS0 %[2]s
initrd /boot/initrd.img
boot
`, uuid, cmdline)
}

// Make writes the ISO of o to out. The same inputs give a byte-identical
// image. out appears only when complete; nothing is left on failure.
func Make(ctx context.Context, o Options, out string) error {
	epoch, err := o.validate()
	if err != nil {
		return fmt.Errorf("ISO %s: %w", out, err)
	}
	for _, f := range []string{filepath.Join(grubPCDir, "cdboot.img"), filepath.Join(grubPCDir, "boot_hybrid.img"),
		filepath.Join(grubEFIDir, "linux.mod")} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("ISO %s: %w (install grub-pc-bin and grub-efi-amd64-bin)", out, err)
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".tmp-"+filepath.Base(out)+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	t := time.Unix(epoch, 0).UTC()
	env := []string{"SOURCE_DATE_EPOCH=" + strconv.FormatInt(epoch, 10), "TZ=UTC", "MTOOLS_SKIP_CHECK=1"}
	// The volume's modification date as xorriso takes it, and as GRUB
	// shows it as the volume UUID.
	date := t.Format("20060102150405") + "00"
	uuid := t.Format("2006-01-02-15-04-05") + "-00"

	tree := filepath.Join(tmp, "tree")
	for _, c := range []struct{ src, dst string }{{o.Kernel, "boot/vmlinuz"}, {o.Initrd, "boot/initrd.img"}} {
		if err := copyFile(c.src, filepath.Join(tree, c.dst)); err != nil {
			return err
		}
	}
	cfg := filepath.Join(tmp, "grub.cfg")
	if err := os.WriteFile(cfg, []byte(grubConfig(uuid, o.Cmdline)), 0o644); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(tree, "boot", "grub"), 0o755); err != nil {
		return err
	}
	eltorito := filepath.Join(tree, "boot", "grub", "eltorito.img")
	argv := []string{"grub-mkimage", "-O", "i386-pc-eltorito", "-d", grubPCDir, "-o", eltorito, "-c", cfg, "-p", "/boot/grub"}
	if err := run(ctx, env, append(argv, biosModules...)...); err != nil {
		return err
	}
	efi := filepath.Join(tmp, "BOOTX64.EFI")
	argv = []string{"grub-mkimage", "-O", "x86_64-efi", "-d", grubEFIDir, "-o", efi, "-c", cfg, "-p", "/EFI/BOOT"}
	if err := run(ctx, env, append(argv, efiModules...)...); err != nil {
		return err
	}
	efiboot := filepath.Join(tree, "boot", "grub", "efiboot.img")
	if err := makeESPImage(ctx, env, efi, efiboot, o.VolumeID, epoch); err != nil {
		return err
	}

	iso := filepath.Join(tmp, "out.iso")
	argv = []string{"xorriso", "-as", "mkisofs", "-o", iso,
		"-V", o.VolumeID, "-r", // Rock Ridge, owners root, modes readable
		"--modification-date=" + date, "--set_all_file_dates", date, "--gpt_disk_guid", "modification-date",
		// BIOS: GRUB's El Torito image, and its hybrid MBR for USB sticks.
		"-b", "boot/grub/eltorito.img", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
		"--grub2-boot-info", "--grub2-mbr", filepath.Join(grubPCDir, "boot_hybrid.img"),
		"-c", "boot/grub/boot.cat",
		// UEFI: the ESP image as El Torito EFI image and as a partition.
		"--efi-boot", "boot/grub/efiboot.img", "-efi-boot-part", "--efi-boot-image",
		"--protective-msdos-label",
		tree}
	if err := run(ctx, env, argv...); err != nil {
		return err
	}
	if err := fsutil.SyncFile(iso); err != nil {
		return err
	}
	return os.Rename(iso, out)
}

// makeESPImage makes the FAT image (the UEFI El Torito image and EFI
// system partition) at img holding efi as EFI/BOOT/BOOTX64.EFI, the
// removable-media path firmware boots. Its volume id is derived from
// volumeID and epoch.
func makeESPImage(ctx context.Context, env []string, efi, img, volumeID string, epoch int64) error {
	st, err := os.Stat(efi)
	if err != nil {
		return err
	}
	// FAT12/16 with room for the binary and the FAT's own overhead, in MiB.
	size := (st.Size() + 512<<10 + 1<<20 - 1) / (1 << 20) * (1 << 20)
	f, err := os.Create(img)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", volumeID, epoch)))
	volID := fmt.Sprintf("%x", sum[:4])
	if err := run(ctx, env, "mkfs.vfat", "--invariant", "-i", volID, "-n", "EFIBOOT", img); err != nil {
		return err
	}
	if err := run(ctx, env, "mmd", "-i", img, "::/EFI", "::/EFI/BOOT"); err != nil {
		return err
	}
	return run(ctx, env, "mcopy", "-i", img, "-Q", efi, "::/EFI/BOOT/BOOTX64.EFI")
}

// run runs argv with extra environment variables; an error names the
// command and carries its output.
func run(ctx context.Context, env []string, argv ...string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, bytes.TrimSpace(b.Bytes()))
	}
	return nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}
