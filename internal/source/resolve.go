package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"slipway/internal/fetch"
	"slipway/internal/fsutil"
	"slipway/internal/spec"
)

// Origin says where a source file was found.
type Origin string

const (
	SpecDir  Origin = "spec-dir" // a file next to the spec
	Cached   Origin = "cache"    // the source cache
	Mirror   Origin = "mirror"   // downloaded from one of Options.URLs
	Upstream Origin = "upstream" // downloaded from the URL in the spec
)

// File is one resolved Source of a spec.
type File struct {
	Name   string // the file name rpm looks for in %_sourcedir
	Source string // the Source value as the spec gives it
	Path   string // where the file is
	SHA256 string // its content, lowercase hex
	Origin Origin
	URL    string // where it was downloaded from (redacted); "" unless Mirror or Upstream
}

// Fetcher downloads a URL to dest, verifying want when set (see
// fetch.Client, which implements it).
type Fetcher interface {
	Fetch(ctx context.Context, url, dest string, want fetch.Digest) error
}

// Options say where sources are looked for.
type Options struct {
	// URLs are base URLs tried in order: a file is fetched from
	// <base>/<file name>, like Azure Linux's SOURCE_URL.
	URLs []string
	// AllowUpstream also tries a Source's own URL, after URLs.
	AllowUpstream bool
	// CacheDir is the source cache; "" means DefaultCacheDir.
	CacheDir string
	// Fetcher downloads; nil means a fetch.Client with default options.
	Fetcher Fetcher
	// Logger receives one line per downloaded file. Default: none.
	Logger *slog.Logger
	// Offline downloads nothing: a Source not in the spec directory or
	// the source cache is not found.
	Offline bool
}

func (o Options) withDefaults() (Options, Cache, error) {
	if o.CacheDir == "" {
		dir, err := DefaultCacheDir()
		if err != nil {
			return o, Cache{}, err
		}
		o.CacheDir = dir
	}
	if o.Fetcher == nil {
		o.Fetcher = fetch.New(fetch.Options{Logger: o.Logger})
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, Cache{Dir: o.CacheDir}, nil
}

// FileName is the file name rpm gives a Source or Patch value: what
// follows its last '/' (so "URL#/name" gives "name") and, in that, what
// follows the last '=' ("...?file=name" gives "name").
func FileName(src string) (string, error) {
	name := src
	if i := strings.LastIndexByte(src, '/'); i >= 0 {
		name = src[i+1:]
		if j := strings.LastIndexByte(name, '='); j >= 0 {
			name = name[j+1:]
		}
	}
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("source %q gives no usable file name", src)
	}
	return name, nil
}

// Resolve finds every Source of a spec (not its patches, which are files
// in specDir): in specDir, else in the source cache by its signature, else
// downloaded into the cache from Options.URLs in order and then, if
// allowed, from the Source's own URL. Each file is verified against the
// spec's signatures file; a download that does not match is deleted.
// Every Source is tried; the errors (*MismatchError, *MissingSignatureError,
// *NotFoundError) are joined, and the files found are returned with them.
func Resolve(ctx context.Context, info *spec.Info, specDir string, opts Options) ([]File, error) {
	if len(info.Sources) == 0 {
		return nil, nil
	}
	opts, cache, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	sigPath := SignaturesPath(info, specDir)
	sigs, err := ReadSignatures(sigPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has %d Sources but no signatures file %s: create it (update the signatures)",
			filepath.Base(info.Path), len(info.Sources), sigPath)
	}
	if err != nil {
		return nil, err
	}
	r := resolver{info: info, specDir: specDir, opts: opts, cache: cache, sigPath: sigPath}
	names, err := sourceNames(info)
	if err != nil {
		return nil, err
	}
	var files []File
	var errs []error
	for i, src := range info.Sources {
		f, err := r.verified(ctx, src, names[i], sigs)
		if err != nil {
			if ctx.Err() != nil {
				return files, err
			}
			errs = append(errs, err)
			continue
		}
		files = append(files, f)
	}
	return files, errors.Join(errs...)
}

// sourceNames returns the file name of every Source, checking they differ.
func sourceNames(info *spec.Info) ([]string, error) {
	names := make([]string, len(info.Sources))
	seen := map[string]string{}
	for i, src := range info.Sources {
		name, err := FileName(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", info.Path, err)
		}
		if other, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s: Sources %q and %q are both the file %s", info.Path, other, src, name)
		}
		seen[name] = src
		names[i] = name
	}
	return names, nil
}

