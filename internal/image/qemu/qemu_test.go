package qemu

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestArgs(t *testing.T) {
	ovmf := filepath.Join(t.TempDir(), "OVMF.fd")
	os.WriteFile(ovmf, nil, 0o644)
	defer func(saved []string) { OVMFPaths = saved }(OVMFPaths)
	OVMFPaths = []string{filepath.Join(t.TempDir(), "none.fd"), ovmf}

	headless := []string{Binary, "-accel", "tcg", "-m", "512", "-no-reboot", "-display", "none", "-monitor", "none", "-serial", "stdio"}
	interactive := []string{Binary, "-accel", "tcg", "-m", "512", "-no-reboot", "-nographic", "-snapshot"}
	with := func(base []string, more ...string) []string { return slices.Concat(base, more) }
	for _, tc := range []struct {
		name        string
		o           BootOptions
		interactive bool
		want        []string
	}{
		{"efi vhdx", BootOptions{Firmware: "efi", Disk: "d.vhdx", DiskFormat: "vhdx"}, false,
			with(headless, "-bios", ovmf, "-drive", "file=d.vhdx,format=vhdx,if=virtio,readonly=on")},
		{"bios raw by default", BootOptions{Firmware: "bios", Disk: "d.raw"}, false,
			with(headless, "-drive", "file=d.raw,format=raw,if=virtio,readonly=on")},
		{"no firmware is bios", BootOptions{CDROM: "c.iso"}, false, with(headless, "-cdrom", "c.iso")},
		{"efi cdrom", BootOptions{Firmware: "efi", CDROM: "c.iso"}, false, with(headless, "-bios", ovmf, "-cdrom", "c.iso")},
		{"interactive qcow2", BootOptions{Firmware: "bios", Disk: "d.qcow2", DiskFormat: "qcow2"}, true,
			with(interactive, "-drive", "file=d.qcow2,format=qcow2,if=virtio")},
		{"interactive efi cdrom", BootOptions{Firmware: "efi", CDROM: "c.iso"}, true, with(interactive, "-bios", ovmf, "-cdrom", "c.iso")},
	} {
		got, err := Args(tc.o, tc.interactive)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: Args = %q, %v\nwant %q", tc.name, got, err, tc.want)
		}
	}

	for _, tc := range []struct {
		o    BootOptions
		want string
	}{
		{BootOptions{Firmware: "uefi", Disk: "d.raw"}, `unknown firmware "uefi" (bios or efi)`},
		{BootOptions{Firmware: "bios"}, "neither a disk nor a CD-ROM to boot"},
	} {
		if _, err := Args(tc.o, false); err == nil || err.Error() != tc.want {
			t.Errorf("Args(%+v): %v, want %q", tc.o, err, tc.want)
		}
	}
	OVMFPaths = OVMFPaths[:1]
	if _, err := Args(BootOptions{Firmware: "efi", Disk: "d.raw"}, false); err == nil || !strings.Contains(err.Error(), "no OVMF firmware (package ovmf): none of "+OVMFPaths[0]) {
		t.Errorf("without OVMF: %v", err)
	}
}

func TestDiskFormat(t *testing.T) {
	for typ, want := range map[string]string{"raw": "raw", "vhd": "vpc", "vhd-fixed": "vpc", "vhdx": "vhdx", "qcow2": "qcow2", "iso": "", "oci": "", "tar.gz": ""} {
		if got := DiskFormat(typ); got != want {
			t.Errorf("DiskFormat(%q) = %q, want %q", typ, got, want)
		}
	}
}

// TestBootErrors checks what Boot rejects before it runs QEMU.
func TestBootErrors(t *testing.T) {
	for _, tc := range []struct {
		o    BootOptions
		want string
	}{
		{BootOptions{Disk: "d.raw"}, "qemu.Boot: no marker to wait for"},
		{BootOptions{Marker: "up"}, "qemu.Boot: neither a disk nor a CD-ROM to boot"},
		{BootOptions{Firmware: "coreboot", CDROM: "c.iso", Marker: "up"}, `qemu.Boot: unknown firmware "coreboot" (bios or efi)`},
	} {
		if _, err := Boot(context.Background(), tc.o); err == nil || err.Error() != tc.want {
			t.Errorf("Boot(%+v): %v, want %q", tc.o, err, tc.want)
		}
	}
}
