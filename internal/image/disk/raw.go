package disk

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"slipway/internal/fsutil"
	"slipway/internal/image"
)

// run runs argv with extra environment variables and returns its standard
// output and error output; an error names the command and carries both.
func run(ctx context.Context, env []string, argv ...string) (stdout, stderr []byte, err error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		return o.Bytes(), e.Bytes(), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err,
			bytes.TrimSpace(append(o.Bytes(), e.Bytes()...)))
	}
	return o.Bytes(), e.Bytes(), nil
}

// MakeRaw writes the raw disk image of layout to out: a sparse file with
// a GPT from sgdisk (or an MBR from sfdisk), each filesystem made in its own temporary file and
// copied in with dd conv=notrunc. The same layout and directory contents
// give a byte-identical image. out appears only when complete.
func MakeRaw(ctx context.Context, layout Layout, out string) (err error) {
	exts, err := plan(layout)
	if err != nil {
		return fmt.Errorf("disk layout for %s: %w", out, err)
	}
	epoch := image.EpochOrDefault(layout.Epoch)
	tmpDir, err := os.MkdirTemp(filepath.Dir(out), ".tmp-"+filepath.Base(out)+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmpDir)
	image := filepath.Join(tmpDir, "disk.raw")
	if err := makeSparse(image, int64(layout.SizeMiB)*mib); err != nil {
		return err
	}
	if err := writeTable(ctx, layout, exts, image); err != nil {
		return err
	}
	for i, p := range layout.Partitions {
		if p.FsType == "" {
			continue
		}
		fsImage := filepath.Join(tmpDir, fmt.Sprintf("part%d.img", i+1))
		if err := makeSparse(fsImage, exts[i].size()); err != nil {
			return err
		}
		switch p.FsType {
		case "ext4":
			err = makeExt4(ctx, p, fsImage, epoch)
		case "fat32":
			err = makeFAT32(ctx, p, fsImage, epoch)
		}
		if err != nil {
			return fmt.Errorf("partition %d (%q): %w", i+1, p.Name, err)
		}
		if _, _, err := run(ctx, nil, "dd", "if="+fsImage, "of="+image, "bs=1M",
			fmt.Sprintf("seek=%d", exts[i].offset()/mib), "conv=notrunc,sparse", "status=none"); err != nil {
			return err
		}
		if err := os.Remove(fsImage); err != nil {
			return err
		}
	}
	if err := fsutil.SyncFile(image); err != nil {
		return err
	}
	return os.Rename(image, out)
}

// writeTable writes the partition table: a GPT with sgdisk, an MBR with
// sfdisk (which reads its script on standard input).
func writeTable(ctx context.Context, l Layout, exts []extent, image string) error {
	if !l.mbr() {
		_, _, err := run(ctx, nil, sgdiskArgs(l, exts, image)...)
		return err
	}
	cmd := exec.CommandContext(ctx, "sfdisk", "--no-reread", "--no-tell-kernel", "--quiet", image)
	cmd.Stdin = strings.NewReader(sfdiskScript(l, exts))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("sfdisk %s: %w\n%s", image, err, bytes.TrimSpace(out))
	}
	return nil
}

