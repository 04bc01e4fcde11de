package buildroot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Spec describes one sandboxed command: the root it sees, what is bound
// into it, and the command itself.
type Spec struct {
	// Lower are the read-only base root directories, topmost first,
	// combined with overlayfs. Slipway never writes to them.
	Lower []string
	// Upper is a per-build directory (created if missing) that holds the
	// overlay's layers: Upper/upper (the changes), Upper/work and the mount
	// point Upper/merged. Empty means a throwaway directory under
	// os.TempDir(). One Run per Upper at a time.
	Upper string
	// KeepUpper keeps Upper/upper after Run (to take outputs from it, or
	// to run again on top of it, as InstallInto does). Otherwise it is
	// removed with the rest. The overlay is mounted volatile (no syncs):
	// after a host crash a kept upper layer is not to be trusted.
	KeepUpper bool
	// Binds are host directories or files mounted into the root.
	Binds []Bind
	// Hostname is the sandbox's host name; default "slipway".
	Hostname string
	// Env is the command's whole environment; nothing comes from the
	// host. When it has no PATH, Argv[0] is looked up in DefaultPath.
	Env []string
	// Dir is the working directory inside the root; default "/".
	Dir string
	// Argv is the command, run inside the root.
	Argv []string
	// Stdout and Stderr receive the command's output; nil discards it.
	// Its standard input is /dev/null.
	Stdout, Stderr io.Writer
	// Timeout, when positive, kills the whole sandbox after that long.
	Timeout time.Duration
	// Network shares the host's network; by default the sandbox has its
	// own network namespace with only a loopback interface.
	Network bool
}

// Bind mounts host path Src at Dest inside the root.
type Bind struct {
	Src, Dest string
	ReadOnly  bool
}

// Result is how a sandboxed command ended.
type Result struct {
	// ExitCode is the command's exit status, 128+N when signal N killed
	// it, -1 when it timed out or was cancelled.
	ExitCode int
	// Duration is the wall time from starting the sandbox until it ended.
	Duration time.Duration
	// TimedOut is set when Spec.Timeout expired and the sandbox was killed.
	TimedOut bool
	// UpperDir is the kept upper layer (Spec.KeepUpper), else "".
	UpperDir string
}

// DefaultPath is the PATH used to find Argv[0] when Env has none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// DefaultEnv returns a minimal clean environment for build commands.
func DefaultEnv() []string {
	return []string{"PATH=" + DefaultPath, "HOME=/root", "LANG=C.UTF-8", "TERM=dumb"}
}

const defaultHostname = "slipway"

// validate checks s and returns a copy with defaults filled in.
func (s Spec) validate() (Spec, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(s.Argv) == 0 || s.Argv[0] == "" {
		bad("Argv is empty")
	}
	if len(s.Lower) == 0 {
		bad("Lower is empty: a sandbox needs at least one base root")
	}
	for _, l := range s.Lower {
		if err := overlayPath("Lower", l); err != nil {
			errs = append(errs, err)
		} else if fi, err := os.Stat(l); err != nil || !fi.IsDir() {
			bad("Lower %s is not a directory", l)
		}
	}
	if s.Upper != "" {
		if err := overlayPath("Upper", s.Upper); err != nil {
			errs = append(errs, err)
		}
	}
	for _, b := range s.Binds {
		if !filepath.IsAbs(b.Src) || !filepath.IsAbs(b.Dest) || filepath.Clean(b.Dest) == "/" {
			bad("bind %s -> %s: both paths must be absolute, and Dest not /", b.Src, b.Dest)
		} else if _, err := os.Stat(b.Src); err != nil {
			bad("bind source: %v", err)
		}
	}
	if s.Dir == "" {
		s.Dir = "/"
	} else if !filepath.IsAbs(s.Dir) {
		bad("Dir %q is not absolute", s.Dir)
	}
	if s.Hostname == "" {
		s.Hostname = defaultHostname
	}
	if len(errs) > 0 {
		return s, fmt.Errorf("buildroot: invalid spec: %w", errors.Join(errs...))
	}
	return s, nil
}

// overlayPath checks a path that goes into overlayfs mount options, where
// ',' and ':' are separators.
func overlayPath(what, p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%s %q is not absolute", what, p)
	}
	if strings.ContainsAny(p, ",:\\") {
		return fmt.Errorf("%s %q contains ',', ':' or '\\', which overlayfs options cannot carry", what, p)
	}
	return nil
}
