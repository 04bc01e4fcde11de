package workspace

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"slipway/internal/graph"
	"slipway/internal/testutil"
)

// makeRPM builds a noarch RPM providing pkgconfig(name) from a file list
// the spec does not declare, and returns its path.
func makeRPM(t *testing.T, dir, name string) string {
	t.Helper()
	spec := filepath.Join(dir, name+".spec")
	os.WriteFile(spec, []byte(`Name: `+name+`
Version: 1.0
Release: 1
Summary: test
License: MIT
BuildArch: noarch
Provides: pkgconfig(`+name+`) = 1.0
%description
test
%install
mkdir -p %{buildroot}/usr/share/`+name+`
echo x > %{buildroot}/usr/share/`+name+`/data
%files
/usr/share/`+name+`
`), 0o644)
	out, err := exec.Command("rpmbuild", "-bb", "--define", "_topdir "+filepath.Join(dir, "top"),
		"--define", "_rpmdir "+dir, "--define", "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm", spec).CombinedOutput()
	if err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	return filepath.Join(dir, name+"-1.0-1.noarch.rpm")
}

func TestToolchainHeadersAreReadAndCached(t *testing.T) {
	testutil.RequireTools(t, "rpmbuild")
	work := t.TempDir()
	repo := filepath.Join(work, "repo")
	os.MkdirAll(repo, 0o755)
	rpmFile := makeRPM(t, work, "zz")
	os.Rename(rpmFile, filepath.Join(repo, filepath.Base(rpmFile)))
	cache := filepath.Join(work, "headers.json")

	hs, err := readHeaders(repo, cache)
	if err != nil || len(hs) != 1 || hs[0].Name != "zz" {
		t.Fatalf("readHeaders: %v %+v", err, hs)
	}
	pre := withHeaders([]graph.Prebuilt{{Name: "zz", EVR: "1.0-1", Arch: "noarch"}, {Name: "other", EVR: "1-1", Arch: "noarch"}}, hs)
	if len(pre[0].Provides) == 0 || pre[0].Provides[0].Name != "pkgconfig(zz)" || len(pre[0].Files) == 0 || pre[1].Provides != nil {
		t.Errorf("withHeaders: %+v", pre)
	}
	// The cache answers while the file is unchanged ...
	data, _ := os.ReadFile(cache)
	os.WriteFile(cache, []byte(strings.Replace(string(data), `"Name":"zz"`, `"Name":"from-cache"`, 1)), 0o644)
	if hs, err := readHeaders(repo, cache); err != nil || len(hs) != 1 || hs[0].Name != "from-cache" {
		t.Fatalf("cached: %v %+v", err, hs)
	}
	// ... and a replaced file is read again.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(repo, "zz-1.0-1.noarch.rpm"), later, later)
	os.WriteFile(cache, []byte("not json"), 0o644)
	if hs, err := readHeaders(repo, cache); err != nil || len(hs) != 1 || hs[0].Name != "zz" {
		t.Fatalf("after a change: %v %+v", err, hs)
	}
	if hs, err := readHeaders(filepath.Join(work, "none"), cache); err != nil || hs != nil {
		t.Errorf("no repository: %v %+v", err, hs)
	}
}
