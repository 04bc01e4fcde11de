package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"slipway/internal/buildroot"
)

// SandboxBuilder builds in isolated build roots: an overlay over Base (the
// toolchain), the request's RPMs installed into it with rpm, then
// rpmbuild --rebuild, with no network.
type SandboxBuilder struct {
	Base    string   // the base root directory
	WorkDir string   // per-build overlays go under it
	Defines []string // rpm -D definitions (the project's)
	Timeout time.Duration
	NoCheck bool // rpmbuild --nocheck: skip %check
}

// Build runs one build.
func (b *SandboxBuilder) Build(ctx context.Context, req Request) error {
	upper := filepath.Join(b.WorkDir, req.Spec)
	// A slipway killed during this spec's last build left its layers.
	if err := os.RemoveAll(upper); err != nil {
		return err
	}
	root := buildroot.Spec{Lower: []string{b.Base}, Upper: upper, Env: buildroot.DefaultEnv(),
		Stdout: req.Log, Stderr: req.Log, Timeout: b.Timeout}
	if len(req.Root) > 0 {
		fmt.Fprintf(req.Log, "slipway: installing %d RPMs into the build root\n", len(req.Root))
		if err := buildroot.InstallInto(ctx, root, req.Root); err != nil {
			return err
		}
	}
	// Reproducible RPMs: times from the newest %changelog entry, a fixed
	// build host; so an unchanged rebuild makes the same bytes, and the
	// builds that install its output need not run again.
	argv := []string{"rpmbuild", "--rebuild", "--define", "_topdir /slipway/out", "--define", "_dbpath /var/lib/rpm",
		"--define", "source_date_epoch_from_changelog 1", "--define", "use_source_date_epoch_as_buildtime 1",
		"--define", "clamp_mtime_to_source_date_epoch 1", "--define", "_buildhost slipway"}
	for _, d := range b.Defines {
		argv = append(argv, "--define", d)
	}
	if b.NoCheck {
		argv = append(argv, "--nocheck")
	}
	argv = append(argv, "/slipway/in/"+filepath.Base(req.SRPM))
	root.Binds = []buildroot.Bind{{Src: filepath.Dir(req.SRPM), Dest: "/slipway/in", ReadOnly: true}, {Src: req.OutDir, Dest: "/slipway/out"}}
	root.Argv = argv
	root.KeepUpper = false
	res, err := buildroot.Run(ctx, root)
	switch {
	case err != nil:
		return err
	case res.TimedOut:
		return fmt.Errorf("timed out after %s", b.Timeout)
	case res.ExitCode != 0:
		return fmt.Errorf("rpmbuild exited with status %d", res.ExitCode)
	}
	return nil
}
