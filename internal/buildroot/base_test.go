package buildroot

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"slipway/internal/testutil"
)

// testRPMSpecs are tiny noarch packages: b needs a; c's %post (shell)
// fails; d's %post (Lua) fails. The Debian roots have /bin/sh, but their
// rpm database does not know it, so a provides it.
var testRPMSpecs = map[string]string{
	"a": "Provides: /bin/sh\n",
	"b": "Requires: slipway-test-a\n",
	"c": "Requires: slipway-test-a\n%post\necho failing; exit 3\n",
	"d": "%post -p <lua>\nerror(\"boom\")\n",
}

var testRPMs struct {
	once  sync.Once
	files map[string]string
	err   error
}

// buildTestRPMs builds the testRPMSpecs once and returns their files.
func buildTestRPMs(t *testing.T) map[string]string {
	t.Helper()
	testutil.RequireTools(t, "rpmbuild")
	testRPMs.once.Do(func() {
		top := filepath.Join(rootCache, "rpmbuild")
		os.RemoveAll(top)
		testRPMs.files = map[string]string{}
		for name, extra := range testRPMSpecs {
			tags, scripts, _ := strings.Cut(extra, "%")
			if scripts != "" {
				scripts = "%" + scripts
			}
			spec := fmt.Sprintf(`Name: slipway-test-%[1]s
Version: 1.0
Release: 1
Summary: test package %[1]s
License: MIT
BuildArch: noarch
%[2]s
%%description
Test package %[1]s.
%%install
mkdir -p %%{buildroot}/usr/share/slipway-test
echo %[1]s > %%{buildroot}/usr/share/slipway-test/%[1]s
%%files
/usr/share/slipway-test/%[1]s
%[3]s`, name, tags, scripts)
			specFile := filepath.Join(rootCache, "slipway-test-"+name+".spec")
			if err := os.WriteFile(specFile, []byte(spec), 0o644); err != nil {
				testRPMs.err = err
				return
			}
			out, err := exec.Command("rpmbuild", "-bb", "--define", "_topdir "+top, specFile).CombinedOutput()
			if err != nil {
				testRPMs.err = fmt.Errorf("rpmbuild %s: %v\n%s", specFile, err, out)
				return
			}
			testRPMs.files[name] = filepath.Join(top, "RPMS", "noarch", "slipway-test-"+name+"-1.0-1.noarch.rpm")
		}
	})
	if testRPMs.err != nil {
		t.Fatal(testRPMs.err)
	}
	return testRPMs.files
}

var rootTarball struct {
	once sync.Once
	path string
	err  error
}

// essentialTarball is the essential root packed as a tarball.
func essentialTarball(t *testing.T) string {
	root := testutil.DebianRoot(t, "")
	rootTarball.once.Do(func() {
		rootTarball.path = filepath.Join(rootCache, "debian-essential.tar")
		out, err := exec.Command("tar", "--numeric-owner", "-cpf", rootTarball.path, "-C", root, ".").CombinedOutput()
		if err != nil {
			rootTarball.err = fmt.Errorf("tar: %v\n%s", err, out)
		}
	})
	if rootTarball.err != nil {
		t.Fatal(rootTarball.err)
	}
	return rootTarball.path
}

// makeBaseTwice calls MakeBase twice and checks that the second call
// returns the first base, untouched, and fast.
func makeBaseTwice(t *testing.T, b, again BaseSpec) string {
	t.Helper()
	t0 := time.Now()
	dir, err := MakeBase(context.Background(), b)
	first := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(dir, "probe")
	os.WriteFile(probe, nil, 0o644)
	defer os.Remove(probe)
	t0 = time.Now()
	dir2, err := MakeBase(context.Background(), again)
	second := time.Since(t0)
	if err != nil || dir2 != dir {
		t.Fatalf("second MakeBase = %s, %v; want the cached %s", dir2, err, dir)
	}
	if _, err := os.Stat(probe); err != nil {
		t.Error("the second MakeBase remade the base")
	}
	t.Logf("MakeBase: %v, again (cached): %v, %s", first, second, filepath.Base(dir))
	if ents, _ := filepath.Glob(filepath.Join(b.CacheDir, ".tmp-*")); len(ents) > 0 {
		t.Errorf("temporary directories left: %v", ents)
	}
	return dir
}

func TestMakeBaseFromTarball(t *testing.T) {
	tarball := essentialTarball(t)
	b := BaseSpec{CacheDir: t.TempDir(), Tarball: tarball}
	dir := makeBaseTwice(t, b, b)
	res, out, _ := runT(t, Spec{Lower: []string{dir}, Argv: []string{"/bin/cat", "/etc/debian_version"}})
	if res.ExitCode != 0 || !strings.HasPrefix(out, "12.") {
		t.Errorf("running in the base from a tarball: exit %d, %q", res.ExitCode, out)
	}
}

