package e2e

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"slipway/internal/build"
	"slipway/internal/scaffold"
	"slipway/internal/testutil"
)

// A project slipway init made builds as it is: its toolchain from
// nothing, its packages (hello among them), then its container image,
// in which hello runs.
func TestInitBuildsAsItIs(t *testing.T) {
	testutil.RequireSpecEval(t)
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "mmdebstrap", "createrepo_c", "dnf", "rpmbuild")
	dir := filepath.Join(t.TempDir(), "acme")
	res, err := scaffold.Init(dir, scaffold.Options{})
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	r, err := runToolchain(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("toolchain: %d builds, %d RPMs in %s", r.Built, len(r.RPMs), time.Since(start).Round(time.Second))
	if r.Built != 15 || r.Reused != 0 {
		t.Errorf("toolchain: built %d, reused %d", r.Built, r.Reused)
	}

	start = time.Now()
	sum := runBuild(t, dir)
	built := decided(sum, build.Built)
	t.Logf("package stage: built %v in %s", built, time.Since(start).Round(time.Second))
	if !slices.Contains(built, "hello") || !slices.Contains(built, "tiny-rpm-macros") || len(decided(sum, build.Failed)) > 0 {
		t.Fatalf("package stage: built %v, failed %v", built, decided(sum, build.Failed))
	}

	img := makeImage(t, dir, strings.TrimSuffix(filepath.Base(res.ImageConfig), ".json"), "")
	if len(img.Artifacts) != 1 || filepath.Base(img.Artifacts[0].Path) != "acme.tar.gz" {
		t.Fatalf("artifacts %+v", img.Artifacts)
	}
	archive := img.Artifacts[0].Path
	if names := tarNames(t, archive); !slices.Contains(names, "usr/bin/hello") {
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
}

// tarNames lists the paths of a .tar.gz file's entries, without a
// leading "./" or "/".
func tarNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.TrimLeft(strings.TrimPrefix(h.Name, "./"), "/"))
	}
}
