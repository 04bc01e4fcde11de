package fetch

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// ReadHead asks for a range, copes with a server that ignores it, retries
// a transient failure, and reads file:// URLs.
func TestReadHead(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789"), 100000) // 1 MB
	var ranges []string
	var fails atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ranged":
			ranges = append(ranges, r.Header.Get("Range"))
			http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(content))
		case "/whole": // ignores Range
			w.Write(content)
		case "/flaky":
			if fails.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Write(content)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := New(Options{Backoff: time.Millisecond})
	ctx := context.Background()
	for _, path := range []string{"/ranged", "/whole", "/flaky"} {
		data, err := c.ReadHead(ctx, srv.URL+path, 1000)
		if err != nil || !bytes.Equal(data, content[:1000]) {
			t.Errorf("%s: %d bytes, %v", path, len(data), err)
		}
	}
	if strings.Join(ranges, " ") != "bytes=0-999" {
		t.Errorf("ranges asked for: %v", ranges)
	}
	if data, err := c.ReadHead(ctx, srv.URL+"/ranged", 2<<20); err != nil || len(data) != len(content) {
		t.Errorf("more than the file: %d bytes, %v", len(data), err)
	}
	var se *StatusError
	if _, err := c.ReadHead(ctx, srv.URL+"/nothing", 1000); !errors.As(err, &se) || se.Code != 404 || !IsNotFound(err) {
		t.Errorf("missing: %v", err)
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, content, 0o644)
	if data, err := c.ReadHead(ctx, "file://"+file, 10); err != nil || string(data) != "0123456789" {
		t.Errorf("file: %q, %v", data, err)
	}
}
