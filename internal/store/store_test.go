package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPutGet(t *testing.T) {
	s := Store{Root: filepath.Join(t.TempDir(), "store")}
	hash := strings.Repeat("ab", 32)
	if e, err := s.Get(hash); e != nil || err != nil {
		t.Fatalf("empty store: %v %v", e, err)
	}
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "a.rpm"), []byte("rpm a"), 0o644)
	os.WriteFile(filepath.Join(src, "log"), []byte("built"), 0o644)
	e, err := s.Put(Meta{Hash: hash, Name: "a", Inputs: map[string]string{"spec": "x"}},
		map[string]string{"a-1-1.x86_64.rpm": filepath.Join(src, "a.rpm")}, filepath.Join(src, "log"), true)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(e.Path("a-1-1.x86_64.rpm")); string(data) != "rpm a" {
		t.Errorf("stored file holds %q", data)
	}
	if _, err := os.Stat(filepath.Join(src, "a.rpm")); !os.IsNotExist(err) {
		t.Error("move left the source in place")
	}
	got, err := s.Get(hash)
	if err != nil || got == nil || got.Meta.Name != "a" || got.Meta.Inputs["spec"] != "x" || len(got.Meta.Files) != 1 {
		t.Errorf("Get = %+v, %v", got, err)
	}
	// A second Put of the same hash keeps the first entry.
	if _, err := s.Put(Meta{Hash: hash, Name: "other"}, nil, "", false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(hash); got.Meta.Name != "a" {
		t.Error("the entry was replaced")
	}
}

func TestPutFailureLeavesNothing(t *testing.T) {
	s := Store{Root: filepath.Join(t.TempDir(), "store")}
	hash := strings.Repeat("cd", 32)
	_, err := s.Put(Meta{Hash: hash}, map[string]string{"x.rpm": "/nonexistent/x.rpm"}, "", false)
	if err == nil {
		t.Fatal("no error for a missing output")
	}
	if e, _ := s.Get(hash); e != nil {
		t.Error("a failed Put left an entry")
	}
	entries, _ := os.ReadDir(filepath.Join(s.Root, "cd"))
	if len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
	if _, err := s.Put(Meta{Hash: "../../etc"}, nil, "", false); err == nil {
		t.Error("a path as hash was accepted")
	}
	if _, err := s.Put(Meta{Hash: hash}, map[string]string{"../x": "/etc/hostname"}, "", false); err == nil {
		t.Error("an output name with a path was accepted")
	}
}
