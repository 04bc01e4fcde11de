package source

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"slipway/internal/project"
	"slipway/internal/spec"
	"slipway/internal/testutil"
	"slipway/internal/workspace"
)

// tinyProject copies the bundled example and evaluates it.
func tinyProject(t *testing.T) (*project.Project, map[string]*spec.Info) {
	t.Helper()
	testutil.RequireSpecEval(t)
	testutil.RequireTools(t, "rpmbuild")
	dir := testutil.CopyProject(t, "../../examples/tiny", "")
	p, err := project.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := workspace.Load(context.Background(), p, workspace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tree.Eval.Errors {
		t.Fatalf("evaluation failed: %v", e)
	}
	specs := map[string]*spec.Info{}
	for _, info := range tree.Eval.Specs {
		specs[info.Name] = info
	}
	return p, specs
}

// pack resolves and packs one spec of the project into a new directory.
func pack(t *testing.T, p *project.Project, info *spec.Info) (string, error) {
	t.Helper()
	specDir := filepath.Join(p.Path(p.Config.Project.SpecsDir), filepath.Dir(info.Path))
	files, err := Resolve(context.Background(), info, specDir, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	macros, err := workspace.MacroSet(p)
	if err != nil {
		t.Fatal(err)
	}
	return PackSRPM(context.Background(), PackOptions{
		Info:       info,
		SpecDir:    specDir,
		Sources:    files,
		OutDir:     t.TempDir(),
		Macros:     macros,
		ConfigRoot: filepath.Join(p.Path(p.Config.Project.BuildDir), "rpmconfig"),
		TempDir:    t.TempDir(), // a different private directory each time
	})
}

func TestPackSRPMReproducible(t *testing.T) {
	p, specs := tinyProject(t)
	info := specs["libtiny"]
	first, err := pack(t, p, info)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(first) != "libtiny-1.2.0-1.tn1.src.rpm" {
		t.Errorf("packed %s", first)
	}
	if entries, _ := os.ReadDir(filepath.Dir(first)); len(entries) != 1 {
		t.Errorf("output dir holds %v", entries)
	}

	// Another checkout of the same tree: other file times and modes.
	specDir := filepath.Join(p.Path("SPECS"), "libtiny")
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(filepath.Join(specDir, "libtiny.c"), old, old)
	os.Chmod(filepath.Join(specDir, "tiny.h"), 0o664)
	os.Chtimes(filepath.Join(specDir, "libtiny-1.2.0-whitespace.patch"), old, old)
	second, err := pack(t, p, info)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if !bytes.Equal(a, b) {
		t.Fatalf("packing twice gave different SRPMs (%d and %d bytes)", len(a), len(b))
	}

	// What is in it: the spec, the sources and the patch, with the
	// changelog's time and a fixed build host.
	out, err := exec.Command("rpm", "-qp", "--qf", "%{BUILDHOST} %{BUILDTIME}\n[%{FILENAMES} %{FILEMODES:perms} %{FILEMTIMES}\n]", first).Output()
	if err != nil {
		t.Fatal(err)
	}
	const day = "1705406400" // * Tue Jan 16 2024, at noon UTC as rpm reads it
	want := "slipway " + day + "\n"
	for _, f := range []string{"LICENSE", "Makefile", "README.md", "libtiny-1.2.0-whitespace.patch", "libtiny.c", "libtiny.pc.in", "libtiny.spec", "test_tiny.c", "tiny.h"} {
		want += f + " -rw-r--r-- " + day + "\n"
	}
	if string(out) != want {
		t.Errorf("rpm -qp says\n%s\nwant\n%s", out, want)
	}
}

func TestPackSRPMErrorNamesSpec(t *testing.T) {
	p, specs := tinyProject(t)
	info := specs["libtiny"]
	specDir := filepath.Join(p.Path("SPECS"), "libtiny")
	os.Remove(filepath.Join(specDir, "libtiny-1.2.0-whitespace.patch"))
	path, err := pack(t, p, info)
	if err == nil {
		t.Fatalf("packed %s without its patch", path)
	}
	t.Log(err)
	for _, s := range []string{
		"packing the SRPM of " + filepath.Join(specDir, "libtiny.spec"),
		"rpmbuild",
		filepath.Join(specDir, "libtiny-1.2.0-whitespace.patch") + ": No such file or directory",
	} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q:\n%v", s, err)
		}
	}
}

func TestRPMArgs(t *testing.T) {
	got := rpmArgs("rpmbuild", "/x/SPECS/a/a.spec", []string{"dist .tn1", "with_check 1"}, "-bs", "--nodeps")
	want := []string{"rpmbuild", "-bs", "--nodeps", "-D", "dist .tn1", "-D", "with_check 1",
		"-D", "_topdir slipway", "-D", "_sourcedir slipway/SOURCES", "-D", "_specdir slipway/SOURCES",
		"-D", "_srcrpmdir slipway/SRPMS", "-D", "_rpmdir slipway/RPMS", "-D", "_builddir slipway/BUILD",
		"-D", "_buildrootdir slipway/BUILDROOT", "-D", "_buildhost slipway",
		"-D", "use_source_date_epoch_as_buildtime 1", "-D", "clamp_mtime_to_source_date_epoch 1",
		"slipway/SOURCES/a.spec"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestMoveAtomicAcrossFileSystems(t *testing.T) {
	other, err := os.MkdirTemp("/dev/shm", "slipway-test-")
	if err != nil {
		t.Skip("no /dev/shm")
	}
	defer os.RemoveAll(other)
	dest := filepath.Join(t.TempDir(), "out", "x.src.rpm")
	var a, b syscall.Stat_t
	if syscall.Stat(other, &a) != nil || syscall.Stat(filepath.Dir(filepath.Dir(dest)), &b) != nil || a.Dev == b.Dev {
		t.Skip("/dev/shm is on the same file system as the temp dir")
	}
	src := filepath.Join(other, "x.src.rpm")
	os.WriteFile(src, []byte("srpm"), 0o600)
	if err := moveAtomic(src, dest); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(dest); string(data) != "srpm" {
		t.Errorf("moved %q", data)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	if entries, _ := os.ReadDir(filepath.Dir(dest)); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}
