// Package cachearchive moves slipway's caches between machines as one tar
// archive (Azure Linux's compress-rpms / hydrate-rpms, for CI jobs and
// air-gapped machines): the build store, the source cache and the remote
// package cache. Everything in them is named by its content or its
// inputs, so importing only adds what is missing and never replaces.
package cachearchive

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"slipway/internal/fsutil"
)

// Part is one cache: its name in the archive and its directory here.
type Part struct {
	Name string // "store", "sources", "packages", ...
	Dir  string
}

// Counts says how many files an export wrote or an import added and kept.
type Counts struct {
	Files, Kept int
	Bytes       int64
}

// Export writes the parts' files into a tar archive (gzip
// compressed when archive ends in .gz), written beside and renamed into place
// when whole. Missing directories are skipped; temporary files (".tmp-*",
// "*.tmp", "*.part") are left out.
func Export(archive string, parts []Part) (Counts, error) {
	var c Counts
	tmp, err := os.CreateTemp(filepath.Dir(archive), ".tmp-"+filepath.Base(archive)+"-")
	if err != nil {
		return c, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	var w io.Writer = tmp
	var gz *gzip.Writer
	if strings.HasSuffix(archive, ".gz") {
		gz = gzip.NewWriter(tmp)
		w = gz
	}
	tw := tar.NewWriter(w)
	for _, p := range parts {
		err := filepath.WalkDir(p.Dir, func(file string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && file == p.Dir {
				return filepath.SkipDir
			}
			if err != nil {
				return err
			}
			if temporary(d.Name()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			rel, _ := filepath.Rel(p.Dir, file)
			n, err := addFile(tw, path.Join(p.Name, filepath.ToSlash(rel)), file)
			c.Files++
			c.Bytes += n
			return err
		})
		if err != nil {
			return c, fmt.Errorf("exporting %s: %w", p.Dir, err)
		}
	}
	if err := tw.Close(); err != nil {
		return c, err
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return c, err
		}
	}
	if err := tmp.Sync(); err != nil {
		return c, err
	}
	if err := tmp.Close(); err != nil {
		return c, err
	}
	return c, os.Rename(tmp.Name(), archive)
}

func addFile(tw *tar.Writer, name, file string) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: int64(st.Mode().Perm()), Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return 0, err
	}
	return io.Copy(tw, f)
}

// temporary reports names of files a running slipway is still writing.
func temporary(name string) bool {
	return strings.HasPrefix(name, ".tmp-") || strings.HasSuffix(name, ".tmp") || strings.HasSuffix(name, ".part")
}

// Import adds the archive's files to the parts' directories. A file that
// already exists is kept as it is. Store entries (directories named by a
// hash, holding meta.json) appear whole: each is unpacked beside its place
// and renamed into it. Names outside the parts, absolute or with "..",
// are errors.
func Import(archive string, parts []Part) (Counts, error) {
	var c Counts
	f, err := os.Open(archive)
	if err != nil {
		return c, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(archive, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return c, fmt.Errorf("%s: %w", archive, err)
		}
		r = gz
	}
	dirs := map[string]string{}
	for _, p := range parts {
		dirs[p.Name] = p.Dir
	}
	staged := map[string]string{} // store entry -> its staging directory
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return c, fmt.Errorf("%s: %w", archive, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		part, rel, ok := strings.Cut(h.Name, "/")
		dir, known := dirs[part]
		if !ok || !known || !fs.ValidPath(rel) {
			return c, fmt.Errorf("%s: %q is not a file of a slipway cache", archive, h.Name)
		}
		dest := filepath.Join(dir, filepath.FromSlash(rel))
		if part == "store" {
			// <aa>/<hash>/...: the entry is the first two levels.
			elems := strings.SplitN(rel, "/", 3)
			if len(elems) < 3 {
				return c, fmt.Errorf("%s: %q is not in a store entry", archive, h.Name)
			}
			entry := filepath.Join(dir, elems[0], elems[1])
			if _, err := os.Stat(entry); err == nil && staged[entry] == "" {
				c.Kept++
				continue // the store has it
			}
			if staged[entry] == "" {
				if err := os.MkdirAll(filepath.Dir(entry), 0o755); err != nil {
					return c, err
				}
				if staged[entry], err = os.MkdirTemp(filepath.Dir(entry), ".tmp-import-"); err != nil {
					return c, err
				}
				defer os.RemoveAll(staged[entry])
			}
			dest = filepath.Join(staged[entry], filepath.FromSlash(elems[2]))
		} else if _, err := os.Stat(dest); err == nil {
			c.Kept++
			continue
		}
		if err := writeFile(dest, tr, h); err != nil {
			return c, err
		}
		c.Files++
		c.Bytes += h.Size
	}
	for entry, tmp := range staged {
		if _, err := os.Stat(filepath.Join(tmp, "meta.json")); err != nil {
			return c, fmt.Errorf("%s: store entry %s has no meta.json", archive, filepath.Base(entry))
		}
		if err := os.Rename(tmp, entry); err != nil {
			return c, err
		}
	}
	return c, nil
}

// writeFile writes one archive member at dest, by rename of a whole file.
func writeFile(dest string, r io.Reader, h *tar.Header) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(r, h.Size))
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(dest, data, os.FileMode(h.Mode).Perm()|0o400)
}
