package buildroot

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestResolveInStaysInRoot(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "usr", "lib"), 0o755)
	links := map[string]string{
		"lib":      "usr/lib",         // relative, inside
		"abs":      "/usr/lib",        // absolute: means root's /usr/lib
		"escape":   "../../../../etc", // cannot climb above the root
		"hostetc":  "/etc",            // the root's /etc, not the host's
		"chain":    "abs/../lib",
		"loop":     "loop",
		"usr/back": "../..",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string]string{
		"/lib/x":          "usr/lib/x",
		"/abs/x":          "usr/lib/x",
		"/escape/passwd":  "etc/passwd",
		"/hostetc/passwd": "etc/passwd",
		"/chain":          "usr/lib",
		"/../../x":        "x",
		"/usr/back/back":  "back", // ../.. from /usr is /, then "back" is missing
		"/new/dir":        "new/dir",
	} {
		got, err := resolveIn(root, path)
		if err != nil || got != filepath.Join(root, want) {
			t.Errorf("resolveIn(%s) = %s, %v; want %s", path, got, err, filepath.Join(root, want))
		}
	}
	if _, err := resolveIn(root, "/loop/x"); err == nil {
		t.Error("a symlink loop resolved")
	}
}

func TestMountsBelow(t *testing.T) {
	info := filepath.Join(t.TempDir(), "mountinfo")
	os.WriteFile(info, []byte(strings.Join([]string{
		`22 1 0:21 / /proc rw,nosuid shared:5 - proc proc rw`,
		`30 1 0:30 / /srv/builds rw - tmpfs tmpfs rw`,
		`31 30 0:31 / /srv/builds/b1/merged rw - overlay overlay rw`,
		`32 30 0:32 / /srv/builds/with\040space rw - tmpfs tmpfs rw`,
		`33 1 0:33 / /srv/builds-other rw - tmpfs tmpfs rw`,
	}, "\n")), 0o644)
	got, err := mountsBelow(info, "/srv/builds/")
	want := []string{"/srv/builds/b1/merged", "/srv/builds/with space"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("mountsBelow = %q, %v; want %q", got, err, want)
	}
}

func TestCleanup(t *testing.T) {
	builds := t.TempDir()
	work := filepath.Join(builds, "b1", "work", "work")
	os.MkdirAll(work, 0o755)
	os.WriteFile(filepath.Join(builds, "b1", "file"), nil, 0o644)
	os.Chmod(work, 0) // as overlayfs leaves it
	os.MkdirAll(filepath.Join(builds, "b2", "upper", "etc"), 0o755)
	if err := Cleanup(builds); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(builds); len(ents) != 0 {
		t.Errorf("Cleanup left %v", ents)
	}
	if err := Cleanup(filepath.Join(builds, "missing")); err != nil {
		t.Errorf("Cleanup of a missing directory: %v", err)
	}
}

func TestScriptletFailures(t *testing.T) {
	ok := "Preparing...\nslipway-test-a-1.0-1   ####\n"
	if err := scriptletFailures("rpm", []byte(ok)); err != nil {
		t.Error(err)
	}
	bad := ok + "warning: %post(c-1.0-1.noarch) scriptlet failed, exit status 3\n"
	if err := scriptletFailures("rpm", []byte(bad)); err == nil || !strings.Contains(err.Error(), "%post(c-1.0-1.noarch)") {
		t.Errorf("got %v", err)
	}
}

func TestSpecValidation(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []Spec{
		{Lower: []string{dir}},                                // no Argv
		{Argv: []string{"true"}},                              // no Lower
		{Lower: []string{"rel"}, Argv: []string{"true"}},      // relative
		{Lower: []string{dir + ",x"}, Argv: []string{"true"}}, // overlay separator
		{Lower: []string{dir}, Upper: "a:b", Argv: []string{"true"}},
		{Lower: []string{dir}, Argv: []string{"true"}, Dir: "rel"},
		{Lower: []string{dir}, Argv: []string{"true"}, Binds: []Bind{{Src: "/missing-src", Dest: "/x"}}},
		{Lower: []string{dir}, Argv: []string{"true"}, Binds: []Bind{{Src: dir, Dest: "x"}}},
	} {
		if _, err := s.validate(); err == nil {
			t.Errorf("validate(%+v) passed", s)
		}
	}
	s, err := Spec{Lower: []string{dir}, Argv: []string{"true"}}.validate()
	if err != nil || s.Dir != "/" || s.Hostname != "slipway" {
		t.Errorf("defaults: %+v, %v", s, err)
	}
}
