package build

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"slipway/internal/repo"
	"slipway/internal/testutil"
	"slipway/internal/workspace"
)

// remoteRepo builds extlib (which requires extbase) and extbase with the
// host's rpmbuild, indexes them with createrepo_c and serves them over
// HTTP behind basic auth; it returns the server.
func remoteRepo(t *testing.T) *httptest.Server {
	t.Helper()
	top := t.TempDir()
	for name, extra := range map[string]string{
		"extlib":  "Requires: extbase >= 1\n",
		"extbase": "",
	} {
		spec := filepath.Join(top, name+".spec")
		os.WriteFile(spec, []byte("Name: "+name+"\nVersion: 1.0\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\n"+extra+
			"%description\nd\n%install\nmkdir -p %{buildroot}/usr/share/"+name+"\necho "+name+" from the remote > %{buildroot}/usr/share/"+name+"/data\n"+
			"%files\n/usr/share/"+name+"\n"), 0o644)
		if out, err := exec.Command("rpmbuild", "-bb", "--define", "_topdir "+top, spec).CombinedOutput(); err != nil {
			t.Fatalf("rpmbuild %s: %v\n%s", name, err, out)
		}
	}
	if err := repo.Create(t.Context(), filepath.Join(top, "RPMS")); err != nil {
		t.Fatal(err)
	}
	return testutil.ServeDir(t, filepath.Join(top, "RPMS"), testutil.BasicAuth("builder", "s3cret-remote"))
}

// A BuildRequires no local spec provides comes from the remote repository,
// with what it requires; the run says which packages came from where.
func TestRemotePackagesFillBuildRoots(t *testing.T) {
	pt := newPkgTest(t)
	srv := remoteRepo(t)
	url := srv.URL
	os.MkdirAll(filepath.Join(pt.dir, "SPECS", "pext"), 0o755)
	os.WriteFile(filepath.Join(pt.dir, "SPECS", "pext", "pext.spec"), []byte(`Name: pext
Version: 1
Release: 1
Summary: Builds against a remote package
License: MIT
BuildArch: noarch
BuildRequires: extlib
%description
d
%install
mkdir -p %{buildroot}/usr/share/pext
cat /usr/share/extlib/data /usr/share/extbase/data > %{buildroot}/usr/share/pext/seen
%files
/usr/share/pext
%changelog
* Thu Nov 26 2026 Tests <tests@example.invalid> - 1-1
- First.
`), 0o644)
	toml := "[project]\nname = \"pkgs\"\n[remote]\ncache_dir = \"cache\"\n[[remote.repos]]\nid = \"ext\"\nbaseurls = [\"" + url + "\"]\n" +
		"[remote.repos.auth]\nusername = \"builder\"\npassword = \"env:EXT_PASSWORD\"\n"
	os.WriteFile(filepath.Join(pt.dir, "slipway.toml"), []byte(toml), 0o644)
	t.Setenv("EXT_PASSWORD", "s3cret-remote")

	sum := pt.run()
	if got := decisionsOf(sum); got != "papp:built pext:built plib:built pother:built" {
		t.Fatalf("decisions: %s", got)
	}
	var got []string
	for _, r := range sum.Remote {
		got = append(got, r.Name+" "+r.Repo+" "+strings.Join(r.NeededBy, ","))
		if !strings.HasPrefix(r.URL, url) || len(r.SHA256) != 64 {
			t.Errorf("remote %s: url %q, sha256 %q", r.Name, r.URL, r.SHA256)
		}
	}
	if strings.Join(got, "; ") != "extbase ext pext; extlib ext pext" {
		t.Errorf("remote packages: %v", got)
	}
	data, _ := os.ReadFile(filepath.Join(pt.dir, "build", "summary.json"))
	var doc struct{ Remote []RemoteUse }
	if json.Unmarshal(data, &doc) != nil || len(doc.Remote) != 2 {
		t.Errorf("summary.json's remote: %s", data)
	}
	rpmFile := filepath.Join(pt.dir, "out", "RPMS", "noarch", "pext-1-1.noarch.rpm")
	text, err := exec.Command("sh", "-c", "rpm2cpio "+rpmFile+" | cpio -i --to-stdout ./usr/share/pext/seen 2>/dev/null").Output()
	if err != nil || string(text) != "extlib from the remote\nextbase from the remote\n" {
		t.Errorf("pext saw %q, %v", text, err)
	}

	// Again: the remote packages come from the cache, and their digests
	// are the same, so nothing is rebuilt.
	if got := decisionsOf(pt.run()); got != "papp:reused pext:reused plib:reused pother:reused" {
		t.Errorf("second run: %s", got)
	}

	// Locked, with the server gone: offline, the same packages from the
	// cache, nothing rebuilt.
	p, tree, err := pt.tree()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := workspace.WriteLock(p, slices.Collect(maps.Values(tree.Remote))); err != nil || n != 2 {
		t.Fatalf("writing the lock: %d, %v", n, err)
	}
	srv.Close()
	pt.offline = true
	if got := decisionsOf(pt.run()); got != "papp:reused pext:reused plib:reused pother:reused" {
		t.Errorf("offline, locked: %s", got)
	}
	// A lock without extbase: the error names it.
	lockFile := workspace.LockPath(p)
	data, _ = os.ReadFile(lockFile)
	var lock workspace.Lock
	json.Unmarshal(data, &lock)
	lock.Repos[0].Packages = slices.DeleteFunc(lock.Repos[0].Packages, func(lp workspace.LockedPackage) bool { return lp.Name == "extbase" })
	data, _ = json.Marshal(lock)
	os.WriteFile(lockFile, data, 0o644)
	if err := pt.load(); err == nil || !strings.Contains(err.Error(), "no locked package provides extbase >= 1 (needed by extlib)") {
		t.Errorf("incomplete lock: %v", err)
	}
	// No lock at all: offline cannot choose.
	os.Remove(lockFile)
	if err := pt.load(); err == nil || !strings.Contains(err.Error(), "run slipway lock first") {
		t.Errorf("offline without a lock: %v", err)
	}
	pt.offline = false

	// A wrong password: a clear error without the secret.
	srv = remoteRepo(t)
	toml = strings.Replace(toml, url, srv.URL, 1)
	os.WriteFile(filepath.Join(pt.dir, "slipway.toml"), []byte(toml), 0o644)
	os.RemoveAll(filepath.Join(pt.dir, "cache"))
	t.Setenv("EXT_PASSWORD", "wrong-password")
	err = pt.load()
	if err == nil || !strings.Contains(err.Error(), "remote repository ext") || !strings.Contains(err.Error(), "401") ||
		strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("wrong password: %v", err)
	}
}

