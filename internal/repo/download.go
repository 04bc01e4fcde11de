package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"

	"slipway/internal/fetch"
)

// PackageURL is where p's RPM is.
func (r *Repo) PackageURL(p *Package) string {
	base := r.BaseURL
	if p.LocationBase != "" {
		base = p.LocationBase
	}
	return joinURL(base, p.Location)
}

// DownloadPackage puts p's RPM into destDir, named as in the repository,
// and returns its path. A file already there with p's checksum is kept;
// one with another checksum is replaced. The RPM appears only once it
// matches the checksum of the metadata: a download that does not is a
// *ChecksumError and is deleted.
func (r *Repo) DownloadPackage(ctx context.Context, p *Package, destDir string) (string, error) {
	name := path.Base(p.Location)
	if name == "." || name == "/" || name == ".." {
		return "", fmt.Errorf("package %s: bad location %q", p.NEVRA(), p.Location)
	}
	dest := filepath.Join(destDir, name)
	if r.offline {
		if got, err := fileChecksum(dest, p.Checksum.Type); err != nil || got != p.Checksum.Value {
			return "", fmt.Errorf("package %s: offline, and %s is not in the package cache", p.NEVRA(), name)
		}
		return dest, nil
	}
	if err := fetchVerified(ctx, r.client, r.PackageURL(p), dest, p.Checksum, p.Size, r.log); err != nil {
		return "", fmt.Errorf("package %s: %w", p.NEVRA(), err)
	}
	return dest, nil
}

// fetchVerified makes dest a copy of rawURL with checksum sum (and size,
// when > 0), reusing dest if it already has that checksum. A wrong file
// never stays at dest.
func fetchVerified(ctx context.Context, c *fetch.Client, rawURL, dest string, sum Checksum, size int64, log *slog.Logger) error {
	shown := fetch.Redact(rawURL)
	got, err := fileChecksum(dest, sum.Type)
	switch {
	case err == nil && got == sum.Value:
		return nil
	case err == nil:
		log.Warn("cached file does not match the metadata, fetching it again", "file", dest, "want", sum.String(), "got", got)
		if err := os.Remove(dest); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %w", shown, err)
	}

	if sum.Type == "sha256" { // fetch checks it before dest appears, and can resume
		err := c.Fetch(ctx, rawURL, dest, fetch.Digest{SHA256: sum.Value, Size: size})
		var de *fetch.DigestError
		if errors.As(err, &de) && de.SHA256 != "" && de.SHA256 != de.WantSHA256 {
			return &ChecksumError{URL: shown, Type: sum.Type, Want: sum.Value, Got: de.SHA256}
		}
		return err
	}
	tmp := dest + ".unverified"
	if err := c.Fetch(ctx, rawURL, tmp, fetch.Digest{Size: size}); err != nil {
		return err
	}
	if got, err = fileChecksum(tmp, sum.Type); err == nil && got != sum.Value {
		err = &ChecksumError{URL: shown, Type: sum.Type, Want: sum.Value, Got: got}
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dest)
}
