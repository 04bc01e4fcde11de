package spec

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"

	"slipway/internal/fsutil"
)

// dirIndex remembers each spec directory's hash with a stamp of its files
// (names, sizes, modification and change times, inodes), so an unchanged
// directory is recognised from a stat of its files without reading them.
// A file written in place changes its ctime, so a stale hash is never used.
type dirIndex struct {
	path    string
	mu      sync.Mutex
	records map[string]dirRecord
	changed bool
}

type dirRecord struct {
	Stamp []fileStamp         `json:"stamp"`
	Hash  string              `json:"hash"`
	Refs  map[string][]string `json:"refs,omitempty"` // spec file -> version macro references
}

type fileStamp struct {
	Name  string `json:"n"`
	Size  int64  `json:"s"`
	Mtime int64  `json:"m"`
	Ctime int64  `json:"c"`
	Ino   uint64 `json:"i"`
}

func loadDirIndex(path string) *dirIndex {
	x := &dirIndex{path: path, records: map[string]dirRecord{}}
	if data, err := os.ReadFile(path); err == nil {
		json.Unmarshal(data, &x.records)
	}
	return x
}

// save writes the index back if it changed (a lost write only costs a rehash).
func (x *dirIndex) save() error {
	if !x.changed {
		return nil
	}
	data, err := json.Marshal(x.records)
	if err != nil {
		return err
	}
	return fsutil.WriteCacheFile(x.path, data, 0o644)
}

// lookup returns the record of dir when its files are unchanged.
func (x *dirIndex) lookup(dir string) (dirRecord, []fileStamp, bool) {
	stamp, err := stampDir(dir)
	if err != nil {
		return dirRecord{}, nil, false
	}
	x.mu.Lock()
	rec, ok := x.records[dir]
	x.mu.Unlock()
	return rec, stamp, ok && slices.Equal(rec.Stamp, stamp)
}

func (x *dirIndex) store(dir string, rec dirRecord) {
	x.mu.Lock()
	x.records[dir] = rec
	x.changed = true
	x.mu.Unlock()
}

// stampDir stats every file below dir.
func stampDir(dir string) ([]fileStamp, error) {
	var out []fileStamp
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return fs.ErrInvalid
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fileStamp{Name: rel, Size: info.Size(), Mtime: info.ModTime().UnixNano(),
			Ctime: st.Ctim.Nano(), Ino: st.Ino})
		return nil
	})
	return out, err
}