// rebuild = "listed": only the listed specs (and, to the depth asked, what
// builds against them) are built; the others' packages come from the
// repository, here one a first project published.
func TestRebuildListedTakesTheRestFromTheRepository(t *testing.T) {
	published := newPkgTest(t)
	if got := decisionsOf(published.run()); got != "papp:built plib:built pother:built" {
		t.Fatalf("publishing run: %s", got)
	}
	repoURL := "file://" + filepath.Join(published.dir, "out", "RPMS")

	pt := newPkgTest(t)
	write := func(list string, dependents int) {
		toml := "[project]\nname = \"pkgs\"\n[remote]\ncache_dir = \"cache\"\nrebuild = \"listed\"\nrebuild_list = [" + list + "]\n" +
			"rebuild_dependents = " + strconv.Itoa(dependents) + "\n[[remote.repos]]\nid = \"published\"\nbaseurls = [\"" + repoURL + "\"]\n"
		os.WriteFile(filepath.Join(pt.dir, "slipway.toml"), []byte(toml), 0o644)
	}
	// papp only: plib and pother are taken, and papp's root gets the
	// published plib-devel and plib.
	write(`"papp"`, 0)
	pt.edit("SPECS/plib/plib.spec", "%description\nData", "# changed here, not published\n%description\nData")
	sum := pt.run()
	if got := decisionsOf(sum); got != "papp:built plib:remote pother:remote" {
		t.Fatalf("listed papp: %s", got)
	}
	var names []string
	for _, r := range sum.Remote {
		names = append(names, fmt.Sprintf("%s:%v:%s", r.Name, r.Published, strings.Join(r.NeededBy, ",")))
	}
	if strings.Join(names, " ") != "plib:true:papp plib-devel:true:papp pother:true:" {
		t.Errorf("remote packages: %v", names)
	}
	// The taken specs' packages are in out/RPMS with the built ones.
	for _, f := range []string{"pother-0.1-1.noarch.rpm", "plib-1.0-1.noarch.rpm", "papp-2.0-1.noarch.rpm", "../repodata/repomd.xml"} {
		if _, err := os.Stat(filepath.Join(pt.dir, "out", "RPMS", "noarch", f)); err != nil {
			t.Errorf("out/RPMS: %v", err)
		}
	}
	// plib, with its dependents: plib is built and papp is local again (its
	// key is the one of the first run: the local plib has the published
	// bytes, a comment changes none), pother taken.
	write(`"plib"`, 1)
	if got := decisionsOf(pt.run()); got != "papp:reused plib:built pother:remote" {
		t.Errorf("listed plib with dependents: %s", got)
	}
	// Without dependents, papp is taken as published.
	write(`"plib"`, 0)
	sum = pt.run()
	if got := decisionsOf(sum); got != "papp:remote plib:reused pother:remote" {
		t.Errorf("listed plib alone: %s", got)
	}
	// ... and said to be mixed with the plib built here.
	if r := sum.Results[0].Reason; !strings.HasPrefix(r, "warning: taken as published although it builds against plib, which is built here") {
		t.Errorf("papp's reason: %q", r)
	}
	// A name that is no spec or package: the error names the key.
	write(`"nosuch"`, 0)
	if err := pt.load(); err == nil || !strings.Contains(err.Error(), "remote.rebuild_list") || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("unknown name: %v", err)
	}
}

