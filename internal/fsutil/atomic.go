// Package fsutil holds the file-system primitives slipway's state relies on.
package fsutil

import (
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