func TestMakeBaseFromRPMs(t *testing.T) {
	testutil.RequireTools(t, "rpm")
	testutil.RequireRoot(t)
	rpms := buildTestRPMs(t)
	cache := t.TempDir()
	dir := makeBaseTwice(t,
		BaseSpec{CacheDir: cache, RPMs: []string{rpms["b"], rpms["a"]}},
		BaseSpec{CacheDir: cache, RPMs: []string{rpms["a"], rpms["b"]}})
	for _, f := range []string{"usr/share/slipway-test/a", "usr/share/slipway-test/b", "var/lib/rpm/rpmdb.sqlite"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "root", ".rpmdb")); err == nil {
		t.Error("the rpm database went to Debian's ~/.rpmdb")
	}
	out, err := exec.Command("rpm", "--root", dir, "--dbpath", "/var/lib/rpm", "-qa").Output()
	if err != nil || !strings.Contains(string(out), "slipway-test-a") || !strings.Contains(string(out), "slipway-test-b") {
		t.Errorf("rpm -qa in the base: %q, %v", out, err)
	}

	for _, c := range []struct {
		rpms []string
		want string
	}{
		{[]string{rpms["b"]}, "slipway-test-a is needed"},
		{[]string{rpms["a"], rpms["c"]}, "scriptlet failed"},
		{[]string{rpms["d"]}, "lua script failed"},
	} {
		_, err := MakeBase(context.Background(), BaseSpec{CacheDir: cache, RPMs: c.rpms})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("MakeBase(%v) = %v, want an error with %q", c.rpms, err, c.want)
		}
	}
	if ents, _ := filepath.Glob(filepath.Join(cache, "[^.]*")); len(ents) != 1 {
		t.Errorf("failed MakeBase calls left %v in the cache", ents)
	}
	if ents, _ := filepath.Glob(filepath.Join(cache, ".tmp-*")); len(ents) != 0 {
		t.Errorf("failed MakeBase calls left %v in the cache", ents)
	}
}

func TestMakeBaseFromRepo(t *testing.T) {
	testutil.RequireTools(t, "dnf", "createrepo_c")
	testutil.RequireRoot(t)
	rpms := buildTestRPMs(t)
	repo := t.TempDir()
	for _, n := range []string{"a", "b"} {
		if err := os.Link(rpms[n], filepath.Join(repo, filepath.Base(rpms[n]))); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("createrepo_c", repo).CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
	b := BaseSpec{CacheDir: t.TempDir(), Repo: repo, Packages: []string{"slipway-test-b"}}
	dir := makeBaseTwice(t, b, b)
	for _, f := range []string{"usr/share/slipway-test/a", "usr/share/slipway-test/b", "var/lib/rpm/rpmdb.sqlite"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestInstallIntoWithHostRPM(t *testing.T) {
	testutil.RequireTools(t, "rpm")
	root := testutil.DebianRoot(t, "") // no rpm inside: the host's installs
	if hasRPM([]string{root}, t.TempDir()) {
		t.Fatal("the essential root has rpm")
	}
	testInstallInto(t, root)
}

func TestInstallIntoWithRootRPM(t *testing.T) {
	root := testutil.DebianRoot(t, "rpm") // Debian's rpm inside
	if !hasRPM([]string{root}, t.TempDir()) {
		t.Fatal("the root has no /usr/bin/rpm")
	}
	testInstallInto(t, root)
}

func testInstallInto(t *testing.T, root string) {
	rpms := buildTestRPMs(t)
	upper := filepath.Join(t.TempDir(), "build")
	s := Spec{Lower: []string{root}, Upper: upper}
	if err := InstallInto(context.Background(), s, []string{rpms["a"], rpms["b"]}); err != nil {
		t.Fatal(err)
	}
	s.Argv = []string{"/bin/cat", "/usr/share/slipway-test/a", "/usr/share/slipway-test/b"}
	s.KeepUpper = true
	if res, out, stderr := runT(t, s); res.ExitCode != 0 || out != "a\nb\n" {
		t.Errorf("after InstallInto: exit %d, %q, %s", res.ExitCode, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(upper, "upper", "var", "lib", "rpm", "rpmdb.sqlite")); err != nil {
		t.Errorf("no rpm database in the upper layer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "usr", "share", "slipway-test")); err == nil {
		t.Error("InstallInto wrote into the lower root")
	}
	if m := mountsAnywhere(upper); len(m) > 0 {
		t.Errorf("mounts remain: %v", m)
	}

	err := InstallInto(context.Background(), Spec{Lower: []string{root}, Upper: filepath.Join(t.TempDir(), "b2")},
		[]string{rpms["a"], rpms["c"]})
	if err == nil || !strings.Contains(err.Error(), "scriptlet failed") {
		t.Errorf("InstallInto of a failing %%post: %v, want a scriptlet error", err)
	}
}
