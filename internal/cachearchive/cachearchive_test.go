package cachearchive

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func parts(root string) []Part {
	return []Part{{"store", filepath.Join(root, "store")}, {"sources", filepath.Join(root, "sources")}, {"packages", filepath.Join(root, "packages")}}
}

func TestExportThenImportAddsOnlyWhatIsMissing(t *testing.T) {
	for _, name := range []string{"caches.tar", "caches.tar.gz"} {
		t.Run(name, func(t *testing.T) {
			from, to := t.TempDir(), t.TempDir()
			entry := filepath.Join(from, "store", "ab", "ab12")
			write(t, filepath.Join(entry, "meta.json"), `{"hash":"ab12"}`)
			write(t, filepath.Join(entry, "files", "x-1-1.noarch.rpm"), "rpm bytes")
			write(t, filepath.Join(from, "store", ".tmp-cd34-1", "meta.json"), "half written")
			write(t, filepath.Join(from, "sources", "sha256", "0f0f"), "a source")
			write(t, filepath.Join(from, "packages", "base", "y-2-1.x86_64.rpm"), "package bytes")
			write(t, filepath.Join(from, "packages", "base", "z.rpm.part"), "a download in progress")

			archive := filepath.Join(t.TempDir(), name)
			c, err := Export(archive, parts(from))
			if err != nil || c.Files != 4 {
				t.Fatalf("export: %+v, %v", c, err)
			}
			// The target already has the source, with other bytes: kept.
			write(t, filepath.Join(to, "sources", "sha256", "0f0f"), "kept")
			c, err = Import(archive, parts(to))
			if err != nil || c.Files != 3 || c.Kept != 1 {
				t.Fatalf("import: %+v, %v", c, err)
			}
			for file, want := range map[string]string{
				"store/ab/ab12/meta.json":              `{"hash":"ab12"}`,
				"store/ab/ab12/files/x-1-1.noarch.rpm": "rpm bytes",
				"sources/sha256/0f0f":                  "kept",
				"packages/base/y-2-1.x86_64.rpm":       "package bytes",
			} {
				if got, err := os.ReadFile(filepath.Join(to, file)); err != nil || string(got) != want {
					t.Errorf("%s: %q, %v", file, got, err)
				}
			}
			for _, left := range []string{"store/.tmp-cd34-1", "packages/base/z.rpm.part"} {
				if _, err := os.Stat(filepath.Join(to, left)); err == nil {
					t.Errorf("%s was exported", left)
				}
			}
			if tmps, _ := filepath.Glob(filepath.Join(to, "store", "ab", ".tmp-*")); len(tmps) > 0 {
				t.Errorf("staging left behind: %v", tmps)
			}
			// Again: everything is there already.
			if c, err := Import(archive, parts(to)); err != nil || c.Files != 0 || c.Kept != 4 {
				t.Errorf("second import: %+v, %v", c, err)
			}
		})
	}
}

func TestImportRejectsForeignNames(t *testing.T) {
	for _, name := range []string{"../escape", "store/../../escape", "/etc/passwd", "other/file", "store/ab/meta.json"} {
		archive := filepath.Join(t.TempDir(), "bad.tar")
		f, _ := os.Create(archive)
		tw := tar.NewWriter(f)
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
		tw.Write([]byte("x"))
		tw.Close()
		f.Close()
		to := t.TempDir()
		if _, err := Import(archive, parts(to)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestImportNeedsWholeStoreEntries(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "partial.tar")
	f, _ := os.Create(archive)
	tw := tar.NewWriter(f)
	tw.WriteHeader(&tar.Header{Name: "store/ab/ab12/files/x.rpm", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.Close()
	f.Close()
	to := t.TempDir()
	if _, err := Import(archive, parts(to)); err == nil || !strings.Contains(err.Error(), "has no meta.json") {
		t.Errorf("entry without meta.json: %v", err)
	}
	if _, err := os.Stat(filepath.Join(to, "store", "ab", "ab12")); err == nil {
		t.Error("a partial store entry was imported")
	}
}
