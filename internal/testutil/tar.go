package testutil

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"
)

// ReadTarGz reads a .tar.gz file into name -> header and name -> contents,
// names without a leading "./" or "/" or a trailing "/".
func ReadTarGz(t testing.TB, path string) (map[string]*tar.Header, map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	hdrs, data := map[string]*tar.Header{}, map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")
		b, _ := io.ReadAll(tr)
		hdrs[strings.TrimSuffix(name, "/")], data[strings.TrimSuffix(name, "/")] = h, string(b)
	}
	return hdrs, data
}
