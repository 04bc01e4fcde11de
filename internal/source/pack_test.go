package source_test

// These tests evaluate the bundled example with workspace, which imports
// source: they live outside the package.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"slipway/internal/project"
	"slipway/internal/rpm"
	"slipway/internal/source"
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
	files, err := source.Resolve(context.Background(), info, specDir, source.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	macros, err := workspace.MacroSet(p)
	if err != nil {
		t.Fatal(err)
	}
	return source.PackSRPM(context.Background(), source.PackOptions{
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

// The digests of what a spec would pack are those rpm records in the
// source RPM packed from it; a change to any of its files is named.
func TestSRPMDigestsMatchThePackedSRPM(t *testing.T) {
	p, specs := tinyProject(t)
	info := specs["libtiny"]
	srpm, err := pack(t, p, info)
	if err != nil {
		t.Fatal(err)
	}
	algo, published, err := rpm.PayloadDigests(srpm)
	if err != nil || algo != "sha256" {
		t.Fatalf("payload digests: %s, %v", algo, err)
	}
	specDir := filepath.Join(p.Path("SPECS"), "libtiny")
	have, err := source.SRPMDigests(info, specDir)
	if err != nil {
		t.Fatal(err)
	}
	if d := source.DiffDigests(published, have); d != "" || len(have) != 9 {
		t.Fatalf("the spec's files and its SRPM differ: %s (%d files)", d, len(have))
	}
	os.WriteFile(filepath.Join(specDir, "tiny.h"), []byte("/* changed */\n"), 0o644)
	if have, err = source.SRPMDigests(info, specDir); err != nil {
		t.Fatal(err)
	}
	if d := source.DiffDigests(published, have); d != "tiny.h differs" {
		t.Errorf("after changing tiny.h: %q", d)
	}
	delete(published, "LICENSE")
	if d := source.DiffDigests(published, map[string]string{}); d != "Makefile is only in it" {
		t.Errorf("nothing local: %q", d)
	}
}
