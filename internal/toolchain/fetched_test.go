package toolchain

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/project"
	"slipway/internal/testutil"
	"slipway/internal/workspace"
)

// hostRPMs builds RPMs with the host's rpmbuild and returns the directory
// holding them: ta from the test project, and an extra package tx.
func hostRPMs(t *testing.T) string {
	t.Helper()
	testutil.RequireTools(t, "rpmbuild", "rpmkeys", "createrepo_c")
	top, out := t.TempDir(), t.TempDir()
	tx := filepath.Join(top, "tx.spec")
	os.WriteFile(tx, []byte("Name: tx\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\n%description\nd\n%files\n"), 0o644)
	for _, spec := range []string{filepath.Join("testdata", "project", "SPECS", "ta", "ta.spec"), tx} {
		cmd := exec.Command("rpmbuild", "-bb", "--nodeps", "--define", "_topdir "+top, spec)
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("rpmbuild %s: %v\n%s", spec, err, o)
		}
	}
	rpms, _ := filepath.Glob(filepath.Join(top, "RPMS", "*", "*.rpm"))
	for _, r := range rpms {
		os.Rename(r, filepath.Join(out, filepath.Base(r)))
	}
	return out
}

func TestDownloadMode(t *testing.T) {
	testutil.RequireSpecEval(t)
	rpms := hostRPMs(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "tc" || p != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.StripPrefix("/repo/", http.FileServer(http.Dir(rpms))).ServeHTTP(w, r)
	}))
	defer srv.Close()
	t.Setenv("TC_PASSWORD", "s3cret")
	dir := testutil.CopyProject(t, "testdata/project", `mode = "download"
urls = ["`+srv.URL+`/repo"]
[toolchain.auth]
username = "tc"
password = "env:TC_PASSWORD"
`)
	// The [toolchain] keys above follow the copied file's [toolchain] table.
	os.WriteFile(filepath.Join(dir, "toolchain", "manifest.txt"), []byte("ta-1-1.noarch.rpm\n"), 0o644)
	r, err := runToolchain(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.RPMs) != 1 || r.RPMs[0] != "ta-1-1.noarch.rpm" {
		t.Errorf("rpms = %v", r.RPMs)
	}

	// Offline: the downloaded RPMs will do; without them, an error.
	offline := func() error {
		p, err := project.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		p.Offline = true
		tree, err := workspace.Load(context.Background(), p, workspace.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = RunProject(context.Background(), p, tree, nil, nil)
		return err
	}
	if err := offline(); err != nil {
		t.Errorf("offline, downloaded: %v", err)
	}
	os.Rename(filepath.Join(dir, "build", "toolchain", "download"), filepath.Join(dir, "build", "toolchain", "kept"))
	if err := offline(); err == nil || !strings.Contains(err.Error(), "offline: the toolchain RPM ta-1-1.noarch.rpm is not in") {
		t.Errorf("offline, not downloaded: %v", err)
	}

	// A wrong password: a clear authentication error.
	t.Setenv("TC_PASSWORD", "wrong")
	os.RemoveAll(filepath.Join(dir, "build", "toolchain", "download"))
	if _, err := runToolchain(t, dir); err == nil || !strings.Contains(err.Error(), "authentication failed") {
		t.Errorf("wrong password: %v", err)
	}

	// A corrupted RPM: detected, deleted, reported.
	t.Setenv("TC_PASSWORD", "s3cret")
	data, _ := os.ReadFile(filepath.Join(rpms, "ta-1-1.noarch.rpm"))
	data[len(data)-20] ^= 0xff
	os.WriteFile(filepath.Join(rpms, "ta-1-1.noarch.rpm"), data, 0o644)
	os.RemoveAll(filepath.Join(dir, "build", "toolchain", "download"))
	_, err = runToolchain(t, dir)
	if err == nil || !strings.Contains(err.Error(), "ta-1-1.noarch.rpm: failed verification") {
		t.Errorf("corrupted RPM: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "build", "toolchain", "download", "ta-1-1.noarch.rpm")); !os.IsNotExist(err) {
		t.Error("the corrupted download was kept")
	}
}

func TestArchiveMode(t *testing.T) {
	testutil.RequireSpecEval(t)
	rpms := hostRPMs(t)
	tarball := filepath.Join(t.TempDir(), "toolchain.tar.gz")
	if out, err := exec.Command("tar", "-czf", tarball, "-C", rpms, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	dir := testutil.CopyProject(t, "testdata/project", "mode = \"archive\"\narchive = \""+tarball+"\"\n")
	manifest := filepath.Join(dir, "toolchain", "manifest.txt")
	os.WriteFile(manifest, []byte("ta-1-1.noarch.rpm\ntx-1-1.noarch.rpm\n"), 0o644)
	r, err := runToolchain(t, dir)
	if err != nil || len(r.RPMs) != 2 {
		t.Fatalf("archive: %v %v", r, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "build", "toolchain", "RPMS", "repodata", "repomd.xml")); err != nil {
		t.Errorf("no repo: %v", err)
	}
	// The archive holds an RPM the manifest does not name: an error listing it.
	os.WriteFile(manifest, []byte("ta-1-1.noarch.rpm\n"), 0o644)
	_, err = runToolchain(t, dir)
	var me *MismatchError
	if !errors.As(err, &me) || len(me.Extra) != 1 || me.Extra[0] != "tx-1-1.noarch.rpm" {
		t.Errorf("extra RPM: %v", err)
	}
}

// With GPG keys configured, an archive's RPMs must be signed by one of
// them: signed ones pass, unsigned ones fail.
func TestArchiveModeWithGPGKeys(t *testing.T) {
	testutil.RequireSpecEval(t)
	rpms := hostRPMs(t)
	k := testutil.NewGPGKey(t)
	k.SignRPMs(t, filepath.Join(rpms, "ta-1-1.noarch.rpm"))
	key := k.Public
	tarball := filepath.Join(t.TempDir(), "toolchain.tar")
	if out, err := exec.Command("tar", "-cf", tarball, "-C", rpms, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	dir := testutil.CopyProject(t, "testdata/project", "mode = \"archive\"\narchive = \""+tarball+"\"\ngpg_keys = [\""+key+"\"]\n")
	manifest := filepath.Join(dir, "toolchain", "manifest.txt")
	os.WriteFile(manifest, []byte("ta-1-1.noarch.rpm\ntx-1-1.noarch.rpm\n"), 0o644)
	// tx is not signed: refused.
	if _, err := runToolchain(t, dir); err == nil || !strings.Contains(err.Error(), "tx-1-1.noarch.rpm: failed verification") {
		t.Errorf("unsigned RPM: %v", err)
	}
	// Only the signed ta: accepted.
	os.Remove(filepath.Join(rpms, "tx-1-1.noarch.rpm"))
	exec.Command("tar", "-cf", tarball, "-C", rpms, ".").Run()
	os.WriteFile(manifest, []byte("ta-1-1.noarch.rpm\n"), 0o644)
	if _, err := runToolchain(t, dir); err != nil {
		t.Errorf("signed RPM: %v", err)
	}
}
