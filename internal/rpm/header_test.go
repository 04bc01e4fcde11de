package rpm

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"slipway/internal/testutil"
)

// buildRPM builds a small package with rpmbuild and returns its path.
func buildRPM(t *testing.T) string {
	t.Helper()
	testutil.RequireTools(t, "rpmbuild")
	top := t.TempDir()
	spec := filepath.Join(top, "hdr.spec")
	os.WriteFile(spec, []byte(`Name: hdr
Epoch: 2
Version: 1.5
Release: 3
Summary: s
License: MIT
BuildArch: noarch
Provides: virtual-hdr = 9
Requires: base >= 1.0
Requires(post): coreutils
Conflicts: oldhdr < 1
Obsoletes: hdr-legacy
%description
d
%install
mkdir -p %{buildroot}/usr/share/hdr %{buildroot}/usr/bin
echo x > %{buildroot}/usr/share/hdr/data
printf '#!/bin/sh\n' > %{buildroot}/usr/bin/hdr
chmod 755 %{buildroot}/usr/bin/hdr
%post
true
%files
/usr/share/hdr
/usr/bin/hdr
`), 0o644)
	cmd := exec.Command("rpmbuild", "-bb", "--define", "_topdir "+top, "--define", "_dbpath /var/lib/rpm", spec)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	return filepath.Join(top, "RPMS", "noarch", "hdr-1.5-3.noarch.rpm")
}

func TestReadHeader(t *testing.T) {
	path := buildRPM(t)
	h, err := ReadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Name != "hdr" || h.Epoch != "2" || h.Version != "1.5" || h.Release != "3" || h.Arch != "noarch" ||
		h.SourceRPM != "hdr-1.5-3.src.rpm" || h.FileName() != "hdr-1.5-3.noarch.rpm" {
		t.Errorf("identity: %+v", h)
	}
	data, _ := os.ReadFile(path)
	if sum := sha256.Sum256(data); h.SHA256 != hex.EncodeToString(sum[:]) {
		t.Error("digest differs from the file's")
	}
	if !slices.Contains(h.Files, "/usr/share/hdr/data") || !slices.Contains(h.Files, "/usr/bin/hdr") {
		t.Errorf("files: %v", h.Files)
	}
	// Compare the dependencies with what rpm itself reads from the file.
	for _, c := range []struct {
		list []HeaderDep
		tag  string
	}{{h.Provides, "PROVIDE"}, {h.Requires, "REQUIRE"}, {h.Conflicts, "CONFLICT"}, {h.Obsoletes, "OBSOLETE"}} {
		qf := "[%{" + c.tag + "NAME}\t%{" + c.tag + "FLAGS:depflags}\t%{" + c.tag + "VERSION}\n]"
		out, err := exec.Command("rpm", "-qp", "--qf", qf, path).Output()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range c.list {
			got = append(got, d.Name+"\t"+d.Flags+"\t"+d.Version)
		}
		want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if !slices.Equal(got, want) {
			t.Errorf("%s: read %q, rpm says %q", c.tag, got, want)
		}
	}
	var post, rpmlib bool
	for _, d := range h.Requires {
		post = post || d.Name == "coreutils" && strings.Contains(d.Type, "post")
		rpmlib = rpmlib || strings.HasPrefix(d.Name, "rpmlib(") && d.Type == "rpmlib"
	}
	if !post || !rpmlib {
		t.Errorf("dependency types not read: %+v", h.Requires)
	}
	if _, err := ReadHeader(filepath.Join(filepath.Dir(path), "..", "..", "hdr.spec")); err == nil {
		t.Error("a spec file read as an RPM")
	}
}
