package repo

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/fsutil"
	"slipway/internal/rpm"
	"slipway/internal/testutil"
)

var testSpecs = map[string]string{
	"hello-tool": `Version: 2.5
Release: 3
Provides: hello-api = 2.5
Requires: hello-lib >= 1.0
Requires(pre): /bin/sh
%description
d
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/etc %{buildroot}/usr/share/hello-tool
echo tool > %{buildroot}/usr/bin/hello-tool
echo conf > %{buildroot}/etc/hello.conf
echo data > %{buildroot}/usr/share/hello-tool/data
%files
/usr/bin/hello-tool
%config /etc/hello.conf
/usr/share/hello-tool
`,
	"hello-lib": `Epoch: 2
Version: 1.4
Release: 1
Provides: libhello.so.1()(64bit)
Conflicts: hello-old < 1.0
Obsoletes: hello-legacy <= 1.3
%description
d
%install
%files
`,
}

// buildRPMs builds testSpecs into dir/RPMS/noarch.
func buildRPMs(t *testing.T, dir string) {
	t.Helper()
	for name, body := range testSpecs {
		spec := filepath.Join(dir, name+".spec")
		text := "Name: " + name + "\nSummary: s\nLicense: MIT\nBuildArch: noarch\n" + body
		if err := os.WriteFile(spec, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("rpmbuild", "-bb", "--define", "_topdir "+filepath.Join(dir, "top"),
			"--define", "_rpmdir "+filepath.Join(dir, "RPMS"), "--define", "__os_install_post %{nil}", spec).CombinedOutput()
		if err != nil {
			t.Fatalf("rpmbuild %s: %v\n%s", name, err, out)
		}
	}
}

// createrepo makes a copy of the RPMs in rpms with createrepo_c metadata.
func createrepo(t *testing.T, rpms string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-r", rpms+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	if out, err := exec.Command("createrepo_c", append(append([]string{"-q"}, args...), dir)...).CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
	return dir
}

// TestCreaterepoRepository reads repositories createrepo_c made from
// RPMs rpmbuild made, over HTTP, and downloads their packages.
func TestCreaterepoRepository(t *testing.T) {
	testutil.RequireTools(t, "rpmbuild", "createrepo_c")
	work := t.TempDir()
	buildRPMs(t, work)
	rpms := filepath.Join(work, "RPMS")
	ctx := context.Background()

	// Debian 12's createrepo_c 0.17 compresses with gz (the default), xz
	// or bz2; it has no zstd (the synthetic tests cover zstd).
	for _, comp := range []string{"gz", "xz", "bz2"} {
		t.Run(comp, func(t *testing.T) {
			srv := serve(t, createrepo(t, rpms, "--general-compress-type="+comp), "", "")
			r := load(t, srv.URL, t.TempDir())
			if srv.count("primary.xml."+comp) != 1 {
				t.Errorf("primary was not fetched as .%s: %v", comp, srv.hits)
			}
			checkHello(t, r)
		})
	}

	t.Run("download", func(t *testing.T) {
		srv := serve(t, createrepo(t, rpms), "", "")
		r := load(t, srv.URL, t.TempDir())
		dest := t.TempDir()
		p := r.ByName("hello-tool")[0]
		path, err := r.DownloadPackage(ctx, p, dest)
		if err != nil {
			t.Fatal(err)
		}
		if sum, _ := fsutil.SHA256File(path); sum != p.Checksum.Value || filepath.Base(path) != "hello-tool-2.5-3.noarch.rpm" {
			t.Errorf("downloaded %s with sha256 %s, want %s", path, sum, p.Checksum.Value)
		}
		if _, err := r.DownloadPackage(ctx, p, dest); err != nil || srv.count(".rpm") != 1 {
			t.Errorf("a second download fetched again: %v, %d requests", err, srv.count(".rpm"))
		}
		os.WriteFile(path, []byte("damaged"), 0o644)
		if _, err := r.DownloadPackage(ctx, p, dest); err != nil || srv.count(".rpm") != 2 {
			t.Errorf("a damaged cached RPM was not fetched again: %v, %d requests", err, srv.count(".rpm"))
		}
		if sum, _ := fsutil.SHA256File(path); sum != p.Checksum.Value {
			t.Error("the damaged RPM was not replaced")
		}
	})

	t.Run("tampered RPM", func(t *testing.T) {
		dir := createrepo(t, rpms)
		rpmPath := filepath.Join(dir, "noarch", "hello-lib-1.4-1.noarch.rpm")
		data, _ := os.ReadFile(rpmPath)
		data[len(data)-10] ^= 0xff // same size, other bytes
		os.WriteFile(rpmPath, data, 0o644)
		srv := serve(t, dir, "", "")
		r := load(t, srv.URL, t.TempDir())
		dest := t.TempDir()
		_, err := r.DownloadPackage(ctx, r.ByName("hello-lib")[0], dest)
		var ce *ChecksumError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "hello-lib-2:1.4-1.noarch") || !strings.Contains(err.Error(), ce.Want) {
			t.Errorf("want a checksum error, got %v", err)
		}
		if left, _ := os.ReadDir(dest); len(left) != 0 {
			t.Errorf("the tampered RPM was left in the package cache: %v", left)
		}
	})

	t.Run("basic auth", func(t *testing.T) {
		srv := serve(t, createrepo(t, rpms), "builder", "s3cret")
		t.Setenv("SLIPWAY_TEST_REPO_PASSWORD", "s3cret")
		file := filepath.Join(t.TempDir(), "private.repo")
		os.WriteFile(file, []byte("[private]\nbaseurl="+srv.URL+"/\nusername=builder\npassword=env:SLIPWAY_TEST_REPO_PASSWORD\n"), 0o644)
		cfgs, err := ParseRepoFile(file, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Load(ctx, cfgs[0], Options{CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		checkHello(t, r)
		if _, err := r.DownloadPackage(ctx, r.ByName("hello-lib")[0], t.TempDir()); err != nil {
			t.Error(err)
		}
		cfgs[0].Password = "wrong"
		_, err = Load(ctx, cfgs[0], Options{CacheDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "401 Unauthorized: authentication failed: the server rejected the credentials") || strings.Contains(err.Error(), "wrong") {
			t.Errorf("wrong password: %v", err)
		}
	})
}

// checkHello checks what the metadata says of testSpecs.
func checkHello(t *testing.T, r *Repo) {
	t.Helper()
	if len(r.Packages) != 2 {
		t.Fatalf("%d packages", len(r.Packages))
	}
	tool, lib := r.ByName("hello-tool"), r.ByName("hello-lib")
	if len(tool) != 1 || len(lib) != 1 {
		t.Fatalf("ByName: %v %v", tool, lib)
	}
	if tool[0].NEVRA() != "hello-tool-2.5-3.noarch" || lib[0].NEVRA() != "hello-lib-2:1.4-1.noarch" ||
		tool[0].Location != "noarch/hello-tool-2.5-3.noarch.rpm" || tool[0].Size == 0 || tool[0].SourceRPM != "hello-tool-2.5-3.src.rpm" {
		t.Errorf("packages: %+v\n%+v", tool[0], lib[0])
	}
	var pre, libReq bool
	for _, q := range tool[0].Requires {
		pre = pre || q.Name == "/bin/sh" && q.Pre
		libReq = libReq || q.Dep.String() == "hello-lib >= 1.0"
	}
	if !pre || !libReq {
		t.Errorf("requires: %+v", tool[0].Requires)
	}
	if got := lib[0].Conflicts; len(got) != 1 || got[0].String() != "hello-old < 1.0" {
		t.Errorf("conflicts: %v", got)
	}
	if got := lib[0].Obsoletes; len(got) != 1 || got[0].String() != "hello-legacy <= 1.3" {
		t.Errorf("obsoletes: %v", got)
	}
	for req, want := range map[string]int{
		"hello-api >= 2": 1, "hello-api > 2.5": 0, "hello-lib >= 1.0": 1, "hello-lib > 2:1.4": 0,
		"libhello.so.1()(64bit)": 1, "/usr/bin/hello-tool": 1, "/etc/hello.conf": 1, "/usr/share/hello-tool/data": 0,
	} {
		d, _ := rpm.ParseDep(req)
		if got := r.WhatProvides(d); len(got) != want {
			t.Errorf("WhatProvides(%s): %d packages, want %d", req, len(got), want)
		}
	}
	got, err := r.FileProviders(context.Background(), "/usr/share/hello-tool/data")
	if err != nil || len(got) != 1 || got[0] != tool[0] {
		t.Errorf("FileProviders: %v %v", got, err)
	}
}
