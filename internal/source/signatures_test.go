package source

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"slipway/internal/testutil"
)

func TestSignaturesRoundTripSample(t *testing.T) {
	sample := testutil.SampleDir(t)
	for _, name := range []string{"kexec-tools", "curl", "systemd"} {
		path := filepath.Join(sample, "specs", name, name+".signatures.json")
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sigs, err := ReadSignatures(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(sigs) == 0 {
			t.Fatalf("%s: no signatures read", path)
		}
		out := filepath.Join(t.TempDir(), name+".signatures.json")
		if err := WriteSignatures(out, sigs); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(out)
		// Same bytes; some files of the sample lack the final newline.
		if !bytes.Equal(bytes.TrimSuffix(got, []byte("\n")), bytes.TrimSuffix(orig, []byte("\n"))) {
			t.Errorf("%s: rewritten differently:\n%s\nwant\n%s", name, got, orig)
		}
		if !bytes.HasSuffix(got, []byte("}\n")) {
			t.Errorf("%s: no final newline", name)
		}
	}
}

func TestWriteSignatures(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.signatures.json")
	sigs := map[string]string{
		"z.tar.gz":   strings.Repeat("a", 64),
		"a&b<c>.txt": strings.Repeat("0", 64),
	}
	if err := WriteSignatures(path, sigs); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "{\n \"Signatures\": {\n  \"a&b<c>.txt\": \"" + strings.Repeat("0", 64) + "\",\n  \"z.tar.gz\": \"" + strings.Repeat("a", 64) + "\"\n }\n}\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	back, err := ReadSignatures(path)
	if err != nil || !reflect.DeepEqual(back, sigs) {
		t.Errorf("read back %v, %v", back, err)
	}
	if err := WriteSignatures(path, map[string]string{"x": "ABC"}); err == nil || !strings.Contains(err.Error(), `"x": "ABC" is not a SHA-256`) {
		t.Errorf("bad hash written: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	if err := WriteSignatures(path, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "{\n \"Signatures\": {}\n}\n" {
		t.Errorf("empty: %q", got)
	}
}

func TestReadSignaturesErrors(t *testing.T) {
	dir := t.TempDir()
	for doc, want := range map[string]string{
		`{"Signatures": {"a": "` + strings.Repeat("A", 64) + `"}}`: `a: "AAAA`,
		`{"Signature": {}}`:                      `unknown field "Signature"`,
		`{"Signatures": ["a"]}`:                  "cannot unmarshal array",
		`{"Signatures": {}} {}`:                  "data after the JSON object",
		`{"Signatures": {"a": "` + "abc" + `"}}`: `"abc" is not a SHA-256`,
	} {
		path := filepath.Join(dir, "x.signatures.json")
		os.WriteFile(path, []byte(doc), 0o644)
		_, err := ReadSignatures(path)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("ReadSignatures(%s) = %v, want an error naming the file and %q", doc, err, want)
		}
	}
}

func TestFileName(t *testing.T) {
	for src, want := range map[string]string{
		"hello.conf": "hello.conf",
		"https://curl.haxx.se/download/curl-8.11.1.tar.gz":         "curl-8.11.1.tar.gz",
		"https://github.com/o/r/archive/v1.0.tar.gz#/r-1.0.tar.gz": "r-1.0.tar.gz",
		"https://example.com/download.php?file=x-1.tar.gz":         "x-1.tar.gz",
		"https://example.com/dl?a=1&file=y-2.zip":                  "y-2.zip",
		"a=b.txt":            "a=b.txt",
		"%{_sourcedir}/../x": "x",
		"https://github.com/lucchouina/eppic/archive/e8844d3/eppic-e8844d3.tar.gz": "eppic-e8844d3.tar.gz",
	} {
		if got, err := FileName(src); err != nil || got != want {
			t.Errorf("FileName(%q) = %q, %v; want %q", src, got, err, want)
		}
	}
	for _, src := range []string{"", "https://example.com/", "https://x/..", "dir/."} {
		if got, err := FileName(src); err == nil {
			t.Errorf("FileName(%q) = %q, want an error", src, got)
		}
	}
}
