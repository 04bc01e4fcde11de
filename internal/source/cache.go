package source

import (
	"fmt"
	"os"
	"path/filepath"

	"slipway/internal/fsutil"
)

// Cache is the content-addressed source cache, shared by every project on
// the machine: a file with SHA-256 <hex> is <Dir>/sha256/<hex>. Entries
// are only ever written whole (a verified download renamed into place) and
// named by their content, so concurrent users never conflict.
type Cache struct{ Dir string }

// DefaultCacheDir is $XDG_CACHE_HOME/slipway/sources (see os.UserCacheDir).
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no source cache directory: %w; set sources.cache_dir", err)
	}
	return filepath.Join(dir, "slipway", "sources"), nil
}

// Path is where the file with SHA-256 sum (lowercase hex) is kept.
func (c Cache) Path(sum string) string { return filepath.Join(c.Dir, "sha256", sum) }

// Lookup returns the path of the cached file with SHA-256 sum, after
// checking its content. A corrupt entry is removed.
func (c Cache) Lookup(sum string) (string, bool) {
	p := c.Path(sum)
	got, err := fsutil.SHA256File(p)
	if err != nil {
		return "", false
	}
	if got != sum {
		os.Remove(p)
		return "", false
	}
	return p, true
}

// add moves a file whose SHA-256 is sum into the cache.
func (c Cache) add(path, sum string) (string, error) {
	dest := c.Path(sum)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", err
	}
	if err := os.Chmod(path, 0o644); err != nil {
		return "", err
	}
	return dest, os.Rename(path, dest)
}

// incoming is where downloads of not yet known content go before they are
// hashed and added.
func (c Cache) incoming() string { return filepath.Join(c.Dir, "incoming") }
