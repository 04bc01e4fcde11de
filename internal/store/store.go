// Package store is the content-addressed store of build outputs: a build's
// RPMs and log, kept under the hash of everything that went into the build
// (its input hash). A build whose input hash is present is not run again.
//
// Entries are directories <root>/<hash[:2]>/<hash>/ made atomically: an
// entry is complete or absent, never half-written, whatever happens to the
// process writing it.
package store

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"slipway/internal/fsutil"
)

// Store is a directory of entries.
type Store struct{ Root string }

// Meta describes an entry. Inputs lists the named parts the hash was made
// of, so a later run can say which of them changed.
type Meta struct {
	Hash     string            `json:"hash"`
	Name     string            `json:"name"` // what was built (a spec name)
	Inputs   map[string]string `json:"inputs,omitempty"`
	Files    []string          `json:"files"` // output file names, sorted
	Created  time.Time         `json:"created"`
	Duration time.Duration     `json:"duration"`
	// Data is what the stage that made the entry keeps with it (for the
	// package stage: the headers of the RPMs, so nothing re-reads them).
	Data json.RawMessage `json:"data,omitempty"`
}

// Entry is a stored build.
type Entry struct {
	Dir  string
	Meta Meta
}

// Path returns the path of an output file of the entry.
func (e *Entry) Path(file string) string { return filepath.Join(e.Dir, "files", file) }

var hashRE = regexp.MustCompile(`^[0-9a-f]{16,128}$`)

func (s Store) dir(hash string) string { return filepath.Join(s.Root, hash[:2], hash) }

// Get returns the entry for hash, or nil when there is none.
func (s Store) Get(hash string) (*Entry, error) {
	if !hashRE.MatchString(hash) {
		return nil, fmt.Errorf("store: %q is not a hash", hash)
	}
	dir := s.dir(hash)
	data, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil || m.Hash != hash {
		return nil, fmt.Errorf("store: entry %s is damaged (remove %s)", hash, dir)
	}
	return &Entry{Dir: dir, Meta: m}, nil
}

// Put stores the files (output name -> source path; copied, or moved when
// move is set) and log under m.Hash, unless an entry is already there, and
// returns the entry.
func (s Store) Put(m Meta, files map[string]string, log string, move bool) (*Entry, error) {
	if !hashRE.MatchString(m.Hash) {
		return nil, fmt.Errorf("store: %q is not a hash", m.Hash)
	}
	m.Files = m.Files[:0:0]
	for name := range files {
		if filepath.Base(name) != name || name == "" {
			return nil, fmt.Errorf("store: output name %q is not a plain file name", name)
		}
		m.Files = append(m.Files, name)
	}
	slices.Sort(m.Files)
	dir := s.dir(m.Hash)
	err := fsutil.MakeDirOnce(dir, func(tmp string) error {
		if err := os.Mkdir(filepath.Join(tmp, "files"), 0o755); err != nil {
			return err
		}
		for name, src := range files {
			if err := transfer(src, filepath.Join(tmp, "files", name), move); err != nil {
				return fmt.Errorf("store: %w", err)
			}
		}
		if log != "" {
			if err := transfer(log, filepath.Join(tmp, "build.log"), false); err != nil {
				return fmt.Errorf("store: %w", err)
			}
		}
		data, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		// meta.json is written last and synced with everything: its
		// presence is what makes an entry.
		for _, name := range m.Files {
			if err := syncFile(filepath.Join(tmp, "files", name)); err != nil {
				return err
			}
		}
		return fsutil.WriteFileAtomic(filepath.Join(tmp, "meta.json"), data, 0o644)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(m.Hash)
}

// Remove deletes the entry under hash, if there is one. The entry leaves
// by one rename, so readers see it whole or not at all; files linked from
// it elsewhere (out/RPMS) stay.
func (s Store) Remove(hash string) error {
	if !hashRE.MatchString(hash) {
		return fmt.Errorf("store: %q is not a hash", hash)
	}
	dir := s.dir(hash)
	doomed := filepath.Join(filepath.Dir(dir), ".removed-"+hash)
	if err := os.Rename(dir, doomed); err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("store: %w", err)
	}
	return os.RemoveAll(doomed)
}

func transfer(src, dst string, move bool) error {
	if move {
		if err := os.Rename(src, dst); err == nil {
			return nil
		}
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
