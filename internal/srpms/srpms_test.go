package srpms

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"slipway/internal/repo"
	"slipway/internal/rpm"
	"slipway/internal/rpmsig"
	"slipway/internal/spec"
	"slipway/internal/testutil"
)

// packSRPMs makes the source RPMs of two tiny specs into a new directory.
func packSRPMs(t *testing.T) string {
	t.Helper()
	testutil.RequireTools(t, "rpmbuild", "rpmkeys", "createrepo_c")
	top := t.TempDir()
	for _, name := range []string{"alpha", "beta"} {
		specFile := filepath.Join(top, name+".spec")
		os.WriteFile(specFile, []byte("Name: "+name+"\nVersion: 1.0\nRelease: 2\nSummary: s\nLicense: MIT\nBuildArch: noarch\n"+
			"%description\nd\n%files\n"), 0o644)
		if out, err := exec.Command("rpmbuild", "-bs", "--define", "_topdir "+top, specFile).CombinedOutput(); err != nil {
			t.Fatalf("rpmbuild -bs: %v\n%s", err, out)
		}
	}
	return filepath.Join(top, "SRPMS")
}

func verifier(t *testing.T) func(context.Context, string) error {
	kr, err := rpmsig.NewKeyring(t.Context(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return kr.Verify
}

var alpha = spec.NEVR{Name: "alpha", Version: "1.0", Release: "2"}

// A repository's source packages are found by name and EVR, checked
// against its checksums.
func TestFindInRepository(t *testing.T) {
	dir := packSRPMs(t)
	if err := repo.Create(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	r, err := repo.Load(t.Context(), repo.RepoConfig{ID: "src", BaseURLs: []string{dir}}, repo.Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	f := &Finder{Repos: []*repo.Repo{r}, CacheDir: cache, Verify: verifier(t)}
	path, from, err := f.Find(t.Context(), alpha)
	if err != nil || filepath.Base(path) != "alpha-1.0-2.src.rpm" || from != "file://"+dir+"/alpha-1.0-2.src.rpm" {
		t.Fatalf("found %s from %s: %v", path, from, err)
	}
	var nf *NotFoundError
	_, _, err = f.Find(t.Context(), spec.NEVR{Name: "alpha", Version: "1.0", Release: "3"})
	if !errors.As(err, &nf) || err.Error() != "alpha-1.0-3.src.rpm is not published: repository src has no such source package" {
		t.Errorf("another release: %v", err)
	}
}

// Under base URLs: the first that has it; kept in the cache, which
// serves it offline, but only for the same URLs.
func TestFindUnderURLs(t *testing.T) {
	dir := packSRPMs(t)
	var hits []string
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.URL.Path)
		if strings.HasPrefix(r.URL.Path, "/empty/") {
			http.NotFound(w, r)
			return
		}
		http.StripPrefix("/full", files).ServeHTTP(w, r)
	}))
	defer srv.Close()
	cache := t.TempDir()
	f := &Finder{URLs: []string{srv.URL + "/empty", srv.URL + "/full/"}, CacheDir: cache, Verify: verifier(t)}
	path, from, err := f.Find(t.Context(), alpha)
	if err != nil || from != srv.URL+"/full/alpha-1.0-2.src.rpm" || strings.Join(hits, " ") != "/empty/alpha-1.0-2.src.rpm /full/alpha-1.0-2.src.rpm" {
		t.Fatalf("found %s from %s (%v): %v", path, from, hits, err)
	}
	f.Offline = true
	if again, from2, err := f.Find(t.Context(), alpha); err != nil || again != path || from2 != from || len(hits) != 2 {
		t.Errorf("offline, cached: %s from %s, %v (%d requests)", again, from2, err, len(hits))
	}
	f.URLs = f.URLs[1:]
	if _, _, err := f.Find(t.Context(), alpha); err == nil || !strings.Contains(err.Error(), "offline, and it is not in the cache") {
		t.Errorf("offline, other URLs: %v", err)
	}

	// A file that is not the package its name says: refused, not kept.
	f.Offline = false
	os.Rename(filepath.Join(dir, "beta-1.0-2.src.rpm"), filepath.Join(dir, "alpha-1.0-2.src.rpm"))
	f.CacheDir = t.TempDir()
	_, _, err = f.Find(t.Context(), alpha)
	if err == nil || !strings.Contains(err.Error(), "the file holds beta-1.0-2") || !strings.Contains(err.Error(), "not the source package alpha-1.0-2.src.rpm") {
		t.Errorf("a beta named alpha: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(f.CacheDir, "srpms", "*", "alpha*")); len(left) != 0 {
		t.Errorf("kept: %v", left)
	}
}

// Header with HeadersOnly reads a source RPM under URLs only up to the end
// of its header: enough for its file digests, a fraction of the file.
func TestHeaderReadsOnlyTheHeader(t *testing.T) {
	testutil.RequireTools(t, "rpmbuild", "rpmkeys")
	top := t.TempDir()
	specFile := filepath.Join(top, "big.spec")
	os.WriteFile(specFile, []byte("Name: big\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nSource0: blob\n%description\nd\n%files\n"), 0o644)
	os.MkdirAll(filepath.Join(top, "SOURCES"), 0o755)
	blob := make([]byte, 4<<20)
	for i := range blob {
		blob[i] = byte(i * 7919 >> 3) // compresses poorly enough to stay large
	}
	os.WriteFile(filepath.Join(top, "SOURCES", "blob"), blob, 0o644)
	if out, err := exec.Command("rpmbuild", "-bs", "--define", "_topdir "+top, "--define", "_source_payload w0.ufdio", specFile).CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild -bs: %v\n%s", err, out)
	}
	srpm := filepath.Join(top, "SRPMS", "big-1-1.src.rpm")
	whole, _ := os.Stat(srpm)
	var sent atomic.Int64
	files := http.FileServer(http.Dir(filepath.Dir(srpm)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		files.ServeHTTP(countingWriter{w, &sent}, r)
	}))
	defer srv.Close()
	f := &Finder{URLs: []string{srv.URL}, CacheDir: t.TempDir(), Verify: verifier(t), HeadersOnly: true}
	big := spec.NEVR{Name: "big", Version: "1", Release: "1"}
	path, from, err := f.Header(t.Context(), big)
	if err != nil || from != srv.URL+"/big-1-1.src.rpm" {
		t.Fatalf("header: %s from %s: %v", path, from, err)
	}
	t.Logf("read %d of %d bytes", sent.Load(), whole.Size())
	if sent.Load() > 64<<10 || whole.Size() < 4<<20 { // one read of 64 KiB holds this header
		t.Errorf("read %d bytes of a %d-byte file", sent.Load(), whole.Size())
	}
	_, fromHead, err := rpm.PayloadDigests(path)
	_, fromWhole, _ := rpm.PayloadDigests(srpm)
	if err != nil || fromHead["blob"] == "" || fromHead["blob"] != fromWhole["blob"] {
		t.Errorf("digests from the header: %v, %v; from the file: %v", fromHead, err, fromWhole)
	}
	// Cached: nothing more is read. Find still downloads the whole file.
	before := sent.Load()
	if again, _, err := f.Header(t.Context(), big); err != nil || again != path || sent.Load() != before {
		t.Errorf("cached header: %s, %v, %d more bytes", again, err, sent.Load()-before)
	}
	if p, _, err := f.Find(t.Context(), big); err != nil || p == path {
		t.Errorf("whole file: %s, %v", p, err)
	}
	// A header damaged on the server is refused.
	data, _ := os.ReadFile(srpm)
	end, _ := rpm.HeaderEnd(data)
	data[end-10] ^= 0xff
	os.WriteFile(srpm, data, 0o644)
	f.CacheDir = t.TempDir()
	if _, _, err := f.Header(t.Context(), big); err == nil || !strings.Contains(err.Error(), "its signature header says") {
		t.Errorf("damaged header: %v", err)
	}
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n.Add(int64(n))
	return n, err
}
