package disk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"slipway/internal/image"
	"slipway/internal/testutil"
)

// imageTools are the host tools MakeRaw and Convert run.
var imageTools = []string{"sgdisk", "mkfs.ext4", "debugfs", "mkfs.vfat", "mmd", "mcopy", "dd", "qemu-img"}

// writeTree creates files (path -> content; "->target" makes a symlink)
// under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestMakeRawReproducible makes the same disk (GRUB included) twice, from
// two copies of the same trees written at different times, and compares
// the images.
func TestMakeRawReproducible(t *testing.T) {
	testutil.RequireTools(t, append(imageTools, "e2fsck", "fsck.vfat", "mtype", "grub-mkimage")...)
	ctx := context.Background()
	files := map[string]string{
		"etc/hostname": "slipway\n", "usr/bin/tool": "#!/bin/sh\n", "bin": "->usr/bin",
		"var/lib/empty/.keep": "", "boot/a b.txt": "spaces\n",
	}
	esp := map[string]string{"EFI/slipway/x.cfg": "x\n"}
	var sums []string
	work := t.TempDir()
	for i := range 2 {
		root, espDir := t.TempDir(), t.TempDir()
		writeTree(t, root, files)
		writeTree(t, espDir, esp)
		l := Layout{SizeMiB: 128, Partitions: []Partition{
			{Name: "esp", FsType: "fat32", SizeMiB: 40, Flags: []string{"esp"}, Dir: espDir},
			{Name: "rootfs", FsType: "ext4", Dir: root},
		}}.WithUUIDs("reproducible")
		if err := InstallGRUBEFI(ctx, espDir, l.Partitions[1].UUID, "quiet"); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(work, "disk.raw")
		if err := MakeRaw(ctx, l, out); err != nil {
			t.Fatal(err)
		}
		sums = append(sums, sha256File(t, out))
		if i == 0 {
			checkImage(t, out, l)
			time.Sleep(1100 * time.Millisecond) // a different clock second for the second run
		}
	}
	if sums[0] != sums[1] {
		t.Fatalf("two runs gave different images: %s and %s", sums[0], sums[1])
	}
	t.Logf("both runs: sha256 %s", sums[0])
}

// checkImage checks out's partition table and filesystems with sgdisk,
// e2fsck and fsck.vfat.
func checkImage(t *testing.T, out string, l Layout) {
	t.Helper()
	ctx := context.Background()
	stdout, _, err := run(ctx, nil, "sgdisk", "--verify", out)
	if err != nil || !strings.Contains(string(stdout), "No problems found") {
		t.Fatalf("sgdisk --verify: %v\n%s", err, stdout)
	}
	stdout, _, err = run(ctx, nil, "sgdisk", "--info=2", out)
	if err != nil || !strings.Contains(string(stdout), strings.ToUpper(l.Partitions[1].UUID)) {
		t.Fatalf("sgdisk --info=2: %v\n%s", err, stdout)
	}
	exts, _ := plan(l)
	dir := t.TempDir()
	for i, e := range exts {
		part := filepath.Join(dir, "part")
		if _, _, err := run(ctx, nil, "dd", "if="+out, "of="+part, "bs=1M", "status=none",
			"skip="+itoa(e.offset()/mib), "count="+itoa(e.size()/mib)); err != nil {
			t.Fatal(err)
		}
		check := []string{"e2fsck", "-fn", part}
		if l.Partitions[i].FsType == "fat32" {
			check = []string{"fsck.vfat", "-n", part}
		}
		if _, _, err := run(ctx, nil, check...); err != nil {
			t.Errorf("partition %d: %v", i+1, err)
		}
		if l.Partitions[i].FsType == "ext4" {
			stdout, _, err := run(ctx, nil, "debugfs", "-R", "cat \"/boot/a b.txt\"", part)
			if err != nil || string(stdout) != "spaces\n" {
				t.Errorf("reading a file back from ext4: %v %q", err, stdout)
			}
		} else {
			stdout, _, err := run(ctx, []string{"MTOOLS_SKIP_CHECK=1"}, "mtype", "-i", part, "::/EFI/slipway/x.cfg")
			if err != nil || string(stdout) != "x\n" {
				t.Errorf("reading a file back from FAT: %v %q", err, stdout)
			}
		}
		os.Remove(part)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestMakeRawFailure checks that a failing mkfs is named in the error and
// leaves neither the output nor temporary files behind.
func TestMakeRawFailure(t *testing.T) {
	testutil.RequireTools(t, imageTools...)
	dir := t.TempDir()
	out := filepath.Join(dir, "disk.raw")
	l := Layout{SizeMiB: 64, Partitions: []Partition{
		{Name: "rootfs", FsType: "ext4", Dir: filepath.Join(dir, "missing")},
	}}.WithUUIDs("failure")
	err := MakeRaw(context.Background(), l, out)
	if err == nil || !strings.Contains(err.Error(), "mkfs.ext4") {
		t.Fatalf("MakeRaw with a missing directory: %v, want an error naming mkfs.ext4", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("MakeRaw left %v behind", entries)
	}
}

func TestFAT32CaseClash(t *testing.T) {
	testutil.RequireTools(t, "mkfs.vfat", "mmd", "mcopy")
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"EFI/BOOT/a": "1", "EFI/boot/b": "2"})
	img := filepath.Join(t.TempDir(), "fat.img")
	if err := makeSparse(img, 40*mib); err != nil {
		t.Fatal(err)
	}
	p := Partition{Name: "esp", FsType: "fat32", Dir: dir, UUID: DeterministicUUID("clash")}
	if err := makeFAT32(context.Background(), p, img, image.DefaultEpoch); err == nil || !strings.Contains(err.Error(), "ignores case") {
		t.Fatalf("makeFAT32 with EFI/BOOT and EFI/boot: %v, want a case clash error", err)
	}
}
