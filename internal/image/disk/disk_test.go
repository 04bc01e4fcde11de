package disk

import (
	"strings"
	"testing"
)

func TestDeterministicUUID(t *testing.T) {
	a, b := DeterministicUUID("x"), DeterministicUUID("x")
	if a != b || a == DeterministicUUID("y") {
		t.Fatalf("DeterministicUUID: %s %s", a, b)
	}
	if !uuidRE.MatchString(a) || a[14] != '5' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Fatalf("%s is not a version 5 RFC 4122 UUID", a)
	}
}

func testLayout() Layout {
	return Layout{SizeMiB: 200, Partitions: []Partition{
		{Name: "esp", FsType: "fat32", SizeMiB: 64, Flags: []string{"esp"}},
		{Name: "rootfs", FsType: "ext4"},
	}}.WithUUIDs("test")
}

func TestPlan(t *testing.T) {
	l := testLayout()
	exts, err := plan(l)
	if err != nil {
		t.Fatal(err)
	}
	// 1 MiB for the primary GPT, 64 MiB ESP, the rest less 1 MiB for the backup GPT.
	want := []extent{{first: 2048, last: 133119, typeUUID: TypeESP}, {first: 133120, last: 407551, typeUUID: TypeLinuxData}}
	for i := range want {
		if exts[i].first != want[i].first || exts[i].last != want[i].last || exts[i].typeUUID != want[i].typeUUID {
			t.Errorf("partition %d: got %+v, want %+v", i+1, exts[i], want[i])
		}
	}
	if exts[1].size() != 134*mib {
		t.Errorf("root size %d, want 134 MiB", exts[1].size())
	}
	argv := strings.Join(sgdiskArgs(l, exts, "d.raw"), " ")
	for _, s := range []string{"--disk-guid=" + l.DiskGUID, "--new=1:2048:133119", "--typecode=1:" + TypeESP,
		"--partition-guid=2:" + l.Partitions[1].UUID, "--change-name=2:rootfs", "--new=2:133120:407551"} {
		if !strings.Contains(argv, s) {
			t.Errorf("sgdisk command %q lacks %q", argv, s)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	for name, mutate := range map[string]func(*Layout){
		"no disk GUID":       func(l *Layout) { l.DiskGUID = "" },
		"bad UUID":           func(l *Layout) { l.Partitions[0].UUID = "nope" },
		"rest not last":      func(l *Layout) { l.Partitions[0].SizeMiB = 0 },
		"too big":            func(l *Layout) { l.Partitions[1].SizeMiB = 135 },
		"esp not fat":        func(l *Layout) { l.Partitions[0].FsType = "ext4" },
		"unknown fs":         func(l *Layout) { l.Partitions[1].FsType = "btrfs" },
		"unknown flag":       func(l *Layout) { l.Partitions[1].Flags = []string{"boot"} },
		"fat too small":      func(l *Layout) { l.Partitions[0].SizeMiB = 1 },
		"dir without fs":     func(l *Layout) { l.Partitions[1].FsType, l.Partitions[1].Dir = "", "/x" },
		"no partitions":      func(l *Layout) { l.Partitions = nil },
		"negative size":      func(l *Layout) { l.Partitions[1].SizeMiB = -1 },
		"disk far too small": func(l *Layout) { l.SizeMiB = 2 },
	} {
		l := testLayout()
		mutate(&l)
		if _, err := plan(l); err == nil {
			t.Errorf("%s: plan accepted %+v", name, l)
		}
	}
	l := testLayout()
	l.Partitions[1].SizeMiB = 134 // exactly fills the disk
	if _, err := plan(l); err != nil {
		t.Errorf("a partition that exactly fits: %v", err)
	}
}

func TestGRUBConfig(t *testing.T) {
	cfg := grubConfig("11111111-2222-4333-8444-555555555555", "panic=-1")
	for _, s := range []string{
		"search --no-floppy --fs-uuid --set=root 11111111-2222-4333-8444-555555555555",
		"linux /boot/vmlinuz root=UUID=11111111-2222-4333-8444-555555555555 ro console=ttyS0 panic=-1",
		"initrd /boot/initrd.img",
	} {
		if !strings.Contains(cfg, s) {
			t.Errorf("grub.cfg lacks %q:\n%s", s, cfg)
		}
	}
}

func TestInstallGRUBEFIRejects(t *testing.T) {
	for _, c := range []struct{ uuid, cmdline string }{
		{"not-a-uuid", ""},
		{"11111111-2222-4333-8444-555555555555", "quiet; reboot"},
		{"11111111-2222-4333-8444-555555555555", "x=$root"},
	} {
		if err := InstallGRUBEFI(t.Context(), t.TempDir(), c.uuid, c.cmdline); err == nil {
			t.Errorf("InstallGRUBEFI accepted root %q, command line %q", c.uuid, c.cmdline)
		}
	}
}
