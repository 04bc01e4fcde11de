package spec

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A file rewritten in place with the same size and its old modification
// time still changes the stamp (its ctime moves), so the index never
// serves a stale hash.
func TestDirIndexSeesRewrites(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "a.spec")
	os.WriteFile(spec, []byte("Name: a\n"), 0o644)
	old := time.Unix(1_700_000_000, 0)
	os.Chtimes(spec, old, old)
	x := loadDirIndex(filepath.Join(t.TempDir(), "dirs.json"))
	_, stamp, ok := x.lookup(dir)
	if ok {
		t.Fatal("an empty index knows the directory")
	}
	x.store(dir, dirRecord{Stamp: stamp, Hash: "h1"})
	if err := x.save(); err != nil {
		t.Fatal(err)
	}
	x = loadDirIndex(x.path)
	if rec, _, ok := x.lookup(dir); !ok || rec.Hash != "h1" {
		t.Fatalf("unchanged directory not recognised: %+v %v", rec, ok)
	}
	time.Sleep(10 * time.Millisecond)
	os.WriteFile(spec, []byte("Name: b\n"), 0o644) // same size
	os.Chtimes(spec, old, old)                     // same mtime
	if _, _, ok := x.lookup(dir); ok {
		t.Error("a rewritten file was not noticed")
	}
	os.WriteFile(filepath.Join(dir, "new.patch"), nil, 0o644)
	if _, _, ok := x.lookup(dir); ok {
		t.Error("a new file was not noticed")
	}
}
