package repo

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/testutil"
)

func TestCreateIsReadByDNF(t *testing.T) {
	testutil.RequireTools(t, "rpmbuild", "createrepo_c", "dnf")
	top := t.TempDir()
	spec := filepath.Join(top, "r.spec")
	os.WriteFile(spec, []byte("Name: repotest\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\n%description\nd\n%files\n"), 0o644)
	if out, err := exec.Command("rpmbuild", "-bb", "--define", "_topdir "+top, spec).CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	repoDir := filepath.Join(top, "RPMS")
	for i := 0; i < 2; i++ { // the second call updates
		if err := Create(context.Background(), repoDir); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("dnf", "-q", "--repofrompath=t,"+repoDir, "--repo=t", "--setopt=cachedir="+t.TempDir(),
		"--installroot", t.TempDir(), "repoquery", "--available", "repotest").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "repotest-0:1-1.noarch") {
		t.Errorf("dnf does not see the package: %v\n%s", err, out)
	}
	if err := Create(context.Background(), filepath.Join(top, "nothere")); err == nil {
		t.Error("no error for a missing directory")
	}
}

func TestCreateKeepsMetadataOfSameRPMs(t *testing.T) {
	testutil.RequireTools(t, "rpmbuild", "createrepo_c")
	top := t.TempDir()
	build := func(name string) {
		spec := filepath.Join(top, name+".spec")
		os.WriteFile(spec, []byte("Name: "+name+"\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\n%description\nd\n%files\n"), 0o644)
		if out, err := exec.Command("rpmbuild", "-bb", "--define", "_topdir "+top, spec).CombinedOutput(); err != nil {
			t.Fatalf("rpmbuild: %v\n%s", err, out)
		}
	}
	repoDir := filepath.Join(top, "RPMS")
	repomd := filepath.Join(repoDir, "repodata", "repomd.xml")
	create := func() os.FileInfo {
		if err := Create(context.Background(), repoDir); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(repomd)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	build("keep-a")
	first := create()
	if again := create(); !os.SameFile(first, again) {
		t.Error("the same RPMs: repomd.xml was rewritten")
	}
	build("keep-b")
	if again := create(); os.SameFile(first, again) {
		t.Error("a new RPM: repomd.xml was not rewritten")
	}
	primary, err := exec.Command("zcat", filepath.Join(repoDir, "repodata", "primary.xml.gz")).Output()
	if err != nil || !strings.Contains(string(primary), "<name>keep-b</name>") {
		t.Errorf("the new RPM is not in the metadata: %v", err)
	}
}

// An RPM replaced by a file of the same size and modification second (as
// rpmsign does) gets new metadata: createrepo_c --update would keep the
// old entry, whose checksum no longer matches.
func TestCreateSeesAnRPMReplacedWithTheSameSizeAndTime(t *testing.T) {
	testutil.RequireTools(t, "rpmbuild", "createrepo_c")
	top := t.TempDir()
	spec := filepath.Join(top, "r.spec")
	os.WriteFile(spec, []byte("Name: same\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\n%description\nd\n%files\n"), 0o644)
	if out, err := exec.Command("rpmbuild", "-bb", "--define", "_topdir "+top, spec).CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	repoDir := filepath.Join(top, "RPMS")
	if err := Create(context.Background(), repoDir); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(repoDir, "noarch", "same-1-1.noarch.rpm")
	st, _ := os.Stat(file)
	data, _ := os.ReadFile(file)
	data[len(data)-1] ^= 0xff // other bytes, same size
	os.WriteFile(file+".new", data, 0o644)
	os.Rename(file+".new", file)
	os.Chtimes(file, st.ModTime(), st.ModTime())
	if err := Create(context.Background(), repoDir); err != nil {
		t.Fatal(err)
	}
	want, _ := fileChecksum(file, "sha256")
	r, err := Load(context.Background(), RepoConfig{ID: "same", BaseURLs: []string{repoDir}}, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.ByName("same"); len(got) != 1 || got[0].Checksum.Value != want {
		t.Errorf("the metadata has %+v, the file's sha256 is %s", got, want)
	}
}
