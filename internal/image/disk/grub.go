package disk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// grubModules are built into the GRUB image: all the embedded grub.cfg
// uses, so it needs no module files and no normal mode.
var grubModules = []string{"part_gpt", "part_msdos", "ext2", "search", "search_fs_uuid", "linux", "echo", "efi_gop"}

// InstallGRUBEFI writes a standalone GRUB EFI binary to
// espDir/EFI/BOOT/BOOTX64.EFI, the removable-media path firmware boots
// without NVRAM entries. Its embedded grub.cfg boots /boot/vmlinuz and
// /boot/initrd.img from the filesystem with UUID rootUUID, with
// root=UUID=rootUUID ro console=ttyS0 and kernelCmdline. Run it before
// MakeRaw copies espDir.
//
// The binary is made with grub-mkimage (modules and config built in), not
// grub-mkstandalone: grub-mkstandalone's memdisk tar records the time it
// runs, so its output differs on every run; grub-mkimage's is the same.
func InstallGRUBEFI(ctx context.Context, espDir, rootUUID, kernelCmdline string) error {
	if !uuidRE.MatchString(rootUUID) {
		return fmt.Errorf("root filesystem UUID %q is not a UUID", rootUUID)
	}
	if err := CheckKernelCmdline(kernelCmdline); err != nil {
		return err
	}
	tmpDir, err := os.MkdirTemp("", "slipway-grub-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmpDir)
	cfg := filepath.Join(tmpDir, "grub.cfg")
	if err := os.WriteFile(cfg, []byte(grubConfig(rootUUID, kernelCmdline)), 0o644); err != nil {
		return err
	}
	efi := filepath.Join(tmpDir, "BOOTX64.EFI")
	argv := []string{"grub-mkimage", "-O", "x86_64-efi", "-o", efi, "-c", cfg, "-p", "/EFI/BOOT"}
	if _, _, err := run(ctx, nil, append(argv, grubModules...)...); err != nil {
		return err
	}
	data, err := os.ReadFile(efi)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(espDir, "EFI", "BOOT", "BOOTX64.EFI"), data, 0o644)
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
