package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var payload = bytes.Repeat([]byte("slipway source tarball\n"), 4096) // 94 KB

func digestOf(b []byte) Digest {
	sum := sha256.Sum256(b)
	return Digest{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b))}
}

// quick is a client that retries without waiting long.
func quick(opts Options) *Client {
	if opts.Backoff == 0 {
		opts.Backoff = time.Millisecond
	}
	return New(opts)
}

// serve returns a server for payload whose handler may fail first: fail
// is called with the request number (from 1) and returns true when it
// has answered the request itself.
func serve(t *testing.T, fail func(n int, w http.ResponseWriter, r *http.Request) bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1))
		if fail != nil && fail(i, w, r) {
			return
		}
		http.ServeContent(w, r, "f", time.Unix(1700000000, 0), bytes.NewReader(payload))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// onlyFile checks that dir holds exactly the named files.
func onlyFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s holds %v, want %v", dir, got, want)
	}
}

func TestFetchSuccess(t *testing.T) {
	srv, n := serve(t, nil)
	dir := t.TempDir()
	dest := filepath.Join(dir, "sub", "f.tar.gz")
	if err := quick(Options{}).Fetch(context.Background(), srv.URL+"/f.tar.gz", dest, digestOf(payload)); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, payload) {
		t.Error("wrong content")
	}
	onlyFiles(t, filepath.Join(dir, "sub"), "f.tar.gz")
	// Already there with the right digest: no second request.
	if err := quick(Options{}).Fetch(context.Background(), srv.URL+"/f.tar.gz", dest, digestOf(payload)); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1", n.Load())
	}
	// Without a digest: downloaded again, unverified.
	if err := quick(Options{}).Fetch(context.Background(), srv.URL+"/f.tar.gz", dest, Digest{}); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 {
		t.Errorf("%d requests, want 2", n.Load())
	}
}

func TestFetchChecksumMismatch(t *testing.T) {
	srv, _ := serve(t, nil)
	dir := t.TempDir()
	dest := filepath.Join(dir, "f.tar.gz")
	want := digestOf([]byte("something else"))
	want.Size = 0
	err := quick(Options{}).Fetch(context.Background(), srv.URL+"/f.tar.gz", dest, want)
	var de *DigestError
	if !errors.As(err, &de) {
		t.Fatalf("got %v, want a *DigestError", err)
	}
	for _, s := range []string{srv.URL + "/f.tar.gz", want.SHA256, digestOf(payload).SHA256} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
	onlyFiles(t, dir) // neither dest nor a temp file

	want = digestOf(payload)
	want.Size--
	err = quick(Options{}).Fetch(context.Background(), srv.URL+"/f.tar.gz", dest, want)
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "size mismatch") {
		t.Fatalf("got %v, want a size mismatch", err)
	}
	onlyFiles(t, dir)
}

