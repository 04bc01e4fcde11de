// Package repo handles rpm-md repositories: the local repositories slipway
// writes (the toolchain's, the package stage's out/RPMS) and, later, the
// remote ones it reads.
package repo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Create writes (or updates) the rpm-md metadata of the RPMs below dir
// with createrepo_c. createrepo_c builds the new repodata/ beside the old
// one and swaps it in, so readers see the old or the new metadata, whole.
func Create(ctx context.Context, dir string) error {
	args := []string{"--quiet", "--simple-md-filenames", "--no-database"}
	if _, err := os.Stat(filepath.Join(dir, "repodata", "repomd.xml")); err == nil {
		args = append(args, "--update")
	}
	cmd := exec.CommandContext(ctx, "createrepo_c", append(args, dir)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("createrepo_c %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}
