package repo

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"slipway/internal/fetch"
	"slipway/internal/repo/repotest"
	"slipway/internal/rpm"
)

// server serves a directory over HTTP on 127.0.0.1, counting requests by
// path, optionally behind basic auth.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func serve(t *testing.T, dir, user, pass string) *server {
	s := &server{hits: map[string]int{}}
	files := http.FileServer(http.Dir(dir))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); user != "" && (!ok || u != user || p != pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="repo"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// count returns the requests for paths ending in suffix.
func (s *server) count(suffix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.hits {
		if strings.HasSuffix(p, suffix) {
			n += c
		}
	}
	return n
}

// quickClient does not wait between retries.
func quickClient() *fetch.Client { return fetch.New(fetch.Options{Retries: -1}) }

func load(t *testing.T, baseURL, cache string) *Repo {
	t.Helper()
	r, err := Load(context.Background(), RepoConfig{ID: "t", BaseURLs: []string{baseURL}}, Options{CacheDir: cache, Client: quickClient()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func synthetic(t *testing.T, n int, comp, sumType string) (string, map[string]string) {
	dir := t.TempDir()
	paths, err := repotest.WriteRepodata(dir, comp, sumType,
		repotest.File{Type: "primary", XML: repotest.Primary(n)},
		repotest.File{Type: "filelists", XML: repotest.Filelists(n)})
	if err != nil {
		t.Fatal(err)
	}
	return dir, paths
}

func TestLoadCompressionsAndChecksumTypes(t *testing.T) {
	for _, tc := range []struct{ comp, sum string }{
		{"gz", "sha256"}, {"xz", "sha256"}, {"zst", "sha256"}, {"", "sha256"}, {"gz", "sha512"}, {"zst", "sha1"},
	} {
		t.Run(tc.comp+"-"+tc.sum, func(t *testing.T) {
			dir, _ := synthetic(t, 40, tc.comp, tc.sum)
			r := load(t, dir, t.TempDir()) // a plain directory path
			if len(r.Packages) != 40 || !strings.HasPrefix(r.BaseURL, "file:///") {
				t.Fatalf("%d packages from %s", len(r.Packages), r.BaseURL)
			}
			p := r.ByName(repotest.Name(7))
			if len(p) != 1 || p[0].EVR != (rpm.EVR{Version: repotest.Version(7), Release: "1.azl3"}) || p[0].Checksum.Value != repotest.PkgID(7) {
				t.Fatalf("ByName: %+v", p)
			}
			owners, err := r.FileProviders(context.Background(), "/usr/include/"+repotest.Name(7)+".h")
			if err != nil || len(owners) != 1 || owners[0] != p[0] {
				t.Errorf("FileProviders: %v %v", owners, err)
			}
		})
	}
}

func TestParsePrimary(t *testing.T) {
	pkgs, err := ParsePrimary(bytes.NewReader(repotest.Primary(100)))
	if err != nil {
		t.Fatal(err)
	}
	p := pkgs[50] // epoch 1
	if p.Name != "pkg00050" || p.Arch != "x86_64" || p.EVR != (rpm.EVR{Epoch: "1", Version: "3.11.1", Release: "2.azl3"}) ||
		p.Location != "Packages/p/pkg00050-3.11.1-2.azl3.x86_64.rpm" || p.SourceRPM != "pkg00050-3.11.1-2.azl3.src.rpm" ||
		p.Size != 10000+50*37 || p.Checksum != (Checksum{"sha256", repotest.PkgID(50)}) {
		t.Errorf("package: %+v", p)
	}
	if len(p.Provides) != 10 || len(p.Requires) != 15 || !reflect.DeepEqual(p.Files, []string{"/usr/bin/pkg00050", "/etc/pkg00050.conf", "/etc/pkg00050.d"}) {
		t.Errorf("%d provides, %d requires, files %q", len(p.Provides), len(p.Requires), p.Files)
	}
	if got := p.Provides[0]; got != (rpm.Dep{Name: "pkg00050", Op: rpm.EQ, EVR: p.EVR}) {
		t.Errorf("self-provide %v", got)
	}
	if got := p.Requires[0]; !got.Pre || got.Name != "/bin/sh" {
		t.Errorf("first require %+v", got)
	}
	if got := pkgs[53].Conflicts; len(got) != 1 || got[0].String() != "pkg00053-old < 1.0" {
		t.Errorf("conflicts %v", got)
	}
	if got := pkgs[57].Obsoletes; len(got) != 1 || got[0].String() != "pkg00057-legacy <= 2.5.1-2.azl3" {
		t.Errorf("obsoletes %v", got)
	}

	for _, tc := range []struct{ xml, want string }{
		{"<metadata><package type=\"rpm\"><name>a</name>\n<bad", "primary.xml line 2"},
		{`<metadata><package type="rpm"><name>a</name><version ver="1" rel="1"/><rpm:requires><rpm:entry name="b" flags="XX" ver="1"/></rpm:requires></package></metadata>`, `unknown flags "XX"`},
		{`<metadata><package type="rpm"><name>a</name><version ver="1" rel="1"/><checksum type="sha256">ab</checksum></package></metadata>`, "package a-1-1. has no location"},
		{`<metadata><package type="rpm"><name>a</name><location href="a.rpm"/><checksum type="md5">ab</checksum></package></metadata>`, `unsupported checksum type "md5"`},
	} {
		if _, err := ParsePrimary(strings.NewReader(tc.xml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

func TestWhatProvides(t *testing.T) {
	pkgs, err := ParsePrimary(bytes.NewReader(repotest.Primary(100)))
	if err != nil {
		t.Fatal(err)
	}
	x := NewIndex(pkgs)
	names := func(ps []*Package) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.Name)
		}
		return strings.Join(s, " ")
	}
	dep := func(s string) rpm.Dep {
		d, err := rpm.ParseDep(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for req, want := range map[string]string{
		"pkg00012":                    "pkg00012", // 1.12.5-6.azl3
		"pkg00012 >= 1.12":            "pkg00012",
		"pkg00012 > 1.12.5-6.azl3":    "",
		"pkg00012 >= 1:0":             "", // epoch 0 < 1
		"pkg00050 > 3.11.1":           "pkg00050",
		"pkg00050 < 1:3.11.1":         "",
		"pkg00050 = 1:3.11.1":         "pkg00050", // no release: any release
		"lib00012.so.1()(64bit)":      "pkg00012",
		"lib00012.so.1()(64bit) >= 2": "pkg00012", // an unversioned provide satisfies any version
		"pkgconfig(lib00012) >= 1.13": "",
		"/usr/bin/pkg00012":           "pkg00012",
		"/etc/pkg00013.d":             "pkg00013",
		"/usr/include/pkg00012.h":     "", // only in filelists
		"nothing":                     "",
	} {
		if got := names(x.WhatProvides(dep(req))); got != want {
			t.Errorf("WhatProvides(%s) = %q, want %q", req, got, want)
		}
	}
	if got := names(x.ByName("pkg00004-devel")); got != "pkg00004-devel" {
		t.Errorf("ByName = %q", got)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	pkgs, err := ParsePrimary(bytes.NewReader(repotest.Primary(300)))
	if err != nil {
		t.Fatal(err)
	}
	data := encodePackages(pkgs)
	back, err := decodePackages(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, pkgs) {
		t.Error("packages differ after a round trip")
	}
	if !bytes.Equal(encodePackages(back), data) {
		t.Error("encoding is not deterministic")
	}
	for _, bad := range [][]byte{nil, data[:len(data)/2], append(bytes.Clone(data[:len(data)-5]), 0, 0, 0, 0, 0)} {
		if _, err := decodePackages(bad); !errors.Is(err, errCorrupt) {
			t.Errorf("damaged snapshot (%d bytes): %v", len(bad), err)
		}
	}
	flip := bytes.Clone(data)
	flip[len(flip)/2] ^= 1
	if _, err := decodePackages(flip); !errors.Is(err, errCorrupt) {
		t.Errorf("flipped bit: %v", err)
	}

	lists, err := parseFilelists(bytes.NewReader(repotest.Filelists(50)))
	if err != nil {
		t.Fatal(err)
	}
	lback, err := decodeFilelists(encodeFilelists(lists))
	if err != nil || !reflect.DeepEqual(lback, lists) || len(lists) != 50 || len(lists[3].files) != 6 {
		t.Errorf("filelists round trip: %v", err)
	}
}

func TestWarmLoadFetchesOnlyRepomd(t *testing.T) {
	dir, _ := synthetic(t, 200, "gz", "sha256")
	srv := serve(t, dir, "", "")
	cache := t.TempDir()
	r := load(t, srv.URL+"/", cache)
	if srv.count("primary.xml.gz") != 1 || len(r.Packages) != 200 {
		t.Fatalf("cold load: %d primary requests, %d packages", srv.count("primary.xml.gz"), len(r.Packages))
	}
	if _, err := r.FileProviders(context.Background(), "/usr/bin/pkg00001"); err != nil {
		t.Fatal(err)
	}
	warm := load(t, srv.URL, cache)
	warm.FileProviders(context.Background(), "/usr/bin/pkg00001")
	if srv.count("repomd.xml") != 2 || srv.count("primary.xml.gz") != 1 || srv.count("filelists.xml.gz") != 1 {
		t.Errorf("warm load fetched again: %v", srv.hits)
	}
	if !reflect.DeepEqual(warm.Packages, r.Packages) {
		t.Error("the warm load has other packages")
	}

	// A new revision: the new primary is fetched, the old metadata pruned.
	os.RemoveAll(filepath.Join(dir, "repodata"))
	if _, err := repotest.WriteRepodata(dir, "gz", "sha256", repotest.File{Type: "primary", XML: repotest.Primary(210)}); err != nil {
		t.Fatal(err)
	}
	r = load(t, srv.URL, cache)
	if len(r.Packages) != 210 || srv.count("primary.xml.gz") != 2 {
		t.Errorf("new revision: %d packages, %d primary requests", len(r.Packages), srv.count("primary.xml.gz"))
	}
	snaps, _ := filepath.Glob(filepath.Join(r.dir, "*.snap"))
	data, _ := filepath.Glob(filepath.Join(r.dir, "data", "*"))
	if len(snaps) != 1 || len(data) != 1 {
		t.Errorf("not pruned: %q %q", snaps, data)
	}
	if _, err := r.FileProviders(context.Background(), "/x"); err == nil || !strings.Contains(err.Error(), "no filelists") {
		t.Errorf("FileProviders without filelists: %v", err)
	}
}

func TestTamperedPrimary(t *testing.T) {
	for _, sum := range []string{"sha256", "sha512"} {
		t.Run(sum, func(t *testing.T) {
			dir, paths := synthetic(t, 20, "gz", sum)
			data, _ := os.ReadFile(paths["primary"])
			data[len(data)/2] ^= 0xff
			os.WriteFile(paths["primary"], data, 0o644)
			srv := serve(t, dir, "", "")
			cache := t.TempDir()
			_, err := Load(context.Background(), RepoConfig{ID: "t", BaseURLs: []string{srv.URL}}, Options{CacheDir: cache, Client: quickClient()})
			var ce *ChecksumError
			if !errors.As(err, &ce) || ce.Type != sum {
				t.Fatalf("want a %s checksum error, got %v", sum, err)
			}
			name := filepath.Base(paths["primary"])
			want := strings.TrimSuffix(name, "-primary.xml.gz") // the file is named by its expected checksum
			if msg := err.Error(); !strings.Contains(msg, srv.URL+"/repodata/"+name) || !strings.Contains(msg, want) || !strings.Contains(msg, ce.Got) || ce.Got == want {
				t.Errorf("the error does not name the URL and both digests: %v", err)
			}
			if left, _ := filepath.Glob(filepath.Join(cache, "repos", "*", "data", "*")); len(left) != 0 {
				t.Errorf("the bad download was kept: %q", left)
			}
		})
	}
}

func TestConcurrentLoads(t *testing.T) {
	dir, _ := synthetic(t, 100, "zst", "sha256")
	srv := serve(t, dir, "", "")
	cache := t.TempDir()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			r, err := Load(context.Background(), RepoConfig{ID: "t", BaseURLs: []string{srv.URL}}, Options{CacheDir: cache, Client: quickClient()})
			if err != nil {
				t.Error(err)
				return
			}
			var inner sync.WaitGroup
			for range 3 {
				inner.Go(func() {
					if got, err := r.FileProviders(context.Background(), "/usr/lib64/lib00042.so.1"); err != nil || len(got) != 1 {
						t.Errorf("FileProviders: %v %v", got, err)
					}
				})
			}
			inner.Wait()
		})
	}
	wg.Wait()
}

func TestCorruptCacheIsFetchedAgain(t *testing.T) {
	for _, sum := range []string{"sha256", "sha512"} {
		t.Run(sum, func(t *testing.T) {
			dir, _ := synthetic(t, 20, "xz", sum)
			srv := serve(t, dir, "", "")
			cache := t.TempDir()
			r := load(t, srv.URL, cache)
			// A damaged snapshot is ignored and made again from the cached
			// primary, which is reused.
			snap, _ := filepath.Glob(filepath.Join(r.dir, "primary-*.snap"))
			os.WriteFile(snap[0], []byte("garbage"), 0o644)
			if r = load(t, srv.URL, cache); len(r.Packages) != 20 || srv.count("primary.xml.xz") != 1 {
				t.Fatalf("damaged snapshot: %d packages, %d primary requests", len(r.Packages), srv.count("primary.xml.xz"))
			}
			// A damaged cached primary is fetched again.
			os.Remove(snap[0])
			cached, _ := filepath.Glob(filepath.Join(r.dir, "data", "*primary*"))
			os.WriteFile(cached[0], []byte("not the primary"), 0o644)
			if r = load(t, srv.URL, cache); len(r.Packages) != 20 || srv.count("primary.xml.xz") != 2 {
				t.Fatalf("damaged primary: %d packages, %d primary requests", len(r.Packages), srv.count("primary.xml.xz"))
			}
		})
	}
}

func TestLoadMirrorsAndErrors(t *testing.T) {
	dir, _ := synthetic(t, 5, "gz", "sha256")
	srv := serve(t, dir, "", "")
	cache := t.TempDir()
	cfg := RepoConfig{ID: "m", BaseURLs: []string{srv.URL + "/missing", srv.URL}}
	r, err := Load(context.Background(), cfg, Options{CacheDir: cache, Client: quickClient()})
	if err != nil || r.BaseURL != srv.URL || len(r.Packages) != 5 {
		t.Fatalf("the second mirror was not used: %v", err)
	}
	_, err = Load(context.Background(), RepoConfig{ID: "m", BaseURLs: []string{srv.URL + "/a", srv.URL + "/b"}}, Options{CacheDir: cache, Client: quickClient()})
	if err == nil || !strings.Contains(err.Error(), "repository m: ") || !strings.Contains(err.Error(), "/a/repodata/repomd.xml: 404") || !strings.Contains(err.Error(), "/b/repodata/repomd.xml: 404") {
		t.Errorf("both mirrors missing: %v", err)
	}
	if _, err := Load(context.Background(), RepoConfig{ID: "n", Extra: map[string]string{"metalink": "x"}}, Options{CacheDir: cache}); err == nil || !strings.Contains(err.Error(), "metalink are not supported") {
		t.Errorf("metalink: %v", err)
	}
	if _, err := Load(context.Background(), cfg, Options{}); err == nil {
		t.Error("no error without a cache directory")
	}
}

func TestJoinURL(t *testing.T) {
	for _, tc := range []struct{ base, href, want string }{
		{"https://h/repo", "repodata/repomd.xml", "https://h/repo/repodata/repomd.xml"},
		{"https://h/repo?sig=abc", "Packages/g/g++-1.rpm", "https://h/repo/Packages/g/g++-1.rpm?sig=abc"},
		{"file:///srv/repo", "a b.rpm", "file:///srv/repo/a%20b.rpm"},
		{"https://h/repo", "https://other/x.rpm", "https://other/x.rpm"},
	} {
		if got := joinURL(tc.base, tc.href); got != tc.want {
			t.Errorf("joinURL(%q, %q) = %q, want %q", tc.base, tc.href, got, tc.want)
		}
	}
	r := &Repo{BaseURL: "https://h/repo"}
	for _, tc := range []struct {
		p    Package
		want string
	}{
		{Package{Location: "Packages/a.rpm"}, "https://h/repo/Packages/a.rpm"},
		{Package{Location: "Packages/a.rpm", LocationBase: "https://mirror/base/"}, "https://mirror/base/Packages/a.rpm"},
	} {
		if got := r.PackageURL(&tc.p); got != tc.want {
			t.Errorf("PackageURL = %q, want %q", got, tc.want)
		}
	}
	pkgs, err := ParsePrimary(strings.NewReader(`<metadata xmlns="http://linux.duke.edu/metadata/common"><package type="rpm"><name>a</name>` +
		`<checksum type="sha256">AB</checksum><location xml:base="https://mirror/base" href="a.rpm"/></package></metadata>`))
	if err != nil || pkgs[0].LocationBase != "https://mirror/base" || pkgs[0].Checksum.Value != "ab" {
		t.Errorf("xml:base: %+v %v", pkgs, err)
	}
}

func TestParseRepoMD(t *testing.T) {
	const md = `<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision> 17 </revision>
<data type="primary"><checksum type="SHA256">AA</checksum><open-checksum type="sha256">bb</open-checksum><location href="repodata/p.xml.gz"/><size>12</size></data>
<data type="group"><checksum type="md5">cc</checksum><location xml:base="https://m/" href="repodata/comps.xml"/></data>
</repomd>`
	got, err := ParseRepoMD([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	want := &RepoMD{Revision: "17", Data: map[string]DataFile{
		"primary": {Type: "primary", Location: "repodata/p.xml.gz", Checksum: Checksum{"sha256", "aa"}, OpenChecksum: Checksum{"sha256", "bb"}, Size: 12},
		"group":   {Type: "group", Location: "repodata/comps.xml", LocationBase: "https://m/", Checksum: Checksum{"md5", "cc"}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	for in, msg := range map[string]string{
		`<repomd><data type="other"/></repomd>`: "lists no primary",
		`<repomd><data type="primary"><checksum type="md5">aa</checksum><location href="p"/></data></repomd>`: `no usable checksum (type "md5")`,
		`<repomd><data type="primary"><checksum type="sha256">aa</checksum></data></repomd>`:                  "primary data has no location",
		`<repomd`: "repomd.xml: XML syntax error",
	} {
		if _, err := ParseRepoMD([]byte(in)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want %q", in, err, msg)
		}
	}
}
