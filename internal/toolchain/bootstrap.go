package toolchain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"slipway/internal/buildroot"
	"slipway/internal/fetch"
	"slipway/internal/fsutil"
	"slipway/internal/project"
)

// Bootstrap is the root toolchain specs are built in first.
type Bootstrap struct {
	Dir string // the root directory, used read-only as the lowest layer
	// ID identifies its content for input hashes: the hash of what it was
	// made from (for a rootfs directory used in place: its path).
	ID string
}

// MakeBootstrap returns the bootstrap root the project's [toolchain.bootstrap]
// describes, making it once under cacheDir: a rootfs directory is used in
// place, a rootfs tarball extracted, a command run to write a rootfs, or a
// Debian root made with mmdebstrap with the listed packages.
func MakeBootstrap(ctx context.Context, p *project.Project, cacheDir string, log io.Writer) (*Bootstrap, error) {
	b := p.Config.Toolchain.Bootstrap
	switch {
	case b.Rootfs != "":
		path := p.Path(b.Rootfs)
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("toolchain.bootstrap.rootfs: %w", err)
		}
		if st.IsDir() {
			return &Bootstrap{Dir: path, ID: hashStrings("rootfs-dir", path)}, nil
		}
		dir, err := buildroot.MakeBase(ctx, buildroot.BaseSpec{CacheDir: cacheDir, Tarball: path, Log: log})
		if err != nil {
			return nil, err
		}
		return &Bootstrap{Dir: dir, ID: hashStrings("rootfs-tarball", filepath.Base(dir))}, nil
	case b.Command != "":
		return bootstrapCommand(ctx, p, cacheDir, log)
	case len(b.Packages) > 0:
		return bootstrapDebian(ctx, b, cacheDir, p.Offline, log)
	}
	return nil, fmt.Errorf("%s: [toolchain.bootstrap] gives no root: set rootfs, command or packages", p.File)
}

// bootstrapDebian makes a Debian root with mmdebstrap (variant apt plus the
// packages), cached by suite, mirror and package list. Offline, only the
// cached one will do.
func bootstrapDebian(ctx context.Context, b project.BootstrapSection, cacheDir string, offline bool, log io.Writer) (*Bootstrap, error) {
	pkgs := slices.Sorted(slices.Values(b.Packages))
	id := hashStrings(append([]string{"mmdebstrap", "apt", b.Suite, b.Mirror}, pkgs...)...)
	dir := filepath.Join(cacheDir, "debian-"+id[:16])
	if _, err := os.Stat(dir); err != nil && offline {
		return nil, fmt.Errorf("offline: the bootstrap root (mmdebstrap of %s from %s) is not in %s: run slipway toolchain once without --offline", b.Suite, fetch.Redact(b.Mirror), cacheDir)
	}
	err := fsutil.MakeDirOnce(dir, func(tmp string) error {
		root := filepath.Join(tmp, "root")
		args := []string{"--variant=apt", "--include=" + strings.Join(pkgs, ","), b.Suite, root, b.Mirror}
		cmd := exec.CommandContext(ctx, "mmdebstrap", args...)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("mmdebstrap %s (see the toolchain log): %w", strings.Join(args, " "), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Bootstrap{Dir: filepath.Join(dir, "root"), ID: id}, nil
}

// bootstrapCommand runs the project's bootstrap command (for example a
// from-sources, LFS-style script) in a sandbox, with $SLIPWAY_ROOTFS naming
// an empty directory it must fill. The result is cached by the command and the
// content of the script it names, when that is a file of the project.
func bootstrapCommand(ctx context.Context, p *project.Project, cacheDir string, log io.Writer) (*Bootstrap, error) {
	command := p.Config.Toolchain.Bootstrap.Command
	parts := []string{"command", command}
	if f := strings.Fields(command); len(f) > 0 {
		if data, err := os.ReadFile(p.Path(f[0])); err == nil {
			parts = append(parts, string(data))
		}
	}
	id := hashStrings(parts...)
	dir := filepath.Join(cacheDir, "command-"+id[:16])
	err := fsutil.MakeDirOnce(dir, func(tmp string) error {
		root := filepath.Join(tmp, "root")
		if err := os.Mkdir(root, 0o755); err != nil {
			return err
		}
		// Isolated: it sees the host and the project read-only (the host
		// through an overlay whose changes are thrown away, with a fresh
		// /tmp), writes only the new root, and has the network (an
		// LFS-style script downloads its sources). Like every sandbox it
		// cannot make device nodes: build roots get their own /dev.
		res, err := buildroot.Run(ctx, buildroot.Spec{
			Lower: []string{"/"}, Upper: filepath.Join(tmp, "sandbox"), Network: true,
			Binds: []buildroot.Bind{{Src: p.Dir, Dest: p.Dir, ReadOnly: true}, {Src: root, Dest: "/slipway/rootfs"}},
			Env:   append(buildroot.DefaultEnv(), "SLIPWAY_ROOTFS=/slipway/rootfs"),
			Dir:   p.Dir, Argv: []string{"sh", "-c", command}, Stdout: log, Stderr: log,
		})
		switch {
		case err != nil:
			return fmt.Errorf("running the bootstrap command %q: %w", command, err)
		case res.ExitCode != 0:
			return fmt.Errorf("the bootstrap command %q failed with status %d (see the toolchain log)", command, res.ExitCode)
		}
		if entries, _ := os.ReadDir(root); len(entries) == 0 {
			return fmt.Errorf("the bootstrap command %q left $SLIPWAY_ROOTFS empty", command)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Bootstrap{Dir: filepath.Join(dir, "root"), ID: id}, nil
}

func hashStrings(parts ...string) string {
	h := sha256.New()
	for _, s := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}
