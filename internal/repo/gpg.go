package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"

	"slipway/internal/fetch"
	"slipway/internal/fsutil"
	"slipway/internal/rpmsig"
)

// SignatureError is a package that failed its repository's GPG check
// (gpgcheck): unsigned, signed by a key that is not the repository's
// gpgkey, or altered after it was signed. The file has been deleted.
type SignatureError struct {
	Package string // NEVRA
	Repo    string // repository ID
	Err     error  // rpmkeys' report, an *rpmsig.Error
}

func (e *SignatureError) Error() string {
	return fmt.Sprintf("package %s from repo %s: signature check failed (not signed by the repository's gpgkey, or tampered): %v",
		e.Package, e.Repo, e.Err)
}

func (e *SignatureError) Unwrap() error { return e.Err }

// WithKeys makes r check packages as gpgcheck=1 does: every package
// DownloadPackage returns, whether downloaded or already in the download
// directory (offline too), must carry a valid signature by one of
// gpgKeys, or it is deleted and the error is a *SignatureError.
//
// gpgKeys are gpgkey values as a .repo file gives them: paths, file://
// URLs, or http(s):// URLs fetched with r's client into cacheDir (offline,
// the copy an earlier fetch left there is used). cacheDir also keeps the
// imported keyring and the record of packages already verified (by
// checksum); pass Load's Options.CacheDir to share them with Load. No keys
// is an error: leave gpgcheck off by not calling WithKeys. Call it before
// r is used.
func (r *Repo) WithKeys(ctx context.Context, cacheDir string, gpgKeys []string) error {
	if len(gpgKeys) == 0 {
		return fmt.Errorf("repository %s: gpgcheck is on but no gpgkey is given: set gpgkey or gpgcheck=0", r.ID)
	}
	keys, err := loadKeys(ctx, gpgKeys, r.client, cacheDir, r.offline)
	if err != nil {
		return fmt.Errorf("repository %s: %w", r.ID, err)
	}
	r.setKeys(keys, cacheDir)
	return nil
}

// setKeys makes keys the ones r's packages must be signed by.
func (r *Repo) setKeys(keys *rpmsig.Keyring, cacheDir string) {
	r.keys, r.verified = keys, filepath.Join(cacheDir, "gpg", "verified-"+keys.ID())
}

// loadKeys gets the gpgkey files (see WithKeys) and imports them.
func loadKeys(ctx context.Context, gpgKeys []string, client *fetch.Client, cacheDir string, offline bool) (*rpmsig.Keyring, error) {
	files := make([]string, len(gpgKeys))
	for i, raw := range gpgKeys {
		norm, err := normalizeURL(raw)
		if err != nil {
			return nil, fmt.Errorf("gpgkey: %w", err)
		}
		u, err := url.Parse(norm)
		if err != nil {
			return nil, fmt.Errorf("gpgkey: bad URL %s", fetch.Redact(raw))
		}
		shown := fetch.Redact(raw)
		if u.Scheme == "file" {
			if u.Host != "" && u.Host != "localhost" {
				return nil, fmt.Errorf("gpgkey %s: file URLs must name a local path (file:///path)", shown)
			}
			files[i] = u.Path
			if _, err := os.Stat(u.Path); err != nil {
				return nil, fmt.Errorf("gpgkey %s: %w: put the repository's public key there, or correct gpgkey (or turn gpgcheck and repo_gpgcheck off)", shown, err)
			}
			continue
		}
		sum := sha256.Sum256([]byte(norm))
		files[i] = filepath.Join(cacheDir, "gpg", "keys", hex.EncodeToString(sum[:8])+"-"+path.Base(u.Path))
		if offline {
			if _, err := os.Stat(files[i]); err != nil {
				return nil, fmt.Errorf("gpgkey %s: offline, and it was never fetched: run once online", shown)
			}
			continue
		}
		if err := client.Fetch(ctx, norm, files[i], fetch.Digest{}); err != nil {
			if fetch.IsNotFound(err) {
				return nil, fmt.Errorf("gpgkey %s is not there: %w: correct gpgkey (or turn gpgcheck and repo_gpgcheck off)", shown, err)
			}
			return nil, fmt.Errorf("gpgkey: %w", err)
		}
	}
	keys, err := rpmsig.NewKeyring(ctx, filepath.Join(cacheDir, "gpg"), files)
	if err != nil {
		return nil, fmt.Errorf("gpgkey: %w", err)
	}
	return keys, nil
}

// signatureCheck returns what a package's file must pass before it is
// handed out: nothing without keys, else a signature by one of r's keys.
// A pass is remembered by the package's checksum, so the caller must have
// checked that the file has it.
func (r *Repo) signatureCheck(ctx context.Context, p *Package) func(file string) error {
	if r.keys == nil {
		return nil
	}
	stamp := filepath.Join(r.verified, p.Checksum.Type+"-"+p.Checksum.Value)
	return func(file string) error {
		if _, err := os.Stat(stamp); err == nil {
			return nil
		}
		if err := r.keys.Verify(ctx, file); err != nil {
			var bad *rpmsig.Error
			if errors.As(err, &bad) {
				return &SignatureError{Package: p.NEVRA(), Repo: r.ID, Err: err}
			}
			return fmt.Errorf("checking the signature of %s: %w", file, err)
		}
		if err := fsutil.WriteCacheFile(stamp, nil, 0o644); err != nil {
			r.log.Warn("cannot record a verified signature", "file", stamp, "err", err)
		}
		return nil
	}
}

// checked runs check, if any, on file, and deletes the file when it
// fails (unless ctx was cancelled meanwhile).
func checked(ctx context.Context, file string, check func(string) error) error {
	if check == nil {
		return nil
	}
	err := check(file)
	if err != nil && ctx.Err() == nil {
		os.Remove(file)
	}
	return err
}

// verifyRepoMD checks the repomd.xml just fetched from mdURL (data)
// against its detached signature, repomd.xml.asc (repo_gpgcheck).
func (r *Repo) verifyRepoMD(ctx context.Context, keys *rpmsig.Keyring, mdURL string, data []byte) error {
	sigURL := mdURL + ".asc"
	shown := fetch.Redact(sigURL)
	sig := filepath.Join(r.dir, "repomd.xml.asc")
	if err := r.client.Fetch(ctx, sigURL, sig, fetch.Digest{}); err != nil {
		if fetch.IsNotFound(err) {
			return fmt.Errorf("repo_gpgcheck is on but the signature %s is missing: %w: sign repomd.xml, or set repo_gpgcheck=0", shown, err)
		}
		return fmt.Errorf("repo_gpgcheck: %w", err)
	}
	if err := keys.VerifyDetached(ctx, data, sig); err != nil {
		return fmt.Errorf("repo_gpgcheck: %s is not a valid signature of %s by the repository's gpgkey: %w", shown, fetch.Redact(mdURL), err)
	}
	return nil
}
