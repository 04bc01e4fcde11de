package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"slipway/internal/fetch"
	"slipway/internal/spec"
)

var (
	tarball = bytes.Repeat([]byte("hello-1.0 tarball\n"), 1000)
	conf    = []byte("greeting = hello\n")
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// server serves files by URL path and counts requests per path.
type server struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
}

func newServer(t *testing.T, files map[string][]byte) *server {
	s := &server{files: files, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		data, ok := s.files[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.hits {
		n += v
	}
	return n
}

// helloSpec writes a spec directory with a local source, a patch and a
// signatures file, and returns its Info (as spec evaluation would give it)
// with Source0 at upstream.
func helloSpec(t *testing.T, upstream string, sigs map[string]string) (*spec.Info, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hello")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "hello.conf"), conf, 0o644)
	os.WriteFile(filepath.Join(dir, "fix.patch"), []byte("--- a\n+++ b\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "hello.spec"), []byte("Name: hello\n"), 0o644)
	if sigs != nil {
		if err := WriteSignatures(filepath.Join(dir, "hello.signatures.json"), sigs); err != nil {
			t.Fatal(err)
		}
	}
	return &spec.Info{
		Path:    "hello/hello.spec",
		Name:    "hello",
		Sources: []string{upstream + "/releases/v1.0.tar.gz#/hello-1.0.tar.gz", "hello.conf"},
		Patches: []string{"fix.patch"},
	}, dir
}

func goodSigs() map[string]string {
	return map[string]string{"hello-1.0.tar.gz": sum(tarball), "hello.conf": sum(conf)}
}

func opts(t *testing.T, urls ...string) Options {
	return Options{URLs: urls, CacheDir: filepath.Join(t.TempDir(), "cache"), Fetcher: fetch.New(fetch.Options{Retries: -1})}
}

func origins(files []File) string {
	var parts []string
	for _, f := range files {
		parts = append(parts, f.Name+"="+string(f.Origin))
	}
	return strings.Join(parts, " ")
}

func TestResolveFromMirrorThenCache(t *testing.T) {
	empty := newServer(t, nil)
	mirror := newServer(t, map[string][]byte{"/sources/hello-1.0.tar.gz": tarball})
	info, dir := helloSpec(t, "https://upstream.invalid", goodSigs())
	o := opts(t, empty.URL+"/sources", mirror.URL+"/sources/")
	files, err := Resolve(context.Background(), info, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := origins(files); got != "hello-1.0.tar.gz=mirror hello.conf=spec-dir" {
		t.Errorf("origins: %s", got)
	}
	tb := files[0]
	if tb.URL != mirror.URL+"/sources/hello-1.0.tar.gz" || tb.SHA256 != sum(tarball) ||
		tb.Path != filepath.Join(o.CacheDir, "sha256", sum(tarball)) || tb.Source != info.Sources[0] {
		t.Errorf("tarball: %+v", tb)
	}
	if got, _ := os.ReadFile(tb.Path); !bytes.Equal(got, tarball) {
		t.Error("cache entry has the wrong content")
	}
	if files[1].Path != filepath.Join(dir, "hello.conf") {
		t.Errorf("local source: %+v", files[1])
	}
	if empty.hits["/sources/hello-1.0.tar.gz"] != 1 {
		t.Errorf("first mirror hits: %v", empty.hits)
	}

	// Second time: from the cache, nothing downloaded.
	before := mirror.requests()
	files, err = Resolve(context.Background(), info, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := origins(files); got != "hello-1.0.tar.gz=cache hello.conf=spec-dir" || mirror.requests() != before {
		t.Errorf("second run: %s, %d requests", got, mirror.requests()-before)
	}

	// A corrupt cache entry is dropped and downloaded again.
	os.WriteFile(tb.Path, []byte("bit rot"), 0o644)
	files, err = Resolve(context.Background(), info, dir, o)
	if err != nil || origins(files) != "hello-1.0.tar.gz=mirror hello.conf=spec-dir" {
		t.Fatalf("after corruption: %s, %v", origins(files), err)
	}
}

func TestResolveUpstream(t *testing.T) {
	up := newServer(t, map[string][]byte{"/releases/v1.0.tar.gz": tarball})
	info, dir := helloSpec(t, up.URL, goodSigs())
	o := opts(t)
	_, err := Resolve(context.Background(), info, dir, o)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(),
		"hello.spec: source hello-1.0.tar.gz not found: not in "+dir+", not in the source cache") ||
		!strings.Contains(err.Error(), "sources.allow_upstream = true to download it from "+up.URL+"/releases/v1.0.tar.gz") {
		t.Fatalf("without allow_upstream: %v", err)
	}
	if up.requests() != 0 {
		t.Error("downloaded upstream without permission")
	}
	o.AllowUpstream = true
	files, err := Resolve(context.Background(), info, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if files[0].Origin != Upstream || files[0].URL != up.URL+"/releases/v1.0.tar.gz#/hello-1.0.tar.gz" {
		t.Errorf("%+v", files[0])
	}
}

func TestResolveMismatchedDownload(t *testing.T) {
	fake := []byte("not the real tarball")
	mirror := newServer(t, map[string][]byte{"/hello-1.0.tar.gz": fake})
	other := newServer(t, nil)
	info, dir := helloSpec(t, "https://upstream.invalid", goodSigs())
	o := opts(t, mirror.URL, other.URL)
	files, err := Resolve(context.Background(), info, dir, o)
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("got %v, want a *MismatchError", err)
	}
	sigPath := filepath.Join(dir, "hello.signatures.json")
	for _, s := range []string{sigPath + ": hello-1.0.tar.gz: sha256 mismatch", sum(tarball), sum(fake), mirror.URL + "/hello-1.0.tar.gz",
		"tried: fetch " + other.URL + "/hello-1.0.tar.gz: 404 Not Found"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q:\n%v", s, err)
		}
	}
	if origins(files) != "hello.conf=spec-dir" {
		t.Errorf("files: %s", origins(files))
	}
	// Nothing of the bad download is left in the cache.
	if entries, _ := os.ReadDir(filepath.Join(o.CacheDir, "sha256")); len(entries) != 0 {
		t.Errorf("cache holds %v", entries)
	}
}

func TestResolveVerifiesLocalFiles(t *testing.T) {
	srv := newServer(t, nil)
	sigs := goodSigs()
	sigs["hello.conf"] = sum([]byte("old conf"))
	info, dir := helloSpec(t, srv.URL, sigs)
	_, err := Resolve(context.Background(), info, dir, opts(t, srv.URL))
	want := fmt.Sprintf("%s: hello.conf: sha256 mismatch: the signature is %s, but %s has %s",
		filepath.Join(dir, "hello.signatures.json"), sum([]byte("old conf")), filepath.Join(dir, "hello.conf"), sum(conf))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}

	// Missing entries: a local file is hashed, a remote one is not downloaded.
	before := srv.requests()
	info, dir = helloSpec(t, srv.URL, map[string]string{"other.txt": sum(nil)})
	_, err = Resolve(context.Background(), info, dir, opts(t, srv.URL))
	var ms *MissingSignatureError
	if !errors.As(err, &ms) ||
		!strings.Contains(err.Error(), "hello.signatures.json: no signature for hello-1.0.tar.gz, a Source of hello.spec (it is not downloaded without one)") ||
		!strings.Contains(err.Error(), "no signature for hello.conf, a Source of hello.spec (its sha256 is "+sum(conf)+")") {
		t.Errorf("got %v", err)
	}
	if srv.requests() != before {
		t.Errorf("%d downloads without a signature", srv.requests()-before)
	}

	// No signatures file at all.
	info, dir = helloSpec(t, srv.URL, nil)
	if _, err := Resolve(context.Background(), info, dir, opts(t)); err == nil ||
		!strings.Contains(err.Error(), "hello.spec has 2 Sources but no signatures file "+filepath.Join(dir, "hello.signatures.json")) {
		t.Errorf("got %v", err)
	}
}

func TestResolveDuplicateNames(t *testing.T) {
	info, dir := helloSpec(t, "https://x.invalid", goodSigs())
	info.Sources = append(info.Sources, "https://y.invalid/hello.conf")
	if _, err := Resolve(context.Background(), info, dir, opts(t)); err == nil || !strings.Contains(err.Error(), "are both the file hello.conf") {
		t.Errorf("got %v", err)
	}
}

func TestUpdateSignatures(t *testing.T) {
	v2 := bytes.Repeat([]byte("hello-2.0\n"), 100)
	mirror := newServer(t, map[string][]byte{"/hello-2.0.tar.gz": v2, "/hello-1.0.tar.gz": tarball})
	info, dir := helloSpec(t, "https://upstream.invalid", map[string]string{
		"hello-1.0.tar.gz": sum(tarball), "hello.conf": sum([]byte("old")), "dropped.txt": sum(nil)})
	// The packager bumps the version and changes hello.conf.
	info.Sources[0] = "https://upstream.invalid/hello-2.0.tar.gz"
	o := opts(t, mirror.URL)
	files, err := UpdateSignatures(context.Background(), info, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := origins(files); got != "hello-2.0.tar.gz=mirror hello.conf=spec-dir" {
		t.Errorf("origins: %s", got)
	}
	sigs, err := ReadSignatures(filepath.Join(dir, "hello.signatures.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"hello-2.0.tar.gz": sum(v2), "hello.conf": sum(conf)}; fmt.Sprint(sigs) != fmt.Sprint(want) {
		t.Errorf("signatures %v, want %v", sigs, want)
	}
	if p, ok := (Cache{o.CacheDir}).Lookup(sum(v2)); !ok || p != files[0].Path {
		t.Errorf("not in the cache: %s", files[0].Path)
	}
	if entries, _ := os.ReadDir(filepath.Join(o.CacheDir, "incoming")); len(entries) != 0 {
		t.Errorf("incoming holds %v", entries)
	}
	// Now it verifies.
	if _, err := Resolve(context.Background(), info, dir, o); err != nil {
		t.Fatal(err)
	}

	// A source found nowhere leaves the file as it was.
	before, _ := os.ReadFile(filepath.Join(dir, "hello.signatures.json"))
	info.Sources[0] = "https://upstream.invalid/hello-3.0.tar.gz"
	_, err = UpdateSignatures(context.Background(), info, dir, o)
	if err == nil || !strings.Contains(err.Error(), "hello.signatures.json not updated: hello.spec: source hello-3.0.tar.gz not found") {
		t.Errorf("got %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "hello.signatures.json")); !bytes.Equal(before, after) {
		t.Error("signatures changed after a failed update")
	}
}
