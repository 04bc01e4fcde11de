// Package cpio writes reproducible cpio archives in the "newc" format
// (magic 070701), the format the Linux kernel unpacks as an initramfs.
// Every entry gets the same modification time, inode numbers are
// assigned in order from 1, and the device of the source files is not
// recorded, so the same tree always gives the same bytes.
package cpio

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// File type bits of a cpio entry's mode, as in stat(2).
const (
	typeMask = 0o170000
	typeSock = 0o140000
	typeLink = 0o120000
	typeReg  = 0o100000
	typeBlk  = 0o060000
	typeDir  = 0o040000
	typeChr  = 0o020000
	typeFifo = 0o010000
)

const trailer = "TRAILER!!!"

// Writer writes a newc archive entry by entry; Close writes the trailer.
// Entries are written as given: parents must be added before their
// children, and each path once.
type Writer struct {
	w      *bufio.Writer
	epoch  int64
	ino    uint32
	names  map[string]bool
	closed bool
}

// NewWriter returns a Writer on w giving every entry the modification
// time epoch (seconds since 1970).
func NewWriter(w io.Writer, epoch int64) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10), epoch: epoch, names: map[string]bool{}}
}

// header is one entry's metadata.
type header struct {
	name         string
	ino          uint32
	mode         uint32 // type and permission bits
	uid, gid     int
	nlink        uint32
	size         int64
	rdevMajor    uint32
	rdevMinor    uint32
	skipNameTest bool // for the trailer
}

// modeBits converts the permission bits of perm to their stat(2) values;
// setuid, setgid and sticky may be given as fs.ModeSetuid etc. or as
// their octal values (0o4000, 0o2000, 0o1000).
func modeBits(perm fs.FileMode) uint32 {
	m := uint32(perm & 0o7777)
	if perm&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if perm&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if perm&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}

// checkName accepts relative, clean, slash-separated paths.
func checkName(name string) error {
	if name == "" || name == "." || strings.HasPrefix(name, "/") || path.Clean(name) != name ||
		name == ".." || strings.HasPrefix(name, "../") || strings.ContainsRune(name, 0) {
		return fmt.Errorf("cpio: %q is not a clean relative path", name)
	}
	return nil
}

// AddDir adds a directory.
func (w *Writer) AddDir(name string, perm fs.FileMode, uid, gid int) error {
	return w.add(header{name: name, mode: typeDir | modeBits(perm), uid: uid, gid: gid, nlink: 2}, nil)
}

// AddFile adds a regular file holding data.
func (w *Writer) AddFile(name string, perm fs.FileMode, uid, gid int, data []byte) error {
	return w.add(header{name: name, mode: typeReg | modeBits(perm), uid: uid, gid: gid, nlink: 1,
		size: int64(len(data))}, bytes.NewReader(data))
}

// AddSymlink adds a symbolic link to target (mode 0777).
func (w *Writer) AddSymlink(name, target string, uid, gid int) error {
	if target == "" {
		return fmt.Errorf("cpio: symlink %s: empty target", name)
	}
	return w.add(header{name: name, mode: typeLink | 0o777, uid: uid, gid: gid, nlink: 1,
		size: int64(len(target))}, strings.NewReader(target))
}

// AddDevice adds a character (char true) or block device node.
func (w *Writer) AddDevice(name string, char bool, perm fs.FileMode, uid, gid int, major, minor uint32) error {
	t := uint32(typeBlk)
	if char {
		t = typeChr
	}
	return w.add(header{name: name, mode: t | modeBits(perm), uid: uid, gid: gid, nlink: 1,
		rdevMajor: major, rdevMinor: minor}, nil)
}

// Close writes the trailer and flushes; it does not close the underlying
// writer.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	if err := w.add(header{name: trailer, nlink: 1, skipNameTest: true}, nil); err != nil {
		return err
	}
	w.closed = true
	return w.w.Flush()
}

// add writes h and then size bytes from body, padding both to 4 bytes.
// A header without an inode number gets the next one.
func (w *Writer) add(h header, body io.Reader) error {
	if w.closed {
		return fmt.Errorf("cpio: %s: the archive is closed", h.name)
	}
	if !h.skipNameTest {
		if err := checkName(h.name); err != nil {
			return err
		}
		if w.names[h.name] {
			return fmt.Errorf("cpio: %s is already in the archive", h.name)
		}
		w.names[h.name] = true
	}
	if h.uid < 0 || h.gid < 0 {
		return fmt.Errorf("cpio: %s: negative uid or gid", h.name)
	}
	if h.size > 0xffffffff {
		return fmt.Errorf("cpio: %s: %d bytes is more than newc can hold (4 GiB)", h.name, h.size)
	}
	if h.ino == 0 && h.name != trailer {
		w.ino++
		h.ino = w.ino
	}
	mtime := w.epoch
	if h.name == trailer {
		mtime = 0
	}
	namesize := len(h.name) + 1
	fmt.Fprintf(w.w, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		h.ino, h.mode, h.uid, h.gid, h.nlink, uint32(mtime), uint32(h.size), 0, 0,
		h.rdevMajor, h.rdevMinor, namesize, 0)
	w.w.WriteString(h.name)
	w.w.WriteByte(0)
	w.pad(110 + namesize)
	if h.size > 0 {
		n, err := io.Copy(w.w, io.LimitReader(body, h.size))
		if err != nil {
			return fmt.Errorf("cpio: %s: %w", h.name, err)
		}
		if n != h.size {
			return fmt.Errorf("cpio: %s: got %d bytes, want %d (did it change while being archived?)", h.name, n, h.size)
		}
		w.pad(int(h.size))
	}
	return nil
}

