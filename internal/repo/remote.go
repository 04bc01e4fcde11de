package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"slipway/internal/fetch"
	"slipway/internal/fsutil"
	"slipway/internal/rpmsig"
)

// Options configure how repositories are read.
type Options struct {
	// CacheDir holds the metadata of each repository under
	// repos/<hash of its base URLs>/. Required.
	CacheDir string
	// Client downloads; nil means one that sends the repository's Auth to
	// the hosts of its base URLs only.
	Client *fetch.Client
	Logger *slog.Logger // default: none
}

// Repo is a repository's metadata, loaded. Its Index is safe for
// concurrent use, and so are its methods.
type Repo struct {
	*Index
	ID      string
	BaseURL string // the base URL (mirror) the metadata came from
	MD      *RepoMD

	client  *fetch.Client
	dir     string // this repository's cache directory
	log     *slog.Logger
	offline bool // downloads only from the download directory (Pinned)

	keys     *rpmsig.Keyring // packages must be signed by these (gpgcheck); nil: not checked
	verified string          // where passed signature checks are recorded, by package checksum

	filesMu sync.Mutex
	files   map[string][]int32 // path -> packages, from filelists once loaded
}

// Load reads a repository's metadata: repodata/repomd.xml from the first
// base URL that answers, then its primary data. Base URLs are http(s)://,
// file:// or plain directory paths. repomd.xml is fetched every time;
// the packages are parsed once per primary checksum and kept in the cache
// as a snapshot, so while primary does not change a load neither
// downloads nor parses it. Every file is checked against its checksum.
//
// GPG: with repo_gpgcheck, repomd.xml must come with a valid detached
// signature (repodata/repomd.xml.asc) by one of the gpgkey keys, checked
// before the metadata is used. With gpgcheck, every package DownloadPackage
// returns must be signed by one of them (see WithKeys). Either needs
// gpgkey: its files (paths, file:// or http(s):// URLs, fetched with the
// repository's client) are fetched and imported on every Load, and a
// missing one fails it.
//
// mirrorlist and metalink are not supported.
func Load(ctx context.Context, cfg RepoConfig, opts Options) (*Repo, error) {
	if opts.CacheDir == "" {
		return nil, fmt.Errorf("repository %s: no cache directory given", cfg.ID)
	}
	if len(cfg.BaseURLs) == 0 {
		if cfg.Extra["mirrorlist"] != "" || cfg.Extra["metalink"] != "" {
			return nil, fmt.Errorf("repository %s: mirrorlist and metalink are not supported: set baseurl", cfg.ID)
		}
		return nil, fmt.Errorf("repository %s: no baseurl", cfg.ID)
	}
	urls := make([]string, len(cfg.BaseURLs))
	for i, u := range cfg.BaseURLs {
		var err error
		if urls[i], err = normalizeURL(u); err != nil {
			return nil, fmt.Errorf("repository %s: %w", cfg.ID, err)
		}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	client := opts.Client
	if client == nil {
		client = fetch.ForHosts(urls, cfg.Auth(), logger)
	}
	var keys, mdKeys *rpmsig.Keyring
	if cfg.GPGCheck || cfg.RepoGPGCheck {
		if len(cfg.GPGKeys) == 0 {
			check := "gpgcheck"
			if !cfg.GPGCheck {
				check = "repo_gpgcheck"
			}
			return nil, fmt.Errorf("repository %s: %s is on but no gpgkey is given: set gpgkey or %s=0", cfg.ID, check, check)
		}
		var err error
		if keys, err = loadKeys(ctx, cfg.GPGKeys, client, opts.CacheDir, false); err != nil {
			return nil, fmt.Errorf("repository %s: %w", cfg.ID, err)
		}
		if cfg.RepoGPGCheck {
			mdKeys = keys
		}
	}
	key := sha256.Sum256([]byte(strings.Join(urls, "\n")))
	dir := filepath.Join(opts.CacheDir, "repos", hex.EncodeToString(key[:8]))
	var errs []error
	for _, u := range urls {
		r := &Repo{ID: cfg.ID, BaseURL: u, client: client, dir: dir, log: logger.With("repo", cfg.ID)}
		if cfg.GPGCheck {
			r.setKeys(keys, opts.CacheDir)
		}
		err := r.load(ctx, mdKeys)
		if err == nil {
			return r, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("repository %s: %w", cfg.ID, errors.Join(errs...))
}

// normalizeURL turns a directory path into a file:// URL and drops a
// trailing slash.
func normalizeURL(raw string) (string, error) {
	if !strings.Contains(raw, "://") {
		abs, err := filepath.Abs(raw)
		if err != nil {
			return "", err
		}
		raw = (&url.URL{Scheme: "file", Path: abs}).String()
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad base URL %s", fetch.Redact(raw))
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// joinURL resolves href (as metadata gives it) against base.
func joinURL(base, href string) string {
	if h, err := url.Parse(href); err == nil && h.IsAbs() {
		return href
	}
	u, err := url.Parse(base)
	if err != nil {
		return strings.TrimSuffix(base, "/") + "/" + href
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + strings.TrimPrefix(href, "/")
	u.RawPath = ""
	return u.String()
}

// load reads repomd.xml and the packages from r.BaseURL. With mdKeys,
// repomd.xml must be signed by one of them.
func (r *Repo) load(ctx context.Context, mdKeys *rpmsig.Keyring) error {
	mdURL := joinURL(r.BaseURL, "repodata/repomd.xml")
	mdPath := filepath.Join(r.dir, "repomd.xml")
	if err := r.client.Fetch(ctx, mdURL, mdPath, fetch.Digest{}); err != nil {
		return err
	}
	data, err := os.ReadFile(mdPath)
	if err != nil {
		return err
	}
	if mdKeys != nil {
		if err := r.verifyRepoMD(ctx, mdKeys, mdURL, data); err != nil {
			return err
		}
	}
	if r.MD, err = ParseRepoMD(data); err != nil {
		return fmt.Errorf("%s: %w", fetch.Redact(mdURL), err)
	}
	primary := r.MD.Data["primary"]
	snap := filepath.Join(r.dir, "primary-"+primary.Checksum.Value+".snap")
	pkgs, err := readSnapshot(snap, decodePackages)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			r.log.Warn("ignoring a damaged metadata snapshot", "file", snap, "err", err)
		}
		err = r.readData(ctx, primary, func(rd io.Reader) (err error) {
			pkgs, err = ParsePrimary(rd)
			return err
		})
		if err != nil {
			return err
		}
		if err := fsutil.WriteCacheFile(snap, encodePackages(pkgs), 0o644); err != nil {
			r.log.Warn("cannot cache parsed metadata", "file", snap, "err", err)
		}
	}
	r.Index = NewIndex(pkgs)
	r.prune()
	return nil
}

// dataURL is where a metadata file is.
func (r *Repo) dataURL(f DataFile) string {
	base := r.BaseURL
	if f.LocationBase != "" {
		base = f.LocationBase
	}
	return joinURL(base, f.Location)
}

// dataPath is where a metadata file is kept in the cache.
func (r *Repo) dataPath(f DataFile) string {
	name := path.Base(f.Location)
	if name == "." || name == "/" || name == ".." {
		name = f.Type
	}
	return filepath.Join(r.dir, "data", name)
}

// readData fetches a metadata file into the cache (unless it is there
// with the right checksum) and gives parse its decompressed content,
// checked against the open checksum when repomd.xml has one.
func (r *Repo) readData(ctx context.Context, f DataFile, parse func(io.Reader) error) error {
	u, local := r.dataURL(f), r.dataPath(f)
	if err := fetchVerified(ctx, r.client, u, local, f.Checksum, f.Size, r.log, nil); err != nil {
		return err
	}
	file, err := os.Open(local)
	if err != nil {
		return err
	}
	defer file.Close()
	zr, err := decompress(file)
	if err != nil {
		return fmt.Errorf("%s: %w", fetch.Redact(u), err)
	}
	defer zr.Close()
	var in io.Reader = zr
	open, _ := newHash(f.OpenChecksum.Type)
	if open != nil && f.OpenChecksum.Value != "" {
		in = io.TeeReader(zr, open)
	}
	if err := parse(in); err != nil {
		return fmt.Errorf("%s: %w", fetch.Redact(u), err)
	}
	if open != nil && f.OpenChecksum.Value != "" {
		if _, err := io.Copy(io.Discard, in); err != nil {
			return fmt.Errorf("%s: %w", fetch.Redact(u), err)
		}
		if got := hex.EncodeToString(open.Sum(nil)); got != f.OpenChecksum.Value {
			return &ChecksumError{URL: fetch.Redact(u) + " (decompressed)", Type: f.OpenChecksum.Type, Want: f.OpenChecksum.Value, Got: got}
		}
	}
	return nil
}

// prune deletes cached metadata that the current repomd.xml does not
// name: data files and snapshots of earlier revisions. Downloads in
// progress (of a concurrent load) are left alone.
func (r *Repo) prune() {
	keep := map[string]bool{}
	for _, f := range r.MD.Data {
		keep[r.dataPath(f)] = true
		keep[filepath.Join(r.dir, f.Type+"-"+f.Checksum.Value+".snap")] = true
	}
	snaps, _ := filepath.Glob(filepath.Join(r.dir, "*.snap"))
	data, _ := filepath.Glob(filepath.Join(r.dir, "data", "*"))
	for _, p := range append(snaps, data...) {
		inUse := strings.HasSuffix(p, ".part") || strings.HasSuffix(p, ".unverified") || strings.HasPrefix(filepath.Base(p), ".")
		if !keep[p] && !inUse {
			os.Remove(p)
		}
	}
}

// LoadFilelists reads the repository's filelists, once; FileProviders
// calls it. Like primary, they are kept in the cache as a snapshot.
func (r *Repo) LoadFilelists(ctx context.Context) error {
	r.filesMu.Lock()
	defer r.filesMu.Unlock()
	if r.files != nil {
		return nil
	}
	f, ok := r.MD.Data["filelists"]
	if !ok {
		return fmt.Errorf("repository %s: repomd.xml lists no filelists", r.ID)
	}
	snap := filepath.Join(r.dir, "filelists-"+f.Checksum.Value+".snap")
	lists, err := readSnapshot(snap, decodeFilelists)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			r.log.Warn("ignoring a damaged metadata snapshot", "file", snap, "err", err)
		}
		err = r.readData(ctx, f, func(rd io.Reader) (err error) {
			lists, err = parseFilelists(rd)
			return err
		})
		if err != nil {
			return fmt.Errorf("repository %s: %w", r.ID, err)
		}
		if err := fsutil.WriteCacheFile(snap, encodeFilelists(lists), 0o644); err != nil {
			r.log.Warn("cannot cache parsed metadata", "file", snap, "err", err)
		}
	}
	byID := make(map[string]int32, len(r.Packages))
	for i := range r.Packages {
		byID[r.Packages[i].Checksum.Value] = int32(i)
	}
	files := map[string][]int32{}
	for _, l := range lists {
		i, ok := byID[l.pkgid]
		if !ok {
			continue // filelists of another primary: repomd.xml changed in between
		}
		for _, p := range l.files {
			files[p] = append(files[p], i)
		}
	}
	r.files = files
	return nil
}

// FileProviders returns the packages that hold path, by the complete
// file lists (filelists), which it loads on first use.
func (r *Repo) FileProviders(ctx context.Context, path string) ([]*Package, error) {
	if err := r.LoadFilelists(ctx); err != nil {
		return nil, err
	}
	return r.list(r.files[path]), nil
}
