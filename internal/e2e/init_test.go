package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"slipway/internal/build"
	"slipway/internal/cli"
	"slipway/internal/testutil"
)

// The README's guide, through the CLI: slipway init makes a project that
// builds as it is with slipway build-all (its toolchain from nothing, its
// packages, hello among them, its container image, in which hello runs),
// and a second build-all builds nothing.
func TestInitBuildsAsItIs(t *testing.T) {
	testutil.RequireSpecEval(t)
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "mmdebstrap", "createrepo_c", "dnf", "rpmbuild")
	dir := filepath.Join(t.TempDir(), "acme")
	if code, stdout, stderr := slipway(t, "init", dir); code != 0 || !strings.Contains(stdout, "acme") {
		t.Fatalf("slipway init: exit %d\n%s\n%s", code, stdout, stderr)
	}

	start := time.Now()
	code, stdout, stderr := slipway(t, "-C", dir, "build-all")
	_, summary, _ := strings.Cut(stdout, "summary of")
	t.Logf("build-all from nothing: %s\nsummary of%s", time.Since(start).Round(time.Second), summary)
	if code != 0 {
		t.Fatalf("build-all: exit %d\n%s\n%s", code, stdout, tail(stderr))
	}
	for _, want := range []string{"toolchain  15 built, 0 reused", "hello ", "images     1 made, 0 up to date", "acme.tar.gz"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("build-all's output lacks %q", want)
		}
	}
	var sum build.Summary
	if data, err := os.ReadFile(filepath.Join(dir, "build", "summary.json")); err != nil || json.Unmarshal(data, &sum) != nil {
		t.Fatalf("build/summary.json: %v", err)
	}
	built := decided(&sum, build.Built)
	if !slices.Contains(built, "hello") || !slices.Contains(built, "tiny-rpm-macros") || len(decided(&sum, build.Failed)) > 0 {
		t.Errorf("package stage: built %v, failed %v", built, decided(&sum, build.Failed))
	}
	if _, err := os.Stat(filepath.Join(dir, "build", "report.html")); err != nil {
		t.Error("no build/report.html")
	}

	archive := filepath.Join(dir, "out", "images", "acme-container", "acme.tar.gz")
	if names, _ := testutil.ReadTarGz(t, archive); names["usr/bin/hello"] == nil {
		t.Errorf("%s has no usr/bin/hello (%d entries)", archive, len(names))
	}
	root := t.TempDir()
	if out, err := exec.Command("tar", "-xzf", archive, "-C", root).CombinedOutput(); err != nil {
		t.Fatalf("tar -xzf %s: %v\n%s", archive, err, out)
	}
	out, err := exec.Command("chroot", root, "/usr/bin/hello").CombinedOutput()
	if err != nil || string(out) != "Hello from acme!\n" {
		t.Errorf("hello in the image: %v: %q", err, out)
	}

	// Again: nothing to do.
	start = time.Now()
	code, stdout, _ = slipway(t, "-C", dir, "build-all")
	t.Logf("build-all again: %s", time.Since(start).Round(time.Millisecond))
	for _, want := range []string{"toolchain  0 built, 15 reused", "packages   2 reused", "images     0 made, 1 up to date"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("second build-all: exit %d, output lacks %q:\n%s", code, want, stdout)
		}
	}
}

// slipway runs the slipway command line in this process.
func slipway(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb strings.Builder
	code = cli.Main(args, &out, &errb)
	return code, out.String(), errb.String()
}