func (w *Writer) pad(n int) {
	if r := n % 4; r != 0 {
		w.w.Write(make([]byte, 4-r))
	}
}

// entry is a file of a tree AddTree archives.
type entry struct {
	rel   string
	path  string
	st    *syscall.Stat_t
	links int  // number of names of a hardlinked file inside the tree
	last  bool // the last of its names: the one that carries the data
}

// AddTree adds the contents of dir (not dir itself) in lexical order of
// each directory's entries, with paths relative to dir, each file's
// numeric owner and permission bits, and the time of the Writer.
// Regular files with more than one name inside dir are stored as hard
// links (one inode, the data with the last name, as GNU cpio does);
// symbolic links, devices, fifos and sockets are kept as they are.
func (w *Writer) AddTree(dir string) error {
	var entries []*entry
	groups := map[fileID][]*entry{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("%s: no stat information", p)
		}
		rel, _ := filepath.Rel(dir, p)
		e := &entry{rel: filepath.ToSlash(rel), path: p, st: st}
		entries = append(entries, e)
		if st.Mode&typeMask == typeReg && st.Nlink > 1 {
			k := fileID{uint64(st.Dev), uint64(st.Ino)}
			groups[k] = append(groups[k], e)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("archiving %s: %w", dir, err)
	}
	for _, g := range groups {
		for _, e := range g {
			e.links = len(g)
		}
		g[len(g)-1].last = true
	}
	inos := map[fileID]uint32{}
	for _, e := range entries {
		if err := w.addEntry(e, inos); err != nil {
			return fmt.Errorf("archiving %s: %w", e.path, err)
		}
	}
	return nil
}

// fileID identifies a file on the host, to find its hard links.
type fileID struct{ dev, ino uint64 }

func (w *Writer) addEntry(e *entry, inos map[fileID]uint32) error {
	st := e.st
	h := header{name: e.rel, mode: st.Mode, uid: int(st.Uid), gid: int(st.Gid), nlink: 1}
	switch st.Mode & typeMask {
	case typeDir:
		h.nlink = 2
		return w.add(h, nil)
	case typeLink:
		target, err := os.Readlink(e.path)
		if err != nil {
			return err
		}
		h.size = int64(len(target))
		return w.add(h, strings.NewReader(target))
	case typeChr, typeBlk:
		rdev := uint64(st.Rdev)
		h.rdevMajor = uint32((rdev>>8)&0xfff | (rdev>>32)&^0xfff)
		h.rdevMinor = uint32(rdev&0xff | (rdev>>12)&^0xff)
		return w.add(h, nil)
	case typeFifo, typeSock:
		return w.add(h, nil)
	case typeReg:
	default:
		return fmt.Errorf("unknown file type %o", st.Mode&typeMask)
	}
	if e.links > 1 {
		k := fileID{uint64(st.Dev), uint64(st.Ino)}
		if inos[k] == 0 {
			w.ino++
			inos[k] = w.ino
		}
		h.ino = inos[k]
		h.nlink = uint32(e.links)
		if !e.last {
			return w.add(h, nil)
		}
	}
	h.size = st.Size
	f, err := os.Open(e.path)
	if err != nil {
		return err
	}
	defer f.Close()
	return w.add(h, f)
}

// WriteDir writes the newc archive of dir's contents (see AddTree) to w,
// with the trailer, every entry's time set to epoch.
func WriteDir(w io.Writer, dir string, epoch int64) error {
	cw := NewWriter(w, epoch)
	if err := cw.AddTree(dir); err != nil {
		return err
	}
	return cw.Close()
}

// WriteGzipFile writes the gzip-compressed archive of dir's contents to
// out (see WriteDir and CreateGzip).
func WriteGzipFile(dir, out string, epoch int64) error {
	return CreateGzip(out, epoch, func(w *Writer) error { return w.AddTree(dir) })
}

// CreateGzip writes to out a gzip-compressed newc archive whose entries
// fill adds, followed by the trailer. The gzip header holds no name and
// no time. out is written atomically: a temporary file in its directory
// is renamed over it when complete and removed on any error.
func CreateGzip(out string, epoch int64, fill func(w *Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(out), ".tmp-"+filepath.Base(out)+"-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	w := NewWriter(zw, epoch)
	if err := fill(w); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), out)
}
