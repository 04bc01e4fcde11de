package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cache export, then import into another project: the store entry and
// the cached source arrive; a second import adds nothing.
func TestCacheExportImport(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	from, to := writeProject(t, "", nil), writeProject(t, "", nil)
	entry := filepath.Join(from, "build", "store", "ab", "ab12")
	os.MkdirAll(filepath.Join(entry, "files"), 0o755)
	os.WriteFile(filepath.Join(entry, "meta.json"), []byte(`{}`), 0o644)
	os.WriteFile(filepath.Join(entry, "files", "x-1-1.noarch.rpm"), []byte("rpm"), 0o644)
	src := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "slipway", "sources", "sha256", "0f0f")
	os.MkdirAll(filepath.Dir(src), 0o755)
	os.WriteFile(src, []byte("source"), 0o644)
	head := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "slipway", "repos", "srpms", "urls-ab", "a-1-1.src.rpm.head")
	os.MkdirAll(filepath.Dir(head), 0o755)
	os.WriteFile(head, []byte("header"), 0o644)

	archive := filepath.Join(t.TempDir(), "caches.tar.gz")
	if code, stdout, stderr := run(t, "cache", "export", "-C", from, archive); code != 0 || !strings.Contains(stdout, "4 files") {
		t.Fatalf("export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	os.Remove(src) // the other machine has no source cache, nor SRPMs
	os.Remove(head)
	if code, stdout, stderr := run(t, "cache", "import", "-C", to, archive); code != 0 || !strings.Contains(stdout, "4 files added") {
		t.Fatalf("import: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if data, err := os.ReadFile(filepath.Join(to, "build", "store", "ab", "ab12", "files", "x-1-1.noarch.rpm")); err != nil || string(data) != "rpm" {
		t.Errorf("store entry: %q, %v", data, err)
	}
	if data, err := os.ReadFile(src); err != nil || string(data) != "source" {
		t.Errorf("source: %q, %v", data, err)
	}
	if data, err := os.ReadFile(head); err != nil || string(data) != "header" {
		t.Errorf("SRPM header: %q, %v", data, err)
	}
	if code, stdout, _ := run(t, "cache", "import", "-C", to, archive); code != 0 || !strings.Contains(stdout, "0 files added (0.0 MiB), 4 already there") {
		t.Errorf("second import: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := run(t, "cache", "import", "-C", to, filepath.Join(t.TempDir(), "none.tar")); code == 0 || !strings.Contains(stderr, "none.tar") {
		t.Errorf("missing archive: exit %d\n%s", code, stderr)
	}
}
