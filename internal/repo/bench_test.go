package repo

import (
	"bytes"
	"context"
	"testing"

	"slipway/internal/repo/repotest"
)

// The benchmarks use 2,000 synthetic packages; go run ./bench/repo
// measures 20,000 in separate processes, with peak memory.
const benchPackages = 2000

func BenchmarkParsePrimary(b *testing.B) {
	data := repotest.Primary(benchPackages)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParsePrimary(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSnapshot(b *testing.B) {
	pkgs, err := ParsePrimary(bytes.NewReader(repotest.Primary(benchPackages)))
	if err != nil {
		b.Fatal(err)
	}
	data := encodePackages(pkgs)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := decodePackages(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadWarm(b *testing.B) {
	dir := b.TempDir()
	if _, err := repotest.WriteRepodata(dir, "gz", "sha256", repotest.File{Type: "primary", XML: repotest.Primary(benchPackages)}); err != nil {
		b.Fatal(err)
	}
	cfg, opts := RepoConfig{ID: "b", BaseURLs: []string{dir}}, Options{CacheDir: b.TempDir()}
	if _, err := Load(context.Background(), cfg, opts); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Load(context.Background(), cfg, opts); err != nil {
			b.Fatal(err)
		}
	}
}
