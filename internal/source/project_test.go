package source

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"slipway/internal/project"
)

// TestProjectOptions loads [sources] from a slipway.toml: the mirror gets
// the credentials (a password read from a file named relative to the
// project), the upstream URL never does.
func TestProjectOptions(t *testing.T) {
	var mu sync.Mutex
	var upstreamAuth []string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		upstreamAuth = append(upstreamAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write(tarball)
	}))
	defer upstream.Close()
	mirrorFiles := map[string][]byte{"/src/hello.conf.orig": conf}
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, pw, ok := r.BasicAuth(); !ok || u != "builder" || pw != "pa55" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if data, ok := mirrorFiles[r.URL.Path]; ok {
			w.Write(data)
			return
		}
		http.NotFound(w, r)
	}))
	defer mirror.Close()

	dir := t.TempDir()
	toml := "[project]\nname = \"p\"\n[sources]\nurls = [\"" + mirror.URL + "/src\"]\nallow_upstream = true\ncache_dir = \"cache\"\n" +
		"[sources.auth]\nusername = \"builder\"\npassword = \"file:secrets/pass\"\n"
	os.MkdirAll(filepath.Join(dir, "secrets"), 0o700)
	os.WriteFile(filepath.Join(dir, "secrets", "pass"), []byte("pa55\n"), 0o600)
	os.WriteFile(filepath.Join(dir, project.FileName), []byte(toml), 0o644)
	p, err := project.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // relative paths must not depend on the working directory
	o := ProjectOptions(p, nil)
	if o.CacheDir != filepath.Join(dir, "cache") || !o.AllowUpstream || len(o.URLs) != 1 {
		t.Errorf("options %+v", o)
	}

	info, specDir := helloSpec(t, upstream.URL, goodSigs())
	os.Remove(filepath.Join(specDir, "hello.conf")) // now on the mirror only
	info.Sources[1] = "hello.conf.orig"
	os.WriteFile(filepath.Join(specDir, "hello.signatures.json"),
		[]byte(`{"Signatures": {"hello-1.0.tar.gz": "`+sum(tarball)+`", "hello.conf.orig": "`+sum(conf)+`"}}`), 0o644)
	files, err := Resolve(context.Background(), info, specDir, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := origins(files); got != "hello-1.0.tar.gz=upstream hello.conf.orig=mirror" {
		t.Errorf("origins: %s", got)
	}
	if len(upstreamAuth) != 1 || upstreamAuth[0] != "" {
		t.Errorf("upstream saw Authorization %q", upstreamAuth)
	}
	if !strings.HasPrefix(files[0].Path, filepath.Join(dir, "cache")) {
		t.Errorf("cached at %s", files[0].Path)
	}
}
