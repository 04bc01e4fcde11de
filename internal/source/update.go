package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"slipway/internal/fetch"
	"slipway/internal/fsutil"
	"slipway/internal/spec"
)

// UpdateSignatures is for a packager changing a spec's Sources (a new
// version): every Source is taken from specDir, else from the cache when
// its current signature is still there, else downloaded without checking
// it against the old signature (from Options.URLs, then, if allowed, the
// Source's own URL) and added to the cache under its real hash. Then the
// signatures file is rewritten to list exactly the spec's Sources. If any
// Source cannot be had, the file is left unchanged.
func UpdateSignatures(ctx context.Context, info *spec.Info, specDir string, opts Options) ([]File, error) {
	opts, cache, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	sigPath := SignaturesPath(info, specDir)
	old, err := ReadSignatures(sigPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	names, err := sourceNames(info)
	if err != nil {
		return nil, err
	}
	r := resolver{info: info, specDir: specDir, opts: opts, cache: cache, sigPath: sigPath}
	var files []File
	var errs []error
	for i, src := range info.Sources {
		f, err := r.unverified(ctx, src, names[i], old[names[i]])
		if err != nil {
			if ctx.Err() != nil {
				return files, err
			}
			errs = append(errs, err)
			continue
		}
		files = append(files, f)
	}
	if err := errors.Join(errs...); err != nil {
		return files, fmt.Errorf("%s not updated: %w", sigPath, err)
	}
	sigs := map[string]string{}
	for _, f := range files {
		sigs[f.Name] = f.SHA256
	}
	return files, WriteSignatures(sigPath, sigs)
}

// unverified finds one Source and hashes it; oldSum is its signature so far.
func (r *resolver) unverified(ctx context.Context, src, name, oldSum string) (File, error) {
	f := File{Name: name, Source: src}
	local := filepath.Join(r.specDir, name)
	if fi, err := os.Stat(local); err == nil && fi.Mode().IsRegular() {
		sum, err := fsutil.SHA256File(local)
		if err != nil {
			return f, err
		}
		f.Path, f.SHA256, f.Origin = local, sum, SpecDir
		return f, nil
	}
	if oldSum != "" {
		if p, ok := r.cache.Lookup(oldSum); ok {
			f.Path, f.SHA256, f.Origin = p, oldSum, Cached
			return f, nil
		}
	}
	var tried []error
	for _, c := range r.candidates(src, name) {
		path, sum, err := r.download(ctx, c.url, name)
		if err == nil {
			f.Path, f.SHA256, f.Origin, f.URL = path, sum, c.origin, fetch.Redact(c.url)
			r.opts.Logger.Info("downloaded source", "spec", r.specName(), "file", name, "url", f.URL, "sha256", sum)
			return f, nil
		}
		if ctx.Err() != nil {
			return f, err
		}
		tried = append(tried, err)
	}
	return f, r.notFound(src, name, oldSum, tried)
}

// download fetches a file of unknown content and adds it to the cache.
func (r *resolver) download(ctx context.Context, rawURL, name string) (path, sum string, err error) {
	if err := os.MkdirAll(r.cache.incoming(), 0o755); err != nil {
		return "", "", err
	}
	tmp, err := os.CreateTemp(r.cache.incoming(), "dl-")
	if err != nil {
		return "", "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // no-op once added
	if err := r.opts.Fetcher.Fetch(ctx, rawURL, tmp.Name(), fetch.Digest{}); err != nil {
		return "", "", err
	}
	if sum, err = fsutil.SHA256File(tmp.Name()); err != nil {
		return "", "", err
	}
	path, err = r.cache.add(tmp.Name(), sum)
	return path, sum, err
}