type resolver struct {
	info    *spec.Info
	specDir string
	opts    Options
	cache   Cache
	sigPath string
}

// verified finds one Source and checks it against sigs.
func (r *resolver) verified(ctx context.Context, src, name string, sigs map[string]string) (File, error) {
	want, signed := sigs[name]
	f := File{Name: name, Source: src}
	local := filepath.Join(r.specDir, name)
	if fi, err := os.Stat(local); err == nil && fi.Mode().IsRegular() {
		got, err := fsutil.SHA256File(local)
		if err != nil {
			return f, err
		}
		switch {
		case !signed:
			return f, &MissingSignatureError{Signatures: r.sigPath, File: name, Spec: r.specName(), Got: got}
		case got != want:
			return f, &MismatchError{Signatures: r.sigPath, File: name, Want: want, Got: got, From: local}
		}
		f.Path, f.SHA256, f.Origin = local, got, SpecDir
		return f, nil
	}
	if !signed {
		return f, &MissingSignatureError{Signatures: r.sigPath, File: name, Spec: r.specName()}
	}
	f.SHA256 = want
	if p, ok := r.cache.Lookup(want); ok {
		f.Path, f.Origin = p, Cached
		return f, nil
	}
	var tried []error
	var mismatch *MismatchError
	for _, c := range r.candidates(src, name) {
		err := r.opts.Fetcher.Fetch(ctx, c.url, r.cache.Path(want), fetch.Digest{SHA256: want})
		if err == nil {
			f.Path, f.Origin, f.URL = r.cache.Path(want), c.origin, fetch.Redact(c.url)
			r.opts.Logger.Info("downloaded source", "spec", r.specName(), "file", name, "url", f.URL)
			return f, nil
		}
		if ctx.Err() != nil {
			return f, err
		}
		var de *fetch.DigestError
		if errors.As(err, &de) && mismatch == nil {
			mismatch = &MismatchError{Signatures: r.sigPath, File: name, Want: want, Got: de.SHA256, From: de.URL}
			continue
		}
		tried = append(tried, err)
	}
	if mismatch != nil {
		mismatch.Others = tried
		return f, mismatch
	}
	return f, r.notFound(src, name, want, tried)
}

func (r *resolver) specName() string { return filepath.Base(r.info.Path) }

type candidate struct {
	url    string
	origin Origin
}

// candidates are the URLs a Source may be downloaded from, in order.
func (r *resolver) candidates(src, name string) []candidate {
	if r.opts.Offline {
		return nil
	}
	var out []candidate
	for _, base := range r.opts.URLs {
		if u, err := mirrorURL(base, name); err == nil {
			out = append(out, candidate{u, Mirror})
		}
	}
	if r.opts.AllowUpstream && isDownloadable(src) {
		out = append(out, candidate{src, Upstream})
	}
	return out
}

// mirrorURL is <base>/<name>, keeping a query of base (e.g. a SAS token).
func mirrorURL(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	return u.JoinPath(name).String(), nil
}

// isDownloadable reports whether a Source is a URL fetch can download.
func isDownloadable(src string) bool {
	u, err := url.Parse(src)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (r *resolver) notFound(src, name, sum string, tried []error) error {
	e := &NotFoundError{Spec: r.specName(), File: name, SpecDir: r.specDir, Tried: tried, Offline: r.opts.Offline}
	if sum != "" {
		e.Cache = r.cache.Path(sum)
	}
	switch {
	case r.opts.Offline:
		e.Hint = "offline, nothing is downloaded: run once without --offline, or import a cache that has it (slipway cache import)"
	case len(r.opts.URLs) == 0 && !r.opts.AllowUpstream && isDownloadable(src):
		e.Hint = "set sources.urls to a source server, or sources.allow_upstream = true to download it from " + fetch.Redact(src)
	case len(r.opts.URLs) == 0 && !r.opts.AllowUpstream:
		e.Hint = "put it next to the spec, or set sources.urls to a source server that has it"
	case !r.opts.AllowUpstream && isDownloadable(src):
		e.Hint = "put it on a source server, or set sources.allow_upstream = true to download it from " + fetch.Redact(src)
	default:
		e.Hint = "put it next to the spec or on a source server"
	}
	return e
}
