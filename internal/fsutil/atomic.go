// Package fsutil holds the file-system primitives slipway's state relies on.
package fsutil

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes data to path so that a reader, or a crash at any
// moment, sees either the old file or the whole new one: the data goes to a
// temporary file in the same directory, is synced, then renamed over path.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return replace(path, data, perm, true)
}

// WriteCacheFile is WriteFileAtomic without the sync, for caches whose
// readers validate what they read: a crash can lose the file or leave it
// empty (a cache miss), never show half of it as whole. Syncing every
// entry of a cache of thousands costs more than recomputing a lost one.
func WriteCacheFile(path string, data []byte, perm os.FileMode) error {
	return replace(path, data, perm, false)
}

func replace(path string, data []byte, perm os.FileMode, sync bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// MakeDirOnce creates dir by letting fill populate a temporary sibling
// directory, then renaming it into place, so dir is either absent or
// complete. If dir already exists it is left alone and fill is not called;
// if another process creates it first, its copy wins. Meant for
// directories named by the hash of their contents.
func MakeDirOnce(dir string, fill func(tmp string) error) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".tmp-"+filepath.Base(dir)+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // no-op once renamed
	if err := fill(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(dir); statErr == nil {
			return nil
		}
		return err
	}
	return nil
}

// SHA256File returns the SHA-256 of a file's content, in lowercase hex.
func SHA256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SyncFile flushes a file's data to disk (before renaming it into place).
func SyncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// LinkInto puts src at dst as a hard link, or a copy where linking fails
// (another file system), replacing dst in one rename: dst is never seen
// half-written. A dst that already is src is left alone.
func LinkInto(src, dst string) error {
	if a, err := os.Stat(src); err == nil {
		if b, err := os.Stat(dst); err == nil && os.SameFile(a, b) {
			return nil // already there (rename would not replace a link to the same file)
		}
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".tmp"
	os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		data, rerr := os.ReadFile(src)
		if rerr != nil {
			return errors.Join(err, rerr)
		}
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return err
		}
	}
	return os.Rename(tmp, dst)
}
