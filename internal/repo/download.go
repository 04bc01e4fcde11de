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
// *ChecksumError and is deleted. With gpgcheck (see WithKeys) it must also
// be signed by one of the repository's keys, the file already there too:
// one that is not is a *SignatureError and is deleted.
func (r *Repo) DownloadPackage(ctx context.Context, p *Package, destDir string) (string, error) {
	name := path.Base(p.Location)
	if name == "." || name == "/" || name == ".." {
		return "", fmt.Errorf("package %s: bad location %q", p.NEVRA(), p.Location)
	}
	dest := filepath.Join(destDir, name)
	check := r.signatureCheck(ctx, p)
	var err error
	if r.offline {
		if got, err := fileChecksum(dest, p.Checksum.Type); err != nil || got != p.Checksum.Value {
			return "", fmt.Errorf("package %s: offline, and %s is not in the package cache", p.NEVRA(), name)
		}
		err = checked(ctx, dest, check)
	} else {
		err = fetchVerified(ctx, r.client, r.PackageURL(p), dest, p.Checksum, p.Size, r.log, check)
	}
	var se *SignatureError
	switch {
	case errors.As(err, &se):
		return "", err // it names the package
	case err != nil:
		return "", fmt.Errorf("package %s: %w", p.NEVRA(), err)
	}
	return dest, nil
}

// fetchVerified makes dest a copy of rawURL with checksum sum (and size,
// when > 0), reusing dest if it already has that checksum. check, if not
// nil, must pass too, on a reused file as on a downloaded one, which
// appears at dest only then. A wrong file never stays at dest.
func fetchVerified(ctx context.Context, c *fetch.Client, rawURL, dest string, sum Checksum, size int64, log *slog.Logger, check func(string) error) error {
	shown := fetch.Redact(rawURL)
	got, err := fileChecksum(dest, sum.Type)
	switch {
	case err == nil && got == sum.Value:
		return checked(ctx, dest, check)
	case err == nil:
		log.Warn("cached file does not match the metadata, fetching it again", "file", dest, "want", sum.String(), "got", got)
		if err := os.Remove(dest); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %w", shown, err)
	}

	tmp := dest + ".unverified"
	if sum.Type == "sha256" && check == nil {
		tmp = dest // fetch checks it before dest appears, and can resume
	}
	want := fetch.Digest{Size: size}
	if sum.Type == "sha256" {
		want.SHA256 = sum.Value
	}
	err = c.Fetch(ctx, rawURL, tmp, want)
	var de *fetch.DigestError
	if errors.As(err, &de) && de.SHA256 != "" && de.SHA256 != de.WantSHA256 {
		return &ChecksumError{URL: shown, Type: sum.Type, Want: sum.Value, Got: de.SHA256}
	}
	if err != nil || tmp == dest {
		return err
	}
	if want.SHA256 == "" {
		if got, err = fileChecksum(tmp, sum.Type); err == nil && got != sum.Value {
			err = &ChecksumError{URL: shown, Type: sum.Type, Want: sum.Value, Got: got}
		}
		if err != nil {
			os.Remove(tmp)
			return err
		}
	}
	if err := checked(ctx, tmp, check); err != nil {
		return err
	}
	if err := os.Rename(tmp, dest); err != nil {
		if got, cerr := fileChecksum(dest, sum.Type); cerr == nil && got == sum.Value {
			return checked(ctx, dest, check) // a concurrent download renamed it first
		}
		return err
	}
	return nil
}