func makeSparse(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// makeExt4 fills image with an ext4 filesystem holding p.Dir. mke2fs 1.47.0
// copies each file's atime and ctime from the source and ignores
// SOURCE_DATE_EPOCH, so its clock is fixed with E2FSPROGS_FAKE_TIME and
// every inode's times are then set to epoch with debugfs.
func makeExt4(ctx context.Context, p Partition, image string, epoch int64) error {
	env := []string{"E2FSPROGS_FAKE_TIME=" + strconv.FormatInt(epoch, 10), "SOURCE_DATE_EPOCH=" + strconv.FormatInt(epoch, 10)}
	argv := []string{"mkfs.ext4", "-q", "-F", "-T", "default", "-U", p.UUID,
		"-E", "root_owner=0:0,hash_seed=" + p.UUID}
	if label := shorten(p.Name, 16); label != "" {
		argv = append(argv, "-L", label)
	}
	if p.Dir != "" {
		argv = append(argv, "-d", p.Dir)
	}
	if _, _, err := run(ctx, env, append(argv, image)...); err != nil {
		return err
	}
	script, err := debugfsTimes(p.Dir, epoch)
	if err != nil {
		return err
	}
	scriptFile := image + ".debugfs"
	if err := os.WriteFile(scriptFile, script, 0o644); err != nil {
		return err
	}
	defer os.Remove(scriptFile)
	stdout, stderr, err := run(ctx, env, "debugfs", "-w", "-f", scriptFile, image)
	if err != nil {
		return err
	}
	// debugfs exits 0 when a command fails; it reports on its output.
	for _, line := range strings.Split(string(stdout)+string(stderr), "\n") {
		if strings.HasPrefix(line, "set_inode_field:") || strings.Contains(line, "File not found") {
			return fmt.Errorf("debugfs -w -f %s %s: %s", scriptFile, image, line)
		}
	}
	return nil
}

// debugfsTimes is a debugfs script setting every time of every inode under
// dir (and of the root and lost+found) to epoch.
func debugfsTimes(dir string, epoch int64) ([]byte, error) {
	var b bytes.Buffer
	set := func(path string) {
		for _, field := range []string{"atime", "mtime", "ctime", "crtime"} {
			fmt.Fprintf(&b, "set_inode_field \"%s\" %s @%d\n", path, field, epoch)
		}
	}
	set("/")
	set("/lost+found")
	if dir == "" {
		return b.Bytes(), nil
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if strings.ContainsAny(rel, "\"\n") {
			return fmt.Errorf("%s: file names with a double quote or newline are not supported", path)
		}
		if rel == "lost+found" {
			return nil
		}
		set("/" + filepath.ToSlash(rel))
		return nil
	})
	return b.Bytes(), err
}

// makeFAT32 fills image with a FAT32 filesystem holding p.Dir, copied
// with mtools in lexical order; mkfs.vfat --invariant and mtools'
// SOURCE_DATE_EPOCH make it reproducible.
func makeFAT32(ctx context.Context, p Partition, image string, epoch int64) error {
	volID := strings.ReplaceAll(p.UUID, "-", "")[:8]
	argv := []string{"mkfs.vfat", "--invariant", "-i", volID}
	// FAT32 needs 65,525 clusters; below that mkfs.vfat picks FAT16 or
	// FAT12 by itself, as Azure Linux's "mkfs -t vfat" does for its 8 MiB ESP.
	if st, err := os.Stat(image); err != nil {
		return err
	} else if st.Size() >= minFAT32MiB*mib {
		argv = append(argv, "-F", "32")
	}
	if label := shorten(strings.ToUpper(p.Name), 11); label != "" {
		argv = append(argv, "-n", label)
	}
	env := []string{"SOURCE_DATE_EPOCH=" + strconv.FormatInt(epoch, 10), "TZ=UTC", "MTOOLS_SKIP_CHECK=1"}
	if _, _, err := run(ctx, env, append(argv, image)...); err != nil {
		return err
	}
	if p.Dir == "" {
		return nil
	}
	// Directories first (one mmd, parents before children), then the
	// files of each directory (one mcopy per directory). Times are not
	// kept (no -m): mtools stamps everything with SOURCE_DATE_EPOCH.
	dirs := []string{"mmd", "-i", image}
	files := map[string][]string{}
	var order []string
	seen := map[string]string{} // FAT names ignore case
	err := filepath.WalkDir(p.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == p.Dir {
			return err
		}
		rel, _ := filepath.Rel(p.Dir, path)
		target := "::/" + filepath.ToSlash(rel)
		if other, ok := seen[strings.ToLower(target)]; ok {
			return fmt.Errorf("%s and %s have the same name on FAT, which ignores case", other, path)
		}
		seen[strings.ToLower(target)] = path
		switch {
		case d.IsDir():
			dirs = append(dirs, target)
		case d.Type().IsRegular():
			parent := "::/" + filepath.ToSlash(filepath.Dir(rel))
			if _, ok := files[parent]; !ok {
				order = append(order, parent)
			}
			files[parent] = append(files[parent], path)
		default:
			return fmt.Errorf("%s: FAT holds only directories and regular files", path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(dirs) > 3 {
		if _, _, err := run(ctx, env, dirs...); err != nil {
			return err
		}
	}
	for _, parent := range order {
		argv := append([]string{"mcopy", "-i", image, "-Q"}, files[parent]...)
		if _, _, err := run(ctx, env, append(argv, strings.TrimSuffix(parent, "/.")+"/")...); err != nil {
			return err
		}
	}
	return nil
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
