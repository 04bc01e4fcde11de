package toolchain

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/testutil"
)

// publishSRPMs packs the test project's specs, with ta changed to write
// "ta-data-published", into a directory of source RPMs and serves it
// over HTTP behind basic auth.
func publishSRPMs(t *testing.T) (srv *httptest.Server, dir string) {
	t.Helper()
	pub := testutil.CopyProject(t, "testdata/project", "")
	replaceIn(t, filepath.Join(pub, "SPECS/ta/ta.spec"), "ta-data-one", "ta-data-published")
	top := t.TempDir()
	for _, name := range []string{"ta", "tb"} {
		specDir := filepath.Join(pub, "SPECS", name)
		cmd := exec.Command("rpmbuild", "-bs", "--define", "_topdir "+top, "--define", "_sourcedir "+specDir, filepath.Join(specDir, name+".spec"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("rpmbuild -bs %s: %v\n%s", name, err, out)
		}
	}
	dir = filepath.Join(top, "SRPMS")
	return testutil.ServeDir(t, dir, testutil.BasicAuth("tc", "srpm-secret")), dir
}

// With download_srpms, the toolchain's BUILD steps rebuild the published
// source RPMs ([remote] srpm_urls), not the local specs: those only name
// them.
func TestRebuildFromPublishedSRPMs(t *testing.T) {
	testutil.RequireSpecEval(t)
	testutil.RequireTools(t, "createrepo_c", "rpmbuild", "rpm2cpio", "cpio")
	rootfs := testutil.DebianRoot(t, "rpm")
	srv, srpmDir := publishSRPMs(t)
	t.Setenv("TC_PASSWORD", "srpm-secret")
	project := func() string {
		return testutil.CopyProject(t, "testdata/project", "download_srpms = true\n[toolchain.bootstrap]\nrootfs = \""+rootfs+"\"\n"+
			"[remote]\ncache_dir = \"cache\"\nsrpm_urls = [\""+srv.URL+"/\"]\n[remote.srpm_auth]\nusername = \"tc\"\npassword = \"env:TC_PASSWORD\"\n")
	}
	dir := project()
	r, err := runToolchain(t, dir)
	if err != nil || decisions(r) != "ta:built tb:built" {
		t.Fatalf("first run: %s, %v", decisions(r), err)
	}
	log, _ := os.ReadFile(r.Steps[0].Log)
	if !strings.Contains(string(log), "slipway: rebuilding the published ta-1-1.src.rpm (from "+srv.URL+"/ta-1-1.src.rpm)") {
		t.Errorf("ta's log does not say where its SRPM came from:\n%s", log)
	}
	ta := filepath.Join(dir, "build", "toolchain", "RPMS", "ta-1-1.noarch.rpm")
	data, err := exec.Command("sh", "-c", "rpm2cpio "+ta+" | cpio -i --to-stdout ./usr/share/ta/data 2>/dev/null").Output()
	if err != nil || string(data) != "ta-data-published\n" {
		t.Errorf("ta holds %q (%v), want the published source's data", data, err)
	}

	// A change to the local spec changes nothing: the SRPM is the input.
	appendTo(t, filepath.Join(dir, "SPECS/ta/ta.spec"), "# changed\n")
	if r, err = runToolchain(t, dir); err != nil || decisions(r) != "ta:reused tb:reused" {
		t.Errorf("after changing the local ta: %s, %v", decisions(r), err)
	}

	// A source RPM the server does not have: the error names it and the URL.
	os.Remove(filepath.Join(srpmDir, "tb-1-1.src.rpm"))
	_, err = runToolchain(t, project())
	if err == nil || !strings.Contains(err.Error(), "BUILD tb: tb-1-1.src.rpm is not published: "+srv.URL+"/tb-1-1.src.rpm: not found") {
		t.Errorf("unpublished tb: %v", err)
	}

	// A damaged one is refused, and not kept.
	src, _ := os.ReadFile(filepath.Join(srpmDir, "ta-1-1.src.rpm"))
	copy(src[len(src)-64:], make([]byte, 64))
	os.WriteFile(filepath.Join(srpmDir, "ta-1-1.src.rpm"), src, 0o644)
	dir = project()
	_, err = runToolchain(t, dir)
	if err == nil || !strings.Contains(err.Error(), "BUILD ta: source RPM ta-1-1.src.rpm from "+srv.URL+"/ta-1-1.src.rpm") ||
		strings.Contains(err.Error(), "srpm-secret") {
		t.Errorf("damaged ta: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "cache", "srpms", "*", "ta-*")); len(left) != 0 {
		t.Errorf("the damaged SRPM was kept: %v", left)
	}
}
