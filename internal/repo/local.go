// Package repo handles rpm-md repositories: the local repositories slipway
// writes (the toolchain's, the package stage's out/RPMS) and, later, the
// remote ones it reads.
package repo

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"slipway/internal/fsutil"
)

// stampName is the file in repodata/ naming the RPMs the metadata was
// made from. createrepo_c replaces repodata/ whole, so a stamp never
// outlives the metadata it describes.
const stampName = "slipway-rpms"

// Create writes (or updates) the rpm-md metadata of the RPMs below dir
// with createrepo_c. createrepo_c builds the new repodata/ beside the old
// one and swaps it in, so readers see the old or the new metadata, whole.
// When the RPMs are the very files of the last Create (same paths, inodes,
// sizes and times), the metadata is left as it is: repomd.xml keeps its
// bytes, and with them the identity that build keys and image keys take
// from it.
func Create(ctx context.Context, dir string) error {
	stamp, err := rpmsStamp(dir)
	if err != nil {
		return fmt.Errorf("repository %s: %w", dir, err)
	}
	stampPath := filepath.Join(dir, "repodata", stampName)
	if old, err := os.ReadFile(stampPath); err == nil && bytes.Equal(old, stamp) && fileExists(filepath.Join(dir, "repodata", "repomd.xml")) {
		return nil
	}
	args := []string{"--quiet", "--simple-md-filenames", "--no-database"}
	old, _ := os.ReadFile(stampPath)
	if fileExists(filepath.Join(dir, "repodata", "repomd.xml")) && !sameSizeAndSecond(old, stamp) {
		args = append(args, "--update")
	}
	cmd := exec.CommandContext(ctx, "createrepo_c", append(args, dir)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("createrepo_c %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
	}
	return fsutil.WriteFileAtomic(stampPath, stamp, 0o644)
}

// sameSizeAndSecond reports whether an RPM of the stamp old was replaced
// by another file of the same size and modification second: createrepo_c
// --update, which compares only those, would keep its old entry (rpmsign,
// for one, fills reserved space and keeps the size).
func sameSizeAndSecond(old, stamp []byte) bool {
	type ident struct{ id, size, sec string }
	parse := func(b []byte) map[string]ident {
		m := map[string]ident{}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) == 5 {
				sec, _, _ := strings.Cut(f[4], ".")
				m[f[0]] = ident{id: f[1] + " " + f[2] + " " + f[4], size: f[3], sec: sec}
			}
		}
		return m
	}
	before := parse(old)
	for path, now := range parse(stamp) {
		if was, ok := before[path]; ok && was.id != now.id && was.size == now.size && was.sec == now.sec {
			return true
		}
	}
	return false
}

// rpmsStamp names every RPM below dir by path and file identity (device,
// inode, size, modification time), sorted (WalkDir walks in lexical order).
func rpmsStamp(dir string) ([]byte, error) {
	var b bytes.Buffer
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "repodata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".rpm") {
			return nil
		}
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fmt.Fprintf(&b, "%s %d %d %d %d.%d\n", rel, st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
