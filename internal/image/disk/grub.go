package disk

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"slipway/internal/fsutil"
)

// grubConfig is the grub.cfg embedded in the standalone GRUB: it finds the
// root filesystem by UUID and boots its /boot/vmlinuz and /boot/initrd.img.
func grubConfig(rootUUID, kernelCmdline string) string {
	return fmt.Sprintf(`echo "slipway: booting the root filesystem %[1]s"
search --no-floppy --fs-uuid --set=root %[1]s
linux /boot/vmlinuz root=UUID=%[1]s ro console=ttyS0 %[2]s
initrd /boot/initrd.img
boot
`, rootUUID, kernelCmdline)
}

// efiModules are built into the GRUB EFI image: all the embedded grub.cfg
// uses, so it needs no module files and no normal mode.
var efiModules = []string{"part_gpt", "part_msdos", "ext2", "search", "search_fs_uuid", "linux", "echo", "efi_gop"}

// InstallGRUBEFI writes a standalone GRUB EFI binary to
// espDir/EFI/BOOT/BOOTX64.EFI, the removable-media path firmware boots
// without NVRAM entries. Its embedded grub.cfg boots /boot/vmlinuz and
// /boot/initrd.img from the filesystem with UUID rootUUID, with
// root=UUID=rootUUID ro console=ttyS0 and kernelCmdline. Run it before
// MakeRaw copies espDir.
func InstallGRUBEFI(ctx context.Context, espDir, rootUUID, kernelCmdline string) error {
	efi, err := grubImage(ctx, "x86_64-efi", "/EFI/BOOT", rootUUID, kernelCmdline, efiModules)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(espDir, "EFI", "BOOT", "BOOTX64.EFI"), efi, 0o644)
}

// grubImage makes a GRUB image for platform with the grub.cfg of
// grubConfig and modules built in.
//
// It uses grub-mkimage, not grub-mkstandalone: grub-mkstandalone's memdisk
// tar records the time it runs, so its output differs on every run;
// grub-mkimage's is the same.
func grubImage(ctx context.Context, platform, prefix, rootUUID, kernelCmdline string, modules []string) ([]byte, error) {
	if !uuidRE.MatchString(rootUUID) {
		return nil, fmt.Errorf("root filesystem UUID %q is not a UUID", rootUUID)
	}
	if err := CheckKernelCmdline(kernelCmdline); err != nil {
		return nil, err
	}
	tmpDir, err := os.MkdirTemp("", "slipway-grub-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmpDir)
	cfg := filepath.Join(tmpDir, "grub.cfg")
	if err := os.WriteFile(cfg, []byte(grubConfig(rootUUID, kernelCmdline)), 0o644); err != nil {
		return nil, err
	}
	out := filepath.Join(tmpDir, "grub.img")
	argv := []string{"grub-mkimage", "-O", platform, "-o", out, "-c", cfg, "-p", prefix}
	if _, _, err := run(ctx, nil, append(argv, modules...)...); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

// biosModules are built into GRUB's core image for BIOS boot.
var biosModules = []string{"biosdisk", "part_gpt", "part_msdos", "ext2", "search", "search_fs_uuid", "linux", "echo"}

// grubPCDir holds GRUB's BIOS platform files (package grub-pc-bin).
var grubPCDir = "/usr/lib/grub/i386-pc"

// Offsets in GRUB's boot.img (include/grub/i386/pc/boot.h) and the size
// of the blocklist at the end of the core image's first sector
// (diskboot.img).
const (
	bootKernelSector = 0x5c  // 8 bytes: the sector core.img starts at
	bootDrive        = 0x64  // 1 byte: 0xff = the drive the BIOS booted
	bootDriveCheck   = 0x66  // 2 bytes: a jump, replaced by NOPs for hard disks
	mbrCodeSize      = 0x1b8 // boot code ends where the MBR's disk signature starts
	blocklistSize    = 12    // uint64 start, uint16 length, uint16 segment
)

// InstallGRUBBIOS makes a raw disk from MakeRaw boot under BIOS, as
// grub-install would, without a loop device: GRUB's core image (the same
// grub.cfg as InstallGRUBEFI, modules built in) goes into the gap after
// the MBR (MBR disks) or into the bios_grub partition (GPT), and
// boot.img's code, told where core starts, into the first sector,
// leaving the partition table as it is.
func InstallGRUBBIOS(ctx context.Context, raw string, l Layout, rootUUID, kernelCmdline string) error {
	exts, err := plan(l)
	if err != nil {
		return err
	}
	start, end := int64(1), exts[0].first // sectors; core fills [start, end)
	if !l.mbr() {
		start = -1
		for i, p := range l.Partitions {
			if slices.Contains(p.Flags, "bios_grub") {
				start, end = exts[i].first, exts[i].last+1
			}
		}
		if start < 0 {
			return errors.New("BIOS boot from a GPT disk needs a bios_grub partition (unformatted) for GRUB's core image")
		}
	}
	core, err := grubImage(ctx, "i386-pc", "/boot/grub", rootUUID, kernelCmdline, biosModules)
	if err != nil {
		return err
	}
	if int64(len(core)) > (end-start)*sectorSize {
		return fmt.Errorf("GRUB's core image (%d bytes) does not fit in the %d sectors before the first partition", len(core), end-start)
	}
	binary.LittleEndian.PutUint64(core[sectorSize-blocklistSize:], uint64(start+1)) // the rest follows its first sector
	boot, err := os.ReadFile(filepath.Join(grubPCDir, "boot.img"))
	if err != nil {
		return fmt.Errorf("GRUB for BIOS (package grub-pc-bin): %w", err)
	}
	if len(boot) != sectorSize {
		return fmt.Errorf("%s is %d bytes, not one sector", filepath.Join(grubPCDir, "boot.img"), len(boot))
	}
	binary.LittleEndian.PutUint64(boot[bootKernelSector:], uint64(start))
	boot[bootDrive] = 0xff
	boot[bootDriveCheck], boot[bootDriveCheck+1] = 0x90, 0x90

	f, err := os.OpenFile(raw, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteAt(boot[:mbrCodeSize], 0); err != nil {
		return err
	}
	if _, err := f.WriteAt(core, start*sectorSize); err != nil {
		return err
	}
	return f.Sync()
}

// CheckKernelCmdline refuses a kernel command line that GRUB's script
// parser would interpret rather than pass on.
func CheckKernelCmdline(cmdline string) error {
	if strings.ContainsAny(cmdline, grubSpecial) {
		return fmt.Errorf("kernel command line %q: GRUB script characters (%q) are not allowed", cmdline, grubSpecial)
	}
	return nil
}

// grubSpecial are the characters GRUB's script parser would interpret.
const grubSpecial = "\n\r;#$'\"\\`{}|&<>"