// rebuild = "changed": against a repository and the source RPMs a first
// project published (signed with rpmsign, served over HTTP behind a
// token), a spec identical to its published source RPM is taken; a
// changed one is built, and so is what builds against it, while the rest
// is still taken. A package the key did not sign is refused.
func TestRebuildChangedBuildsWhatDiffersFromThePublished(t *testing.T) {
	published := newPkgTest(t)
	if got := decisionsOf(published.run()); got != "papp:built plib:built pother:built" {
		t.Fatalf("publishing run: %s", got)
	}
	pub := filepath.Join(t.TempDir(), "pub")
	if out, err := exec.Command("cp", "-r", filepath.Join(published.dir, "out"), pub).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	key := testutil.NewGPGKey(t)
	signed, _ := filepath.Glob(filepath.Join(pub, "*", "*.rpm"))
	more, _ := filepath.Glob(filepath.Join(pub, "RPMS", "*", "*.rpm"))
	key.SignRPMs(t, append(signed, more...)...)
	if err := repo.Create(t.Context(), filepath.Join(pub, "RPMS")); err != nil {
		t.Fatal(err)
	}
	srv := testutil.ServeDir(t, pub, testutil.BearerToken("pub-token"))
	t.Setenv("PUB_TOKEN", "pub-token")

	pt := newPkgTest(t)
	srpmKeys := "srpm_gpg_keys = [\"" + key.Public + "\"]\n"
	write := func(srpmURL string) {
		auth := "[remote.repos.auth]\ntoken = \"env:PUB_TOKEN\"\n"
		toml := "[project]\nname = \"pkgs\"\n[remote]\ncache_dir = \"cache\"\nrebuild = \"changed\"\nsrpm_urls = [\"" + srpmURL + "\"]\n" +
			srpmKeys + "[remote.srpm_auth]\ntoken = \"env:PUB_TOKEN\"\n" +
			"[[remote.repos]]\nid = \"published\"\nbaseurls = [\"" + srv.URL + "/RPMS\"]\ngpg_keys = [\"" + key.Public + "\"]\n" + auth
		os.WriteFile(filepath.Join(pt.dir, "slipway.toml"), []byte(toml), 0o644)
	}
	write(srv.URL + "/SRPMS")
	reasons := func(sum *Summary) map[string]string {
		m := map[string]string{}
		for _, r := range sum.Results {
			m[r.Spec] = r.Reason
		}
		return m
	}

	// Nothing changed: everything is taken, and out/RPMS is whole.
	sum := pt.run()
	if got := decisionsOf(sum); got != "papp:remote plib:remote pother:remote" {
		t.Fatalf("unchanged tree: %s", got)
	}
	if r := reasons(sum)["plib"]; !strings.Contains(r, "unchanged: the spec and sources are those of plib-1.0-1.src.rpm") || !strings.Contains(r, "published") {
		t.Errorf("plib's reason: %q", r)
	}
	if _, err := os.Stat(filepath.Join(pt.dir, "out", "RPMS", "noarch", "papp-2.0-1.noarch.rpm")); err != nil {
		t.Errorf("out/RPMS: %v", err)
	}

	// plib changes: plib is built, and papp, which builds against it; pother
	// is still taken.
	pt.edit("SPECS/plib/plib.spec", "%description\nData", "# changed here, not published\n%description\nData")
	sum = pt.run()
	if got := decisionsOf(sum); got != "papp:built plib:built pother:remote" {
		t.Fatalf("plib changed: %s", got)
	}
	why := reasons(sum)
	if !strings.Contains(why["plib"], "changed: plib.spec differs (in the published plib-1.0-1.src.rpm)") {
		t.Errorf("plib's reason: %q", why["plib"])
	}
	if !strings.Contains(why["papp"], "builds against plib, which is built here") {
		t.Errorf("papp's reason: %q", why["papp"])
	}
	var names []string
	for _, r := range sum.Remote {
		names = append(names, r.Name)
	}
	if strings.Join(names, " ") != "pother" {
		t.Errorf("remote packages: %v", names)
	}

	// Without srpm_gpg_keys only the source RPMs' headers are read (their
	// file digests are there), and the decisions are the same.
	srpmKeys = ""
	write(srv.URL + "/SRPMS")
	os.RemoveAll(filepath.Join(pt.dir, "cache"))
	if got := decisionsOf(pt.run()); got != "papp:reused plib:reused pother:remote" {
		t.Errorf("from the headers: %s", got)
	}
	if heads, _ := filepath.Glob(filepath.Join(pt.dir, "cache", "srpms", "*", "*.src.rpm.head")); len(heads) != 3 {
		t.Errorf("headers read: %v", heads)
	}

	// Source RPMs nobody publishes: every spec is built (papp is reused:
	// the plib built from the spec as published has the bytes of the one
	// built with the comment).
	pt.edit("SPECS/plib/plib.spec", "# changed here, not published\n", "")
	write(srv.URL + "/nowhere")
	sum = pt.run()
	if got := decisionsOf(sum); got != "papp:reused plib:built pother:built" {
		t.Errorf("no source RPMs: %s", got)
	}
	if r := reasons(sum)["pother"]; !strings.Contains(r, "its source RPM is not published") || !strings.Contains(r, "/nowhere/pother-0.1-1.src.rpm: not found") {
		t.Errorf("pother's reason: %q", r)
	}

	// pother's RPM replaced by the unsigned one, the metadata made again
	// (so its checksum matches): refused by signature, and not kept.
	write(srv.URL + "/SRPMS")
	os.RemoveAll(filepath.Join(pt.dir, "cache"))
	unsigned := filepath.Join(published.dir, "out", "RPMS", "noarch", "pother-0.1-1.noarch.rpm")
	if out, err := exec.Command("cp", unsigned, filepath.Join(pub, "RPMS", "noarch")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	if err := repo.Create(t.Context(), filepath.Join(pub, "RPMS")); err != nil {
		t.Fatal(err)
	}
	p, tree, err := pt.tree()
	if err != nil {
		t.Fatal(err)
	}
	_, err = RunProject(t.Context(), p, tree, ProjectOptions{Jobs: 2, BaseRootfs: pt.base})
	var se *repo.SignatureError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "pother-0.1-1.noarch") || !strings.Contains(err.Error(), "published") {
		t.Errorf("unsigned pother: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(pt.dir, "cache", "packages", "published", "pother-*")); len(left) != 0 {
		t.Errorf("the unsigned package was kept: %v", left)
	}
}

// [build] download_srpms: every build rebuilds the published source RPM
// its spec names, not the spec directory: what differs locally does not
// count, and the RPMs are those of the publishing build.
func TestDownloadSRPMsBuildsThePublishedSources(t *testing.T) {
	published := newPkgTest(t)
	if got := decisionsOf(published.run()); got != "papp:built plib:built pother:built" {
		t.Fatalf("publishing run: %s", got)
	}
	srv := testutil.ServeDir(t, filepath.Join(published.dir, "out", "SRPMS"), nil)

	pt := newPkgTest(t)
	os.WriteFile(filepath.Join(pt.dir, "slipway.toml"), []byte("[project]\nname = \"pkgs\"\n[build]\ndownload_srpms = true\n"+
		"[remote]\ncache_dir = \"cache\"\nsrpm_urls = [\""+srv.URL+"\"]\n"), 0o644)
	// Only the published sources are built: this change is not.
	pt.edit("SPECS/plib/plib.spec", "echo '#define PLIB 1'", "echo '#define PLIB 2'")
	sum := pt.run()
	if got := decisionsOf(sum); got != "papp:built plib:built pother:built" {
		t.Fatalf("download_srpms: %s", got)
	}
	log, _ := os.ReadFile(sum.Results[1].Log)
	if !strings.Contains(string(log), "slipway: rebuilding the published plib-1.0-1.src.rpm (from "+srv.URL+"/plib-1.0-1.src.rpm)") {
		t.Errorf("plib's log:\n%s", log)
	}
	for _, f := range []string{"plib-devel-1.0-1.noarch.rpm", "papp-2.0-1.noarch.rpm"} {
		a, _ := os.ReadFile(filepath.Join(published.dir, "out", "RPMS", "noarch", f))
		b, _ := os.ReadFile(filepath.Join(pt.dir, "out", "RPMS", "noarch", f))
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("%s differs from the published one (%d and %d bytes)", f, len(a), len(b))
		}
	}
	// Unchanged published sources: nothing to do.
	if got := decisionsOf(pt.run()); got != "papp:reused plib:reused pother:reused" {
		t.Errorf("second run: %s", got)
	}
}
