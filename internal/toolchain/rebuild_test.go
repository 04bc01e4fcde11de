package toolchain

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"slipway/internal/buildroot"
	"slipway/internal/project"
	"slipway/internal/testutil"
	"slipway/internal/workspace"
)

func TestMain(m *testing.M) {
	if buildroot.IsSandboxInit() {
		buildroot.SandboxInit()
	}
	os.Exit(m.Run())
}

// WriteTestProject copies the two-spec toolchain project of testdata into
// a temporary directory, with rootfs as its bootstrap root.
func writeToolchainProject(t *testing.T, rootfs string) string {
	t.Helper()
	return testutil.CopyProject(t, "testdata/project", "[toolchain.bootstrap]\nrootfs = \""+rootfs+"\"\n")
}

func runToolchain(t *testing.T, dir string) (*Report, error) {
	t.Helper()
	p, err := project.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := workspace.Load(context.Background(), p, workspace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Eval.Errors) > 0 {
		t.Fatal(tree.Eval.Errors[0])
	}
	return RunProject(context.Background(), p, tree, nil, nil)
}

func decisions(r *Report) string {
	var out []string
	for _, s := range r.Steps {
		out = append(out, s.Spec+":"+string(s.Decision))
	}
	return strings.Join(out, " ")
}

func TestRebuildIsIncremental(t *testing.T) {
	testutil.RequireSpecEval(t)
	testutil.RequireTools(t, "createrepo_c")
	dir := writeToolchainProject(t, testutil.DebianRoot(t, "rpm"))

	r, err := runToolchain(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := decisions(r); got != "ta:built tb:built" {
		t.Errorf("first run: %s", got)
	}
	repoDir := filepath.Join(dir, "build", "toolchain", "RPMS")
	for _, f := range []string{"ta-1-1.noarch.rpm", "tb-1-1.noarch.rpm", "repodata/repomd.xml"} {
		if _, err := os.Stat(filepath.Join(repoDir, f)); err != nil {
			t.Errorf("toolchain repo lacks %s", f)
		}
	}

	// Nothing changed: nothing is built, and the repository's metadata (whose
	// digest enters every package build's key) is not rewritten.
	repomd, _ := os.Stat(filepath.Join(repoDir, "repodata", "repomd.xml"))
	if r, err = runToolchain(t, dir); err != nil || decisions(r) != "ta:reused tb:reused" || r.Built != 0 {
		t.Errorf("unchanged run: %s, %v", decisions(r), err)
	}
	if again, err := os.Stat(filepath.Join(repoDir, "repodata", "repomd.xml")); err != nil || !os.SameFile(again, repomd) {
		t.Error("an unchanged run rewrote the toolchain repository's metadata")
	}
	// tb changed: only tb is rebuilt.
	appendTo(t, filepath.Join(dir, "SPECS/tb/tb.spec"), "# changed\n")
	if r, err = runToolchain(t, dir); err != nil || decisions(r) != "ta:reused tb:built" {
		t.Errorf("after changing tb: %s, %v", decisions(r), err)
	}
	// ta changed: ta, and tb, whose root held ta's output, are rebuilt.
	replaceIn(t, filepath.Join(dir, "SPECS/ta/ta.spec"), "ta-data-one", "ta-data-two")
	if r, err = runToolchain(t, dir); err != nil || decisions(r) != "ta:built tb:built" {
		t.Errorf("after changing ta: %s, %v", decisions(r), err)
	}
}

func TestRebuildFailures(t *testing.T) {
	testutil.RequireSpecEval(t)
	testutil.RequireTools(t, "createrepo_c")
	dir := writeToolchainProject(t, testutil.DebianRoot(t, "rpm"))

	// A %build that fails: the error names the step and the kept log; no repo is written.
	replaceIn(t, filepath.Join(dir, "SPECS/tb/tb.spec"), "cat /usr/share/ta/data", "echo broken-build >&2; exit 3")
	_, err := runToolchain(t, dir)
	var be *BuildError
	if !errors.As(err, &be) || be.Step.Spec != "tb" || !strings.Contains(err.Error(), "order.txt:3: BUILD tb failed") {
		t.Fatalf("error = %v", err)
	}
	if log, _ := os.ReadFile(be.Log); !strings.Contains(string(log), "broken-build") {
		t.Errorf("log %s lacks the build's output", be.Log)
	}
	if _, err := os.Stat(filepath.Join(dir, "build", "toolchain", "RPMS")); !os.IsNotExist(err) {
		t.Error("a toolchain repo was written for a failed run")
	}

	// A manifest that names an RPM the builds do not make.
	replaceIn(t, filepath.Join(dir, "SPECS/tb/tb.spec"), "echo broken-build >&2; exit 3", "cat /usr/share/ta/data")
	os.WriteFile(filepath.Join(dir, "toolchain/manifest.txt"), []byte("ta-1-1.noarch.rpm\ntb-1-1.noarch.rpm\ntc-1-1.noarch.rpm\n"), 0o644)
	_, err = runToolchain(t, dir)
	var me *MismatchError
	if !errors.As(err, &me) || !slices.Equal(me.Missing, []string{"tc-1-1.noarch.rpm"}) {
		t.Errorf("manifest mismatch: %v", err)
	}

	// A build order naming a spec that does not exist.
	os.WriteFile(filepath.Join(dir, "toolchain/order.txt"), []byte("BUILD ta\nBUILD nothere\n"), 0o644)
	if _, err = runToolchain(t, dir); err == nil || !strings.Contains(err.Error(), "order.txt:2: BUILD nothere: no spec of that name") {
		t.Errorf("missing spec: %v", err)
	}
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(data, text...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(data), old) {
		t.Fatalf("%s: %q not found (%v)", path, old, err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBootstrapCommand(t *testing.T) {
	testutil.RequireSpecEval(t)
	testutil.RequireTools(t, "createrepo_c")
	rootfs := testutil.DebianRoot(t, "rpm")
	project := func(command string) string {
		return testutil.CopyProject(t, "testdata/project", "[toolchain.bootstrap]\ncommand = '"+command+"'\n")
	}
	// A failing command: an error naming it and the log.
	dir := project("echo making the root; exit 3")
	_, err := runToolchain(t, dir)
	logPath := filepath.Join(dir, "build", "logs", "toolchain", "bootstrap.log")
	if err == nil || !strings.Contains(err.Error(), `the bootstrap command "echo making the root; exit 3" failed`) || !strings.Contains(err.Error(), logPath) {
		t.Errorf("failing command: %v", err)
	}
	if log, _ := os.ReadFile(logPath); !strings.Contains(string(log), "making the root") {
		t.Errorf("bootstrap log: %q", log)
	}
	// A command that writes nothing.
	if _, err := runToolchain(t, project("true")); err == nil || !strings.Contains(err.Error(), "left $SLIPWAY_ROOTFS empty") {
		t.Errorf("empty root: %v", err)
	}
	// A command that makes a root (here: copies one kept in the project, as
	// the command sees only the host and the project; device nodes cannot be
	// made in the sandbox, and build roots get their own /dev anyway); its
	// result is cached.
	dir = project(`tar -C rootfs-src --exclude=./dev -cf - . | tar -C "$SLIPWAY_ROOTFS" -xf -`)
	if out, err := exec.Command("cp", "-al", rootfs, filepath.Join(dir, "rootfs-src")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	if r, err := runToolchain(t, dir); err != nil || r.Built != 2 {
		t.Fatalf("command root: %v", err)
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "build", "toolchain", "bootstrap", "command-*"))
	if len(entries) != 1 {
		t.Errorf("bootstrap cache: %v", entries)
	}
}