func TestFetchBasicAuth(t *testing.T) {
	srv, n := serve(t, func(_ int, w http.ResponseWriter, r *http.Request) bool {
		if u, p, ok := r.BasicAuth(); !ok || u != "builder" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="sources"`)
			http.Error(w, "no", http.StatusUnauthorized)
			return true
		}
		return false
	})
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		auth map[string]Auth
		want string // "" for success
	}{
		{"right password", map[string]Auth{host: {Username: "builder", Password: "s3cret"}}, ""},
		{"password from env", map[string]Auth{hostname(host): {Username: "builder", Password: "env:SLIPWAY_TEST_PASS"}}, ""},
		{"wrong password", map[string]Auth{host: {Username: "builder", Password: "wrong"}}, "401 Unauthorized: authentication failed: the server rejected the credentials"},
		{"no credentials", nil, "401 Unauthorized: authentication failed: the server wants credentials and none are configured"},
		{"credentials for another host", map[string]Auth{"example.com": {Username: "builder", Password: "s3cret"}}, "none are configured"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SLIPWAY_TEST_PASS", "s3cret")
			n.Store(0)
			dest := filepath.Join(t.TempDir(), "f")
			err := quick(Options{HostAuth: tt.auth}).Fetch(ctx, srv.URL+"/f", dest, digestOf(payload))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Code != 401 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "wrong") {
				t.Errorf("error shows the password: %v", err)
			}
			if n.Load() != 1 {
				t.Errorf("%d requests: a 401 must not be retried", n.Load())
			}
			if _, err := os.Stat(dest); err == nil {
				t.Error("dest created")
			}
		})
	}
}

func TestFetchBearerToken(t *testing.T) {
	srv, _ := serve(t, func(_ int, w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Bearer tok-123" {
			http.Error(w, "no", http.StatusForbidden)
			return true
		}
		return false
	})
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("tok-123\n"), 0o600)
	ctx := context.Background()
	dest := filepath.Join(t.TempDir(), "f")
	if err := quick(Options{Auth: Auth{Token: "file:" + tokenFile}}).Fetch(ctx, srv.URL+"/f", dest, digestOf(payload)); err != nil {
		t.Fatal(err)
	}
	err := quick(Options{Auth: Auth{Token: "tok-999"}}).Fetch(ctx, srv.URL+"/f", dest+"2", Digest{})
	if err == nil || !strings.Contains(err.Error(), "403 Forbidden: authentication failed") || strings.Contains(err.Error(), "tok-999") {
		t.Errorf("got %v", err)
	}
}

func TestFetchMissingSecret(t *testing.T) {
	srv, n := serve(t, nil)
	c := quick(Options{Auth: Auth{Username: "u", Password: "env:SLIPWAY_TEST_UNSET_VAR"}})
	err := c.Fetch(context.Background(), srv.URL+"/f", filepath.Join(t.TempDir(), "f"), Digest{})
	if err == nil || !strings.Contains(err.Error(), "password: environment variable SLIPWAY_TEST_UNSET_VAR is not set") {
		t.Fatalf("got %v", err)
	}
	if n.Load() != 0 {
		t.Errorf("%d requests made without the credentials", n.Load())
	}
}

func TestFetchRetries(t *testing.T) {
	for _, code := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv, n := serve(t, func(i int, w http.ResponseWriter, r *http.Request) bool {
				if i == 1 {
					http.Error(w, "busy", code)
					return true
				}
				return false
			})
			dest := filepath.Join(t.TempDir(), "f")
			if err := quick(Options{}).Fetch(context.Background(), srv.URL+"/f", dest, digestOf(payload)); err != nil {
				t.Fatal(err)
			}
			if n.Load() != 2 {
				t.Errorf("%d requests, want 2", n.Load())
			}
		})
	}
	t.Run("gives up", func(t *testing.T) {
		srv, n := serve(t, func(_ int, w http.ResponseWriter, r *http.Request) bool {
			http.Error(w, "down", http.StatusBadGateway)
			return true
		})
		dir := t.TempDir()
		err := quick(Options{Retries: 2}).Fetch(context.Background(), srv.URL+"/f", filepath.Join(dir, "f"), Digest{})
		if err == nil || !strings.Contains(err.Error(), "502 Bad Gateway (after 3 attempts)") {
			t.Errorf("got %v", err)
		}
		if n.Load() != 3 {
			t.Errorf("%d requests, want 3", n.Load())
		}
		onlyFiles(t, dir)
	})
}

func TestFetchNotFoundIsNotRetried(t *testing.T) {
	srv, n := serve(t, func(_ int, w http.ResponseWriter, r *http.Request) bool {
		http.NotFound(w, r)
		return true
	})
	dir := t.TempDir()
	err := quick(Options{}).Fetch(context.Background(), srv.URL+"/missing.tar.gz", filepath.Join(dir, "f"), Digest{})
	if !IsNotFound(err) || err.Error() != "fetch "+srv.URL+"/missing.tar.gz: 404 Not Found" {
		t.Errorf("got %v", err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1", n.Load())
	}
	onlyFiles(t, dir)
}

func TestFetchResumesInterruptedDownload(t *testing.T) {
	var ranges []string
	var mu sync.Mutex
	srv, n := serve(t, func(i int, w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range")+"|"+r.Header.Get("If-Range"))
		mu.Unlock()
		if i == 1 {
			// Half of the body, then the connection breaks.
			w.Header().Set("Content-Length", fmt.Sprint(len(payload)))
			w.Header().Set("ETag", `"v1"`)
			w.Write(payload[:len(payload)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		w.Header().Set("ETag", `"v1"`)
		return false
	})
	dest := filepath.Join(t.TempDir(), "f")
	if err := quick(Options{}).Fetch(context.Background(), srv.URL+"/f", dest, digestOf(payload)); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, payload) {
		t.Error("wrong content")
	}
	want := fmt.Sprintf(`[| bytes=%d-|"v1"]`, len(payload)/2)
	if n.Load() != 2 || fmt.Sprint(ranges) != want {
		t.Errorf("requests (Range|If-Range): %v, want %s", ranges, want)
	}
}

func TestFetchResumesEarlierRun(t *testing.T) {
	for _, tt := range []struct {
		name     string
		part     []byte
		requests int
	}{
		{"good partial", payload[:1000], 1},
		{"bad partial is downloaded again", bytes.Repeat([]byte("x"), 1000), 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := serve(t, nil)
			dir := t.TempDir()
			dest := filepath.Join(dir, "f")
			os.WriteFile(dest+".part", tt.part, 0o644)
			if err := quick(Options{}).Fetch(context.Background(), srv.URL+"/f", dest, digestOf(payload)); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(dest); !bytes.Equal(got, payload) {
				t.Error("wrong content")
			}
			if int(n.Load()) != tt.requests {
				t.Errorf("%d requests, want %d", n.Load(), tt.requests)
			}
			onlyFiles(t, dir, "f")
		})
	}
}

func TestFetchStallIsRetried(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv, n := serve(t, func(i int, w http.ResponseWriter, r *http.Request) bool {
		if i == 1 {
			w.Header().Set("Content-Length", fmt.Sprint(len(payload)))
			w.Write(payload[:100])
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return true
		}
		return false
	})
	dest := filepath.Join(t.TempDir(), "f")
	if err := quick(Options{Timeout: 200 * time.Millisecond}).Fetch(context.Background(), srv.URL+"/f", dest, digestOf(payload)); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 {
		t.Errorf("%d requests, want 2", n.Load())
	}
}

func TestFetchConcurrentSameDest(t *testing.T) {
	srv, n := serve(t, func(int, http.ResponseWriter, *http.Request) bool {
		time.Sleep(100 * time.Millisecond)
		return false
	})
	dir := t.TempDir()
	dest := filepath.Join(dir, "f")
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Go(func() {
			errs[i] = quick(Options{}).Fetch(context.Background(), srv.URL+"/f", dest, digestOf(payload))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1: the others should wait and find the file", n.Load())
	}
	onlyFiles(t, dir, "f")
}

func TestCredentialsStayWithTheirHost(t *testing.T) {
	var seen atomic.Value
	seen.Store("")
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Get("Authorization"))
		w.Write(payload)
	}))
	defer other.Close()
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := r.BasicAuth(); !ok {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, other.URL+"/f", http.StatusFound)
	}))
	defer mirror.Close()
	c := quick(Options{HostAuth: map[string]Auth{strings.TrimPrefix(mirror.URL, "http://"): {Username: "u", Password: "p"}}})
	if err := c.Fetch(context.Background(), mirror.URL+"/f", filepath.Join(t.TempDir(), "f"), digestOf(payload)); err != nil {
		t.Fatal(err)
	}
	if got := seen.Load().(string); got != "" {
		t.Errorf("the redirect target got credentials: %q", got)
	}
}

func TestFetchFileURL(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src.tar.gz")
	os.WriteFile(src, payload, 0o644)
	dest := filepath.Join(t.TempDir(), "f")
	if err := New(Options{}).Fetch(context.Background(), "file://"+src, dest, digestOf(payload)); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, payload) {
		t.Error("wrong content")
	}
	err := New(Options{}).Fetch(context.Background(), "file://"+src+".missing", dest+"2", Digest{})
	if !IsNotFound(err) {
		t.Errorf("got %v, want not found", err)
	}
	onlyFiles(t, filepath.Dir(dest), "f")
}

func TestFetchBadArguments(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "f")
	for _, tt := range []struct {
		url  string
		want Digest
		err  string
	}{
		{"ftp://user:pw@example.com/f", Digest{}, `fetch ftp://REDACTED@example.com/f: unsupported URL scheme "ftp": use http, https or file`},
		{"http://example.com/f", Digest{SHA256: "ABC"}, `fetch http://example.com/f: expected sha256 "ABC" is not 64 lowercase hex digits`},
		{"http://u:pw@exa mple.com/f", Digest{}, `fetch http://REDACTED@exa mple.com/f: malformed URL`},
	} {
		if err := New(Options{}).Fetch(context.Background(), tt.url, dest, tt.want); err == nil || err.Error() != tt.err {
			t.Errorf("Fetch(%s) = %v, want %s", tt.url, err, tt.err)
		}
	}
}

func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	srv, _ := serve(t, func(i int, w http.ResponseWriter, r *http.Request) bool {
		if i == 1 {
			http.Error(w, "later", http.StatusInternalServerError)
		} else {
			http.NotFound(w, r)
		}
		return true
	})
	var logs bytes.Buffer
	c := quick(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Auth: Auth{Token: "tok-in-header"}})
	secrets := []string{"hunter2", "sigsecret", "tok-in-header", "alice"}
	url := strings.Replace(srv.URL, "http://", "http://alice:hunter2@", 1) + "/f.tar.gz?sv=2024&sig=sigsecret"
	err := c.Fetch(context.Background(), url, filepath.Join(t.TempDir(), "f"), Digest{})
	if err == nil {
		t.Fatal("no error")
	}
	// A refused connection, too.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	err2 := c.Fetch(context.Background(), strings.Replace(closed.URL, "http://", "http://alice:hunter2@", 1)+"/f?token=tok-in-header",
		filepath.Join(t.TempDir(), "f"), Digest{})
	if err2 == nil {
		t.Fatal("no error from a closed server")
	}
	text := err.Error() + "\n" + err2.Error() + "\n" + logs.String()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%q leaked:\n%s", s, text)
		}
	}
	if !strings.Contains(err.Error(), "REDACTED@") || !strings.Contains(err.Error(), "sig=REDACTED") || !strings.Contains(logs.String(), "retrying") {
		t.Errorf("expected redacted URLs and a retry log:\n%s", text)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.com/a/b.tar.gz":                            "https://example.com/a/b.tar.gz",
		"https://user:pass@example.com/a":                           "https://REDACTED@example.com/a",
		"https://token@example.com/a":                               "https://REDACTED@example.com/a",
		"https://acct.blob.core.windows.net/c/f?sv=2024&sig=abc%2F": "https://acct.blob.core.windows.net/c/f?sig=REDACTED&sv=2024",
		"https://s3/x?X-Amz-Signature=abc&X-Amz-Credential=k":       "https://s3/x?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED",
		"https://u:p@exa mple.com/%zz?sig=1":                        "https://REDACTED@exa mple.com/%zz",
		"file:///srv/sources/f":                                     "file:///srv/sources/f",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolveSecret(t *testing.T) {
	t.Setenv("SLIPWAY_TEST_SECRET", "from-env")
	t.Setenv("SLIPWAY_TEST_EMPTY", "")
	file := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(file, []byte("from-file\r\n"), 0o600)
	for in, want := range map[string]string{
		"literal":                 "literal",
		"env:SLIPWAY_TEST_SECRET": "from-env",
		"file:" + file:            "from-file",
	} {
		if got, err := ResolveSecret(in); err != nil || got != want {
			t.Errorf("ResolveSecret(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"env:SLIPWAY_TEST_UNSET": "environment variable SLIPWAY_TEST_UNSET is not set",
		"env:SLIPWAY_TEST_EMPTY": "environment variable SLIPWAY_TEST_EMPTY is empty",
		"env:1BAD":               `"1BAD": env: must be followed by a variable name`,
		"file:" + file + ".no":   "no such file or directory",
		"file:":                  "file: must be followed by a path",
	} {
		if _, err := ResolveSecret(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ResolveSecret(%q) = %v, want an error containing %q", in, err, want)
		}
	}
	a := Auth{Username: "u", Password: "p", Token: "t"}
	if s := fmt.Sprintf("%v %+v %#v", a, a, a); strings.Contains(s, "p}") || strings.Contains(s, ":p") {
		t.Errorf("formatting an Auth shows secrets: %s", s)
	}
	if _, err := a.resolve(); err == nil || !strings.Contains(err.Error(), "both a token and basic auth") {
		t.Errorf("token with basic auth: %v", err)
	}
}

func TestFetchKeepsPartialForALaterRun(t *testing.T) {
	broken := true
	var ranges []string
	srv, _ := serve(t, func(_ int, w http.ResponseWriter, r *http.Request) bool {
		ranges = append(ranges, r.Header.Get("Range"))
		if broken {
			w.Header().Set("Content-Length", fmt.Sprint(len(payload)))
			w.Write(payload[:1000])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		return false
	})
	dir := t.TempDir()
	dest := filepath.Join(dir, "f")
	if err := quick(Options{Retries: -1}).Fetch(context.Background(), srv.URL+"/f", dest, digestOf(payload)); err == nil {
		t.Fatal("no error from a broken download")
	}
	onlyFiles(t, dir, "f.part")
	broken = false
	if err := quick(Options{}).Fetch(context.Background(), srv.URL+"/f", dest, digestOf(payload)); err != nil {
		t.Fatal(err)
	}
	onlyFiles(t, dir, "f")
	if fmt.Sprint(ranges) != "[ bytes=1000-]" {
		t.Errorf("ranges asked for: %q", ranges)
	}
}
