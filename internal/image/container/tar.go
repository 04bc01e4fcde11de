package container

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// capabilityXattr is the one extended attribute kept: file capabilities
// (ping, newuidmap) break without it; SELinux labels and the like belong
// to the host that unpacks the archive.
const capabilityXattr = "security.capability"

// writeTree writes the tree under rootDir to tw, in sorted order, as
// paths relative to the root without a leading "./" ("usr/bin/x",
// directories with a trailing slash, as OCI layers name them; the root
// itself has no entry). It keeps regular files, directories, symbolic
// links, hard links (later names of an inode link to its first name),
// devices and FIFOs, with numeric owners and no names, full mode bits
// and mtime; sockets are skipped. Every entry gets the mtime mtime and no
// access or change time, so the archive depends only on the tree.
func writeTree(ctx context.Context, rootDir string, tw *tar.Writer, mtime time.Time) error {
	info, err := os.Stat(rootDir)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s is not a directory", rootDir)
	}
	w := &treeWriter{ctx: ctx, root: rootDir, tw: tw, mtime: mtime, links: map[fileID]string{}}
	return w.dir("")
}

type fileID struct{ dev, ino uint64 }

type treeWriter struct {
	ctx   context.Context
	root  string
	tw    *tar.Writer
	mtime time.Time
	links map[fileID]string // first archive name of each multiply linked inode
}

// dir writes the entries of the directory rel (relative to the root).
func (w *treeWriter) dir(rel string) error {
	entries, err := os.ReadDir(filepath.Join(w.root, rel))
	if err != nil {
		return err
	}
	for _, e := range entries { // sorted by name
		if err := w.ctx.Err(); err != nil {
			return err
		}
		name := e.Name()
		if rel != "" {
			name = rel + "/" + name
		}
		isDir, err := w.entry(name)
		if err != nil {
			return err
		}
		if isDir {
			if err := w.dir(name); err != nil {
				return err
			}
		}
	}
	return nil
}

// entry writes the header (and content) of the file rel, reporting
// whether it is a directory.
func (w *treeWriter) entry(rel string) (isDir bool, err error) {
	path := filepath.Join(w.root, rel)
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return false, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	hdr := &tar.Header{
		Name:    rel,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: w.mtime,
	}
	typ := st.Mode & syscall.S_IFMT
	if typ == syscall.S_IFSOCK {
		return false, nil // a socket has no archive form; it is made at run time
	}
	if typ != syscall.S_IFDIR && st.Nlink > 1 {
		id := fileID{uint64(st.Dev), st.Ino}
		if first, ok := w.links[id]; ok {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			return false, w.tw.WriteHeader(hdr)
		}
		w.links[id] = rel
	}
	switch typ {
	case syscall.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, rel+"/"
	case syscall.S_IFREG:
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
	case syscall.S_IFLNK:
		hdr.Typeflag = tar.TypeSymlink
		if hdr.Linkname, err = os.Readlink(path); err != nil {
			return false, err
		}
	case syscall.S_IFCHR, syscall.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if typ == syscall.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		rdev := uint64(st.Rdev)
		hdr.Devmajor = int64((rdev>>8)&0xfff | (rdev>>32)&^0xfff)
		hdr.Devminor = int64(rdev&0xff | (rdev>>12)&^0xff)
	case syscall.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	default:
		return false, fmt.Errorf("%s: unsupported file type %#o", path, typ)
	}
	if typ == syscall.S_IFREG {
		if capv, err := getxattr(path, capabilityXattr); err != nil {
			return false, err
		} else if capv != nil {
			hdr.PAXRecords = map[string]string{"SCHILY.xattr." + capabilityXattr: string(capv)}
		}
	}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if typ == syscall.S_IFREG {
		return false, w.content(path, st.Size)
	}
	return typ == syscall.S_IFDIR, nil
}

// content copies exactly size bytes of the regular file path.
func (w *treeWriter) content(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w.tw, io.LimitReader(ctxReader{w.ctx, f}, size))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if n != size {
		return fmt.Errorf("read %s: %d bytes, want %d: the file changed while being archived", path, n, size)
	}
	return nil
}

// getxattr returns the extended attribute attr of path, or nil if it has
// none (or the file system has none).
func getxattr(path, attr string) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		n, err := syscall.Getxattr(path, attr, buf)
		switch {
		case err == nil:
			return buf[:n], nil
		case errors.Is(err, syscall.ENODATA), errors.Is(err, syscall.ENOTSUP):
			return nil, nil
		case errors.Is(err, syscall.ERANGE) && len(buf) < 1<<16:
			buf = make([]byte, 2*len(buf))
		default:
			return nil, &os.PathError{Op: "getxattr " + attr, Path: path, Err: err}
		}
	}
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
