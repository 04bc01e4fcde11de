package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A Source known only by its signature counts with that; one without a
// signature is an error naming the signatures file.
func TestSRPMDigestsFromSignatures(t *testing.T) {
	info, dir := helloSpec(t, "https://upstream.invalid", goodSigs())
	have, err := SRPMDigests(info, dir)
	if err != nil {
		t.Fatal(err)
	}
	if have["hello-1.0.tar.gz"] != sum(tarball) || have["hello.conf"] != sum(conf) || len(have) != 4 {
		t.Errorf("digests: %v", have)
	}
	os.Remove(filepath.Join(dir, "hello.signatures.json"))
	var missing *MissingSignatureError
	if _, err := SRPMDigests(info, dir); !errors.As(err, &missing) || missing.File != "hello-1.0.tar.gz" {
		t.Errorf("without signatures: %v", err)
	}
}

// Offline, a Source outside the cache is not downloaded, and the error
// says why; one in the cache is used.
func TestResolveOffline(t *testing.T) {
	mirror := newServer(t, map[string][]byte{"/sources/hello-1.0.tar.gz": tarball})
	info, dir := helloSpec(t, "https://upstream.invalid", goodSigs())
	o := opts(t, mirror.URL+"/sources")
	o.Offline = true
	_, err := Resolve(context.Background(), info, dir, o)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "offline, nothing is downloaded") ||
		strings.Contains(err.Error(), "no URL") || mirror.requests() != 0 {
		t.Fatalf("offline, not cached: %v (%d requests)", err, mirror.requests())
	}
	o.Offline = false
	if _, err := Resolve(context.Background(), info, dir, o); err != nil {
		t.Fatal(err)
	}
	o.Offline = true
	files, err := Resolve(context.Background(), info, dir, o)
	if err != nil || origins(files) != "hello-1.0.tar.gz=cache hello.conf=spec-dir" || mirror.requests() != 1 {
		t.Errorf("offline, cached: %s, %v, %d requests", origins(files), err, mirror.requests())
	}
}
