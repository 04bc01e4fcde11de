// Package srpms finds published source RPMs by name, version and release:
// among the source packages of rpm-md repositories (checked against their
// checksums), or under an ordered list of base URLs, like Azure Linux's
// SRPM_URL_LIST (checked by rpm's own digests and, with keys, signature).
package srpms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"slipway/internal/fetch"
	"slipway/internal/fsutil"
	"slipway/internal/repo"
	"slipway/internal/rpm"
	"slipway/internal/spec"
)

// Finder finds published source RPMs.
type Finder struct {
	// Repos are searched first, in order, for a source package (arch
	// "src") of the name and EVR.
	Repos []*repo.Repo
	// URLs are base URLs tried next, in order: <url>/<name>-<version>-<release>.src.rpm.
	URLs   []string
	Client *fetch.Client // for URLs; nil: fetch's defaults
	// CacheDir keeps the downloads (under srpms/). Required.
	CacheDir string
	// Offline: only source RPMs already in the cache are found.
	Offline bool
	// Verify checks a file downloaded from URLs (rpm's digests, and
	// signature when keys are given) before it is used. Required.
	Verify func(ctx context.Context, path string) error
	// HeadersOnly lets Header download only the start of a source RPM
	// under URLs (for its file digests): set it when no signature is
	// required, as one cannot be checked without the rest.
	HeadersOnly bool
}

// NotFoundError says no repository or URL has the source RPM.
type NotFoundError struct {
	File  string
	Tried []string // what was tried, redacted
}

func (e *NotFoundError) Error() string {
	if len(e.Tried) == 0 {
		return e.File + ": no source repository or srpm_urls to look for it in"
	}
	return e.File + " is not published: " + strings.Join(e.Tried, "; ")
}

// FileName is the file name of a source RPM.
func FileName(nevr spec.NEVR) string {
	return nevr.Name + "-" + nevr.Version + "-" + nevr.Release + ".src.rpm"
}

// Find returns the path of the source RPM nevr, downloaded into the cache
// (or already there), and where it is published (a URL, redacted). A
// *NotFoundError says nobody has it; other errors are failed downloads
// or files that are not what they should be.
func (f *Finder) Find(ctx context.Context, nevr spec.NEVR) (path, from string, err error) {
	return f.find(ctx, nevr, false)
}

// Header is Find for what rpm.PayloadDigests reads: with HeadersOnly, of
// a source RPM under URLs only the start, up to the end of its header, is
// downloaded (and checked by the header's own SHA-256, as there is no
// signature to check without the rest); otherwise it is Find.
func (f *Finder) Header(ctx context.Context, nevr spec.NEVR) (path, from string, err error) {
	return f.find(ctx, nevr, f.HeadersOnly)
}

func (f *Finder) find(ctx context.Context, nevr spec.NEVR, head bool) (path, from string, err error) {
	file := FileName(nevr)
	want := rpm.EVR{Epoch: nevr.Epoch, Version: nevr.Version, Release: nevr.Release}
	notFound := &NotFoundError{File: file}
	for _, r := range f.Repos { // whole files: the checksums are of them
		for _, p := range r.ByName(nevr.Name) {
			if p.Arch != "src" || rpm.CompareEVR(p.EVR, want) != 0 {
				continue
			}
			path, err := r.DownloadPackage(ctx, p, filepath.Join(f.CacheDir, "srpms", r.ID))
			if err != nil {
				return "", "", fmt.Errorf("source RPM %s from repository %s: %w", file, r.ID, err)
			}
			return path, fetch.Redact(r.PackageURL(p)), nil
		}
		notFound.Tried = append(notFound.Tried, "repository "+r.ID+" has no such source package")
	}
	if len(f.URLs) == 0 {
		return "", "", notFound
	}
	// One cache directory per list of URLs: pointed elsewhere, a source
	// RPM counts as published only if the new place has it.
	key := sha256.Sum256([]byte(strings.Join(f.URLs, "\n")))
	dest := filepath.Join(f.CacheDir, "srpms", "urls-"+hex.EncodeToString(key[:8]), file)
	get, check := f.fetchWhole, f.check
	if head {
		dest += ".head"
		get, check = f.fetchHead, checkHead
	}
	if from, err := os.ReadFile(dest + ".from"); err == nil {
		if err := check(ctx, dest, nevr); err == nil {
			return dest, string(from), nil
		}
		os.Remove(dest) // damaged: fetched again
	}
	if f.Offline {
		notFound.Tried = append(notFound.Tried, "offline, and it is not in the cache ("+dest+")")
		return "", "", notFound
	}
	for _, base := range f.URLs {
		u := strings.TrimSuffix(base, "/") + "/" + file
		err := get(ctx, u, dest)
		if fetch.IsNotFound(err) {
			notFound.Tried = append(notFound.Tried, fetch.Redact(u)+": not found")
			continue
		}
		if err == nil {
			if err = check(ctx, dest, nevr); err != nil {
				os.Remove(dest)
			}
		}
		if err == nil {
			err = fsutil.WriteFileAtomic(dest+".from", []byte(fetch.Redact(u)), 0o644)
		}
		if err != nil {
			return "", "", fmt.Errorf("source RPM %s from %s: %w", file, fetch.Redact(u), err)
		}
		return dest, fetch.Redact(u), nil
	}
	return "", "", notFound
}

