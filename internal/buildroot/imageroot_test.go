package buildroot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/testutil"
)

// imageRepo builds a repository of noarch RPMs for an image root: a shell
// (the host's static busybox as /bin/sh), a package whose %post records
// what it sees of /proc and /dev, and one whose %post fails.
func imageRepo(t *testing.T) string {
	t.Helper()
	busybox := testutil.StaticBusybox(t)
	return testutil.RPMRepo(t, map[string]string{
		"slipway-img-shell": fmt.Sprintf(`Provides: /bin/sh
%%install
install -D -m 755 %s %%{buildroot}/usr/bin/busybox
mkdir -p %%{buildroot}/bin
ln -s ../usr/bin/busybox %%{buildroot}/bin/sh
%%files
/usr/bin/busybox
/bin/sh
`, busybox),
		"slipway-img-probe": `Requires: slipway-img-shell
Requires(post): /bin/sh
%install
mkdir -p %{buildroot}/var/lib/probe
%files
/var/lib/probe
%post
/usr/bin/busybox head -1 /proc/self/status > /var/lib/probe/proc
test -c /dev/null && echo yes > /var/lib/probe/devnull
`,
		"slipway-img-bad": `Requires(post): /bin/sh
%install
mkdir -p %{buildroot}/var/lib/bad
%files
/var/lib/bad
%post
echo about to fail; exit 3
`,
	})
}

func TestImageRootInstallsRunsAndCatchesScriptletFailures(t *testing.T) {
	testutil.RequireRoot(t)
	repo := imageRepo(t)
	var log strings.Builder
	r := ImageRoot{Dir: t.TempDir(), Log: &log}
	ctx := context.Background()
	if err := r.InstallPackages(ctx, PackageInstall{Repos: []string{repo}, Packages: []string{"slipway-img-probe"}}); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	root := r.Path()
	if data, _ := os.ReadFile(filepath.Join(root, "var/lib/probe/proc")); !strings.HasPrefix(string(data), "Name:") {
		t.Errorf("%%post saw no /proc: %q", data)
	}
	if data, _ := os.ReadFile(filepath.Join(root, "var/lib/probe/devnull")); string(data) != "yes\n" {
		t.Errorf("%%post saw no /dev/null: %q", data)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/rpm")); err != nil {
		t.Errorf("no rpm database in the root: %v", err)
	}
	res, err := r.Run(ctx, []string{"/bin/sh", "-c", "echo hello > /etc/motd; rm /var/lib/probe/proc"})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Run: %v, exit %d", err, res.ExitCode)
	}
	if data, _ := os.ReadFile(filepath.Join(root, "etc/motd")); string(data) != "hello\n" {
		t.Errorf("/etc/motd: %q", data)
	}
	if _, err := os.Lstat(filepath.Join(root, "var/lib/probe/proc")); !os.IsNotExist(err) {
		t.Errorf("a file the command removed is still there (or a whiteout): %v", err)
	}
	err = r.InstallPackages(ctx, PackageInstall{Repos: []string{repo}, Packages: []string{"slipway-img-bad"}})
	if err == nil || !strings.Contains(err.Error(), "scriptlet failed") {
		t.Errorf("a failing %%post should fail the install: %v", err)
	}
	if err := r.Clean(); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(r.Dir)
	if len(ents) != 1 || ents[0].Name() != "upper" {
		t.Errorf("after Clean: %v", ents)
	}
}
