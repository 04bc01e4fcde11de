package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileAtomicReplacesWholeFileAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "state.json")
	if err := WriteFileAtomic(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("new contents"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new contents" {
		t.Fatalf("read back %q, %v", got, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file: %v", len(entries), entries)
	}
}

func TestMakeDirOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub", "abc123")
	calls := 0
	fill := func(tmp string) error {
		calls++
		return os.WriteFile(filepath.Join(tmp, "f"), []byte("x"), 0o644)
	}
	for i := 0; i < 2; i++ {
		if err := MakeDirOnce(dir, fill); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Errorf("fill called %d times, want once", calls)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || string(data) != "x" {
		t.Errorf("read %q, %v", data, err)
	}
	// A failing fill leaves neither dir nor temporary directories.
	bad := filepath.Join(t.TempDir(), "bad")
	if err := MakeDirOnce(bad, func(string) error { return os.ErrInvalid }); err == nil {
		t.Error("no error from a failing fill")
	}
	if entries, _ := os.ReadDir(filepath.Dir(bad)); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "build", "slipway.lock")
	unlock, err := Lock(path, "slipway build")
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to the open file: a second open conflicts, as
	// another process's would.
	_, err = Lock(path, "slipway toolchain")
	var le *LockedError
	if !errors.As(err, &le) || !strings.Contains(le.Holder, "slipway build") || !strings.Contains(err.Error(), "another slipway is working") {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	unlock2, err := Lock(path, "slipway toolchain")
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
}
