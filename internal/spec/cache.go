package spec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"slipway/internal/fsutil"
)

// cache keeps evaluation results on disk, one JSON file per key. A key
// covers every input of the evaluation, so entries are never invalidated,
// only superseded; a failed evaluation is cached too (the same inputs fail
// the same way), a timeout or cancellation is not.
type cache struct{ dir string }

type cacheEntry struct {
	Key   string `json:"key"`
	Info  *Info  `json:"info,omitempty"`
	Error string `json:"error,omitempty"`
}

func (c cache) path(key string) string { return filepath.Join(c.dir, key[:2], key+".json") }

// get returns the entry for key, or nil when there is none (or it is unreadable).
func (c cache) get(key string) *cacheEntry {
	data, err := os.ReadFile(c.path(key))
	if err != nil {
		return nil
	}
	var e cacheEntry
	if json.Unmarshal(data, &e) != nil || e.Key != key || (e.Info == nil) == (e.Error == "") {
		return nil
	}
	return &e
}

func (c cache) put(e cacheEntry) error {
	if e.Key == "" {
		return errors.New("cache entry without key")
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return fsutil.WriteCacheFile(c.path(e.Key), data, 0o644)
}
