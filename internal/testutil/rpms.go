package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RPMRepo builds a repository of noarch test RPMs in a new temporary
// directory and returns it. specs maps a package name to the rest of its
// spec: tags first, then "%install" and what follows (%files, scriptlets).
// Name, Version (1), Release (1), Summary, License, BuildArch and
// %description are added. Host binaries may be packaged (the noarch check
// is off), and nothing is stripped.
func RPMRepo(t testing.TB, specs map[string]string) string {
	t.Helper()
	RequireTools(t, "rpmbuild", "createrepo_c")
	work := t.TempDir()
	repo := filepath.Join(work, "repo")
	for name, body := range specs {
		tags, rest, ok := strings.Cut(body, "%install")
		if !ok {
			t.Fatalf("RPMRepo: the spec of %s has no %%install", name)
		}
		spec := fmt.Sprintf("Name: %s\nVersion: 1\nRelease: 1\nSummary: test\nLicense: MIT\nBuildArch: noarch\n%s%%description\ntest\n%%install%s",
			name, tags, rest)
		file := filepath.Join(work, name+".spec")
		if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("rpmbuild", "-bb", "--define", "_topdir "+filepath.Join(work, "top"),
			"--define", "_rpmdir "+repo, "--define", "__os_install_post %{nil}",
			"--define", "_binaries_in_noarch_packages_terminate_build 0", file).CombinedOutput()
		if err != nil {
			t.Fatalf("rpmbuild %s: %v\n%s", name, err, out)
		}
	}
	if out, err := exec.Command("createrepo_c", "-q", repo).CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
	return repo
}

// StaticBusybox returns the host's busybox if it is statically linked
// (Debian's busybox-static), to run inside roots that have no libc.
func StaticBusybox(t testing.TB) string {
	t.Helper()
	RequireTools(t, "busybox")
	path, _ := exec.LookPath("busybox")
	if out, _ := exec.Command("ldd", path).CombinedOutput(); !strings.Contains(string(out), "not a dynamic") {
		RequireTools(t, "busybox-static (the busybox on PATH is dynamically linked)")
	}
	return path
}
