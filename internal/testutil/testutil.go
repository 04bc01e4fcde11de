// Package testutil holds what slipway's tool-backed tests share: finding
// host tools and the shared Azure Linux sample.
package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"slipway/internal/fsutil"
)

// RequireTools skips the test when a tool is missing, or fails it when
// SLIPWAY_REQUIRE_TOOLS is set (as CI does, so nothing skips there).
// "librpm-dev" stands for the librpm headers the spec helper compiles with.
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		var err error
		if tool == "librpm-dev" {
			_, err = os.Stat("/usr/include/rpm/rpmbuild.h")
		} else {
			_, err = exec.LookPath(tool)
		}
		if err == nil {
			continue
		}
		if os.Getenv("SLIPWAY_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s is required (SLIPWAY_REQUIRE_TOOLS is set) but missing: %v", tool, err)
		}
		t.Skipf("%s not installed", tool)
	}
}

// RequireSpecEval needs what evaluating specs needs: rpm and a C compiler
// with librpm's headers for the evaluation helper.
func RequireSpecEval(t testing.TB) { RequireTools(t, "rpmspec", "cc", "librpm-dev") }

// SampleDir returns ../shared/azl-sample beside the checkout (real Azure
// Linux inputs, read-only), skipping the test when it is absent.
func SampleDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "azl-sample")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("SLIPWAY_REQUIRE_TOOLS") != "" {
			t.Fatalf("the Azure Linux sample is required but missing: %v", err)
		}
		t.Skip("../shared/azl-sample not present")
	}
	return filepath.Clean(dir)
}

// RequireRoot skips a test that needs root (namespaces, mounts), or fails
// it when SLIPWAY_REQUIRE_TOOLS is set.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("SLIPWAY_REQUIRE_TOOLS") != "" {
		t.Fatal("this test needs root (SLIPWAY_REQUIRE_TOOLS is set)")
	}
	t.Skip("this test needs root: namespaces and mounts")
}

// RootsDir is where test roots are kept between runs: $SLIPWAY_TEST_ROOTFS,
// else slipway-test-roots under the temporary directory.
func RootsDir() string {
	if dir := os.Getenv("SLIPWAY_TEST_ROOTFS"); dir != "" {
		return dir
	}
	return filepath.Join(os.TempDir(), "slipway-test-roots")
}

var debianRoots sync.Map // include -> *debianRoot

type debianRoot struct {
	once sync.Once
	dir  string
	err  error
}

// DebianRoot returns a Debian bookworm root made with mmdebstrap
// --variant=essential (plus the comma-separated packages in include),
// made once and kept in RootsDir (about 20 s the first time). The mirror is
// $SLIPWAY_DEBIAN_MIRROR, else deb.debian.org. Tests use it read-only.
func DebianRoot(t testing.TB, include string) string {
	t.Helper()
	RequireRoot(t)
	RequireTools(t, "mmdebstrap")
	v, _ := debianRoots.LoadOrStore(include, &debianRoot{})
	r := v.(*debianRoot)
	r.once.Do(func() {
		name := "debian-essential"
		if include != "" {
			name += "-" + strings.ReplaceAll(include, ",", "-")
		}
		r.dir = filepath.Join(RootsDir(), name)
		mirror := os.Getenv("SLIPWAY_DEBIAN_MIRROR")
		if mirror == "" {
			mirror = "http://deb.debian.org/debian"
		}
		r.err = fsutil.MakeDirOnce(r.dir, func(tmp string) error {
			os.Remove(tmp) // mmdebstrap wants to create the directory itself
			argv := []string{"mmdebstrap", "--variant=essential", "bookworm", tmp, mirror}
			if include != "" {
				argv = slices.Insert(argv, 2, "--include="+include)
			}
			if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
				return fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, out)
			}
			return nil
		})
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.dir
}

// CopyProject copies the project directory src (without build/) into a
// temporary directory, appends extraTOML to its slipway.toml, and returns
// the copy's path.
func CopyProject(t testing.TB, src, extraTOML string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && (rel == "build" || rel == "out") {
			return filepath.SkipDir // a local run's state, not the project
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	if extraTOML != "" {
		f, err := os.OpenFile(filepath.Join(dst, "slipway.toml"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString("\n" + extraTOML); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