func (f *Finder) client() *fetch.Client {
	if f.Client == nil {
		return fetch.New(fetch.Options{})
	}
	return f.Client
}

// fetchWhole downloads the source RPM at u to dest.
func (f *Finder) fetchWhole(ctx context.Context, u, dest string) error {
	return f.client().Fetch(ctx, u, dest, fetch.Digest{})
}

// fetchHead writes the start of the RPM at u, up to the end of its
// header, to dest: a first read of 64 KiB mostly holds it (a long
// %changelog makes a header larger), else one more read of what it said
// it needs.
func (f *Finder) fetchHead(ctx context.Context, u, dest string) error {
	n := int64(64 << 10)
	for range 3 {
		data, err := f.client().ReadHead(ctx, u, n)
		if err != nil {
			return err
		}
		end, err := rpm.HeaderEnd(data)
		switch {
		case err == nil && int64(len(data)) >= end:
			return fsutil.WriteFileAtomic(dest, data[:end], 0o644)
		case err != nil && !errors.Is(err, rpm.ErrShortHeader):
			return err
		case int64(len(data)) < n:
			return fmt.Errorf("the file ends at byte %d, inside its header", len(data))
		}
		n = end
	}
	return fmt.Errorf("cannot find the end of its header")
}

// check verifies a file from URLs: whole, signed if keys are given, and
// the source package it is named after.
func (f *Finder) check(ctx context.Context, path string, nevr spec.NEVR) error {
	if f.Verify == nil {
		return errors.New("srpms.Finder: no Verify function")
	}
	if err := f.Verify(ctx, path); err != nil {
		return err
	}
	return isPackage(path, nevr)
}

// checkHead verifies the start of a source RPM: its header has the
// SHA-256 its signature header records, and is the package's.
func checkHead(_ context.Context, path string, nevr spec.NEVR) error {
	if err := rpm.CheckHeaderDigest(path); err != nil {
		return err
	}
	return isPackage(path, nevr)
}

// isPackage checks that the RPM at path is the source package nevr.
func isPackage(path string, nevr spec.NEVR) error {
	h, err := rpm.ReadHeader(path)
	if err != nil {
		return err
	}
	if h.SourceRPM != "" || h.Name != nevr.Name || h.Version != nevr.Version || h.Release != nevr.Release {
		return fmt.Errorf("the file holds %s-%s-%s, not the source package %s", h.Name, h.Version, h.Release, FileName(nevr))
	}
	return nil
}

// Published is a source RPM a build rebuilds instead of packing its spec
// (download_srpms).
type Published struct {
	Path, From string // the downloaded file, and where it is published
	// Key is the file's name and SHA-256: the build's input in place of
	// its spec directory and sources.
	Key string
}

// Published finds the source RPM nevr (as Find) for a build.
func (f *Finder) Published(ctx context.Context, nevr spec.NEVR) (*Published, error) {
	path, from, err := f.Find(ctx, nevr)
	if err != nil {
		return nil, err
	}
	sum, err := fsutil.SHA256File(path)
	if err != nil {
		return nil, err
	}
	return &Published{Path: path, From: from, Key: filepath.Base(path) + " " + sum}, nil
}

// Place links the source RPM into dir for the build, saying so in log,
// and returns its path there.
func (p *Published) Place(dir string, log io.Writer) (string, error) {
	fmt.Fprintf(log, "slipway: rebuilding the published %s (from %s)\n", filepath.Base(p.Path), p.From)
	dest := filepath.Join(dir, filepath.Base(p.Path))
	return dest, fsutil.LinkInto(p.Path, dest)
}
