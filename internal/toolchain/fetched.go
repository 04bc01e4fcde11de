package toolchain

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"slipway/internal/fetch"
	"slipway/internal/rpm"
	"slipway/internal/rpmsig"
)

// Fetcher downloads a URL to a file (fetch.Client implements it).
type Fetcher interface {
	Fetch(ctx context.Context, url, dest string, want fetch.Digest) error
}

// fromArchive takes the toolchain from a tarball: every *.rpm in it, at
// any depth, each verified (see verifyRPM).
func fromArchive(ctx context.Context, opts Options, dirs layout) (map[string]string, error) {
	dest := filepath.Join(dirs.root, "archive")
	if err := os.RemoveAll(dest); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "tar", "-xf", opts.Archive, "-C", dest, "--no-same-owner", "--wildcards", "*.rpm")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("extracting the toolchain archive %s: %v: %s", opts.Archive, err, strings.TrimSpace(string(out)))
	}
	kr, err := rpmsig.NewKeyring(ctx, dirs.root, opts.GPGKeys)
	if err != nil {
		return nil, err
	}
	set := map[string]string{}
	err = filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rpm") {
			return err
		}
		if other, dup := set[d.Name()]; dup {
			return fmt.Errorf("the toolchain archive %s holds %s twice (%s)", opts.Archive, d.Name(), other)
		}
		if err := verifyRPM(ctx, p, d.Name(), kr); err != nil {
			return fmt.Errorf("the toolchain archive %s: %w", opts.Archive, err)
		}
		set[d.Name()] = p
		return nil
	})
	return set, err
}

// download fetches exactly the manifest's RPMs, each from the first base
// URL that has it, into a cache that later runs reuse after checking
// again. A file that fails verification is deleted and reported.
func download(ctx context.Context, opts Options, dirs layout) (map[string]string, error) {
	if len(opts.URLs) == 0 {
		return nil, fmt.Errorf("download mode: [toolchain] urls is empty")
	}
	cache := filepath.Join(dirs.root, "download")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, err
	}
	kr, err := rpmsig.NewKeyring(ctx, dirs.root, opts.GPGKeys)
	if err != nil {
		return nil, err
	}
	set := map[string]string{}
	for _, name := range opts.Manifest {
		dest := filepath.Join(cache, name)
		if _, err := os.Stat(dest); err == nil {
			if verifyRPM(ctx, dest, name, kr) == nil {
				set[name] = dest
				continue
			}
			os.Remove(dest)
		}
		if opts.Offline {
			return nil, fmt.Errorf("offline: the toolchain RPM %s is not in %s: run slipway toolchain once without --offline", name, cache)
		}
		var errs []string
		for _, base := range opts.URLs {
			url := strings.TrimSuffix(base, "/") + "/" + name
			err := opts.Fetcher.Fetch(ctx, url, dest, fetch.Digest{})
			if err == nil {
				if err = verifyRPM(ctx, dest, name, kr); err == nil {
					set[name] = dest
					break
				}
				os.Remove(dest)
			}
			errs = append(errs, err.Error())
			if !fetch.IsNotFound(err) {
				break // a server that has the file but fails is not skipped silently
			}
		}
		if set[name] == "" {
			return nil, fmt.Errorf("downloading the toolchain: %s:\n  %s", name, strings.Join(errs, "\n  "))
		}
	}
	return set, nil
}

// verifyRPM checks that a file is the RPM its name says and that it is
// whole: rpm's own digests must verify, and with GPG keys in kr, its
// signature too (see rpmsig).
func verifyRPM(ctx context.Context, path, name string, kr *rpmsig.Keyring) error {
	h, err := rpm.ReadHeader(path)
	if err != nil {
		return fmt.Errorf("%s: not a readable RPM (corrupted?): %w", name, err)
	}
	if h.FileName() != name {
		return fmt.Errorf("%s: the file holds %s", name, h.FileName())
	}
	if err := kr.Verify(ctx, path); err != nil {
		return fmt.Errorf("%s: failed verification (corrupted, or not signed by the configured keys): %w", name, err)
	}
	return nil
}
