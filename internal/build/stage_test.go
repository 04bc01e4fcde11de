package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

type pkgTest struct {
	t       *testing.T
	dir     string
	base    string
	offline bool // workspace.Options.Offline
}

func newPkgTest(t *testing.T) *pkgTest {
	testutil.RequireSpecEval(t)
	testutil.RequireTools(t, "createrepo_c", "rpmbuild", "rpm2cpio", "cpio")
	return &pkgTest{t: t, dir: testutil.CopyProject(t, "testdata/project", ""), base: testutil.DebianRoot(t, "rpm,patch")}
}

func (pt *pkgTest) run() *Summary {
	pt.t.Helper()
	return pt.runWith(ProjectOptions{})
}

// runWith runs the package stage with o, on two workers in the test's base.
func (pt *pkgTest) runWith(o ProjectOptions) *Summary {
	pt.t.Helper()
	p, tree, err := pt.tree()
	if err != nil {
		pt.t.Fatal(err)
	}
	o.Jobs, o.BaseRootfs = 2, pt.base
	sum, err := RunProject(context.Background(), p, tree, o)
	if err != nil {
		pt.t.Fatal(err)
	}
	return sum
}

// tree loads the project and evaluates it.
func (pt *pkgTest) tree() (*project.Project, *workspace.Tree, error) {
	p, err := project.Load(pt.dir)
	if err != nil {
		return nil, nil, err
	}
	p.Offline = pt.offline
	tree, err := workspace.Load(context.Background(), p, workspace.Options{})
	if err == nil && len(tree.Eval.Errors) > 0 {
		err = fmt.Errorf("%v", tree.Eval.Errors)
	}
	return p, tree, err
}

// load is tree's error.
func (pt *pkgTest) load() error {
	_, _, err := pt.tree()
	return err
}

func decisionsOf(s *Summary) string {
	var out []string
	for _, r := range s.Results {
		out = append(out, r.Spec+":"+string(r.Decision))
	}
	return strings.Join(out, " ")
}

func (pt *pkgTest) edit(rel, old, new string) {
	pt.t.Helper()
	path := filepath.Join(pt.dir, rel)
	data, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(data), old) {
		pt.t.Fatalf("%s: %q not found", rel, old)
	}
	os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644)
}

func TestPackageStageIsIncremental(t *testing.T) {
	pt := newPkgTest(t)
	sum := pt.run()
	if got := decisionsOf(sum); got != "papp:built plib:built pother:built" {
		t.Fatalf("first run: %s", got)
	}
	// papp's build saw plib's data and the patch: its RPM holds both.
	out := filepath.Join(pt.dir, "out")
	rpmFile := filepath.Join(out, "RPMS", "noarch", "papp-2.0-1.noarch.rpm")
	text, err := exec.Command("sh", "-c", "rpm2cpio "+rpmFile+" | cpio -i --to-stdout ./usr/share/papp/papp.txt 2>/dev/null").Output()
	if err != nil || !strings.Contains(string(text), "plib data version 1") || !strings.Contains(string(text), "hello, patched") {
		t.Errorf("papp.txt = %q, %v", text, err)
	}
	if _, err := os.Stat(filepath.Join(out, "RPMS", "repodata", "repomd.xml")); err != nil {
		t.Error("no repository metadata in out/RPMS")
	}
	if _, err := os.Stat(filepath.Join(out, "SRPMS", "papp-2.0-1.src.rpm")); err != nil {
		t.Error("no SRPM in out/SRPMS")
	}

	// Nothing changed: nothing is built, and out/ holds only the RPMs.
	if got := decisionsOf(pt.run()); got != "papp:reused plib:reused pother:reused" {
		t.Errorf("unchanged: %s", got)
	}
	if left, _ := filepath.Glob(filepath.Join(out, "RPMS", "*", "*.tmp")); len(left) > 0 {
		t.Errorf("left in out/: %v", left)
	}
	// plib forced: built again, into the store in place of the old entry;
	// its bytes are the same, so papp is not rebuilt.
	if got := decisionsOf(pt.runWith(ProjectOptions{Force: []string{"plib"}})); got != "papp:reused plib:built pother:reused" {
		t.Errorf("plib forced: %s", got)
	}
	if d, reason, _ := Why(filepath.Join(pt.dir, "build"), "plib"); d != Built || !strings.Contains(reason, "forced") {
		t.Errorf("why plib: %s %q", d, reason)
	}
	if got := decisionsOf(pt.run()); got != "papp:reused plib:reused pother:reused" {
		t.Errorf("after the forced build: %s", got)
	}
	// A patch of papp changed: papp alone is rebuilt, and why says so.
	pt.edit("SPECS/papp/papp-greeting.patch", "+hello, patched", "+hello, patched again")
	if got := decisionsOf(pt.run()); got != "papp:built plib:reused pother:reused" {
		t.Errorf("papp's patch changed: %s", got)
	}
	if d, reason, _ := Why(filepath.Join(pt.dir, "build"), "papp"); d != Built || !strings.Contains(reason, "a patch, a local source") {
		t.Errorf("why papp: %s %q", d, reason)
	}
	// A comment in plib's spec: plib is rebuilt, its RPMs come out the same
	// bytes, so papp, whose build root did not change, is not.
	pt.edit("SPECS/plib/plib.spec", "%description\nData", "# a comment\n%description\nData")
	if got := decisionsOf(pt.run()); got != "papp:reused plib:built pother:reused" {
		t.Errorf("a comment in plib: %s", got)
	}
	// plib's data changed: plib and papp (whose root changed) are rebuilt.
	pt.edit("SPECS/plib/plib.data", "version 1", "version 2")
	sig := filepath.Join(pt.dir, "SPECS/plib/plib.signatures.json")
	sum2, _ := exec.Command("sha256sum", filepath.Join(pt.dir, "SPECS/plib/plib.data")).Output()
	os.WriteFile(sig, []byte(`{"Signatures": {"plib.data": "`+strings.Fields(string(sum2))[0]+`"}}`), 0o644)
	if got := decisionsOf(pt.run()); got != "papp:built plib:built pother:reused" {
		t.Errorf("plib's data changed: %s", got)
	}
	if _, reason, _ := Why(filepath.Join(pt.dir, "build"), "papp"); !strings.Contains(reason, "plib in the build root changed") {
		t.Errorf("why papp: %q", reason)
	}
	// Every RPM in out/ is whole.
	files, _ := filepath.Glob(filepath.Join(out, "RPMS", "noarch", "*.rpm"))
	for _, f := range files {
		if o, err := exec.Command("rpmkeys", "--checksig", "--nosignature", f).CombinedOutput(); err != nil {
			t.Errorf("%s: %s", f, o)
		}
	}
}

func TestSkipCheck(t *testing.T) {
	pt := newPkgTest(t)
	pt.edit("SPECS/pother/pother.spec", "%files", "%check\necho deliberate check failure; exit 1\n\n%files")
	sum := pt.run()
	if got := decisionsOf(sum); !strings.Contains(got, "pother:failed") {
		t.Fatalf("a failing %%check: %s", got)
	}
	// skip_check: rpmbuild --nocheck, and a key of its own.
	os.WriteFile(filepath.Join(pt.dir, "slipway.toml"), []byte("[project]\nname = \"pkgs\"\n[build]\nskip_check = true\n"), 0o644)
	if got := decisionsOf(pt.run()); got != "papp:built plib:built pother:built" {
		t.Errorf("skip_check: %s", got)
	}
	if _, reason, _ := Why(filepath.Join(pt.dir, "build"), "papp"); !strings.Contains(reason, "skip_check") {
		t.Errorf("why papp: %q", reason)
	}
}

func TestFailureBlocksOnlyDependents(t *testing.T) {
	pt := newPkgTest(t)
	pt.edit("SPECS/plib/plib.spec", "mkdir -p %{buildroot}/usr/share/plib", "echo deliberate failure; exit 1")
	sum := pt.run()
	if got := decisionsOf(sum); got != "papp:blocked plib:failed pother:built" {
		t.Fatalf("decisions: %s", got)
	}
	for _, r := range sum.Results {
		if r.Spec == "papp" && (r.Blocker != "plib" || !strings.Contains(r.Reason, "needs plib, which failed")) {
			t.Errorf("papp: %+v", r)
		}
		if r.Spec == "plib" {
			log, _ := os.ReadFile(r.Log)
			if !strings.Contains(string(log), "deliberate failure") || !strings.Contains(r.Reason, "rpmbuild exited with status 1") {
				t.Errorf("plib: %+v\n%s", r, log)
			}
		}
	}
	if d, _, _ := Why(filepath.Join(pt.dir, "build"), "papp"); d != Blocked {
		t.Errorf("why papp: %s", d)
	}
	// Fixed: the failed package and its dependents build; pother is reused.
	pt.edit("SPECS/plib/plib.spec", "echo deliberate failure; exit 1", "mkdir -p %{buildroot}/usr/share/plib")
	if got := decisionsOf(pt.run()); got != "papp:built plib:built pother:reused" {
		t.Errorf("after the fix: %s", got)
	}
}

func TestToolchainOwnedPackagesAreNotRebuilt(t *testing.T) {
	pt := newPkgTest(t)
	f, _ := os.OpenFile(filepath.Join(pt.dir, "slipway.toml"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("[toolchain]\nprebuilt = [\"plib-devel\"]\n")
	f.Close()
	sum := pt.run()
	for _, r := range sum.Results {
		if r.Spec == "plib" && (r.Decision != Failed || !strings.Contains(r.Reason, "would build plib-devel, which the toolchain manifest owns")) {
			t.Errorf("plib: %+v", r)
		}
	}
}

func TestMissingBuildRequiresFailsOnlyThatBuild(t *testing.T) {
	pt := newPkgTest(t)
	pt.edit("SPECS/pother/pother.spec", "BuildArch:      noarch", "BuildArch:      noarch\nBuildRequires:  nothing-provides-this >= 2")
	sum := pt.run()
	if got := decisionsOf(sum); got != "papp:built plib:built pother:failed" {
		t.Errorf("decisions: %s", got)
	}
	for _, r := range sum.Results {
		if r.Spec == "pother" && !strings.Contains(r.Reason, `nothing provides its BuildRequires "nothing-provides-this >= 2"`) {
			t.Errorf("pother: %+v", r)
		}
	}
}

func TestDryRunDecidesWithoutBuilding(t *testing.T) {
	pt := newPkgTest(t)
	pt.run()
	pt.edit("SPECS/plib/plib.data", "version 1", "version 2")
	sig := filepath.Join(pt.dir, "SPECS/plib/plib.signatures.json")
	sum, _ := exec.Command("sha256sum", filepath.Join(pt.dir, "SPECS/plib/plib.data")).Output()
	os.WriteFile(sig, []byte(`{"Signatures": {"plib.data": "`+strings.Fields(string(sum))[0]+`"}}`), 0o644)
	storeBefore, _ := filepath.Glob(filepath.Join(pt.dir, "build", "store", "*", "*"))

	p, _ := project.Load(pt.dir)
	tree, _ := workspace.Load(context.Background(), p, workspace.Options{})
	plan, err := RunProject(context.Background(), p, tree, ProjectOptions{BaseRootfs: pt.base, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Result{}
	for _, r := range plan.Results {
		got[r.Spec] = r
	}
	if r := got["plib"]; r.Decision != Planned || !strings.Contains(r.Reason, "the spec or a file beside it") {
		t.Errorf("plib: %+v", r)
	}
	if r := got["papp"]; r.Decision != Planned || r.Reason != "after plib is built, if its RPMs change" {
		t.Errorf("papp: %+v", r)
	}
	if r := got["pother"]; r.Decision != Reused {
		t.Errorf("pother: %+v", r)
	}
	storeAfter, _ := filepath.Glob(filepath.Join(pt.dir, "build", "store", "*", "*"))
	if len(storeAfter) != len(storeBefore) {
		t.Errorf("a dry run added to the store: %d -> %d entries", len(storeBefore), len(storeAfter))
	}
	if d, _, _ := Why(filepath.Join(pt.dir, "build"), "plib"); d != Built {
		t.Errorf("a dry run rewrote why: %s", d)
	}
}

// A full disk under build/ (a tiny tmpfs): the run fails clearly, leaves
// no half-written store entry, and a run with room finishes the job.
func TestFullDisk(t *testing.T) {
	pt := newPkgTest(t)
	buildDir := filepath.Join(pt.dir, "build")
	os.MkdirAll(buildDir, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", buildDir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	mounted := true
	defer func() {
		if mounted {
			exec.Command("umount", buildDir).Run()
		}
	}()
	p, err := project.Load(pt.dir)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := workspace.Load(context.Background(), p, workspace.Options{})
	var sum *Summary
	if err == nil && len(tree.Eval.Errors) == 0 {
		sum, err = RunProject(context.Background(), p, tree, ProjectOptions{Jobs: 2, BaseRootfs: pt.base})
	}
	failed := err != nil || (tree != nil && len(tree.Eval.Errors) > 0) || sum.Counts[Failed] > 0
	if !failed {
		t.Fatalf("a build in 400 KiB succeeded: %v", decisionsOf(sum))
	}
	t.Logf("with a full disk: err=%v", err)
	if sum != nil {
		for _, r := range sum.Results {
			if r.Decision == Failed && !strings.Contains(r.Reason, "no space left on the file system of "+buildDir) {
				t.Errorf("%s failed without saying the disk is full: %s", r.Spec, r.Reason)
			}
		}
	}
	// Every store entry is whole: it has its meta.json and every file it lists.
	entries, _ := filepath.Glob(filepath.Join(buildDir, "store", "*", "*"))
	for _, e := range entries {
		if strings.HasPrefix(filepath.Base(e), ".tmp-") {
			t.Errorf("half-written store entry left: %s", e)
			continue
		}
		if _, err := os.Stat(filepath.Join(e, "meta.json")); err != nil {
			t.Errorf("store entry without meta.json: %s", e)
		}
	}
	exec.Command("umount", buildDir).Run()
	mounted = false
	// With room again, the job finishes.
	if got := decisionsOf(pt.run()); strings.Contains(got, "failed") || strings.Contains(got, "blocked") {
		t.Errorf("after the disk was freed: %s", got)
	}
}

// flaky fails the first n builds it is asked for, then builds for real.
type flaky struct {
	Builder
	n     int
	calls int
}

func (f *flaky) Build(ctx context.Context, req Request) error {
	if f.calls++; f.calls <= f.n {
		return errors.New("flaky failure")
	}
	return f.Builder.Build(ctx, req)
}

func TestRetries(t *testing.T) {
	pt := newPkgTest(t)
	p, _ := project.Load(pt.dir)
	tree, _ := workspace.Load(context.Background(), p, workspace.Options{})
	macros, _ := workspace.MacroSet(p)
	opts := Options{
		SpecsDir: p.Path("SPECS"), BuildDir: p.Path("build"), OutDir: p.Path("out"),
		Graph: tree.Graph, Specs: tree.Eval.Specs, Macros: macros, BaseID: "test", Jobs: 1,
		Builder: &flaky{Builder: &SandboxBuilder{Base: pt.base, WorkDir: p.Path("build/roots")}, n: 1},
		Retries: 1,
	}
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := decisionsOf(sum); got != "papp:built plib:built pother:built" {
		t.Errorf("with one retry: %s", got)
	}
	retried := 0 // the first build tried failed once and was retried
	for _, r := range sum.Results {
		if log, _ := os.ReadFile(r.Log); strings.Contains(string(log), "retry 1 of 1") {
			retried++
		}
	}
	if retried != 1 {
		t.Errorf("%d builds were retried, want 1", retried)
	}
}

// A BuildRequires no spec declares (a path of a generated file list) is
// looked for in the RPMs built first; the next graph knows it.
func TestLateBuildRequiresResolveFromBuiltRPMs(t *testing.T) {
	pt := newPkgTest(t)
	pt.edit("SPECS/plib/plib.spec", "%files devel\n", "%files devel -f devel.list\n")
	pt.edit("SPECS/plib/plib.spec", "%install\n", "%install\necho '#define PLIB_GEN 1' > plib-gen.h.in\necho /usr/include/plib-gen.h > devel.list\n")
	pt.edit("SPECS/plib/plib.spec", "echo '#define PLIB 1' > %{buildroot}/usr/include/plib.h",
		"echo '#define PLIB 1' > %{buildroot}/usr/include/plib.h\ninstall -m 644 plib-gen.h.in %{buildroot}/usr/include/plib-gen.h")
	pt.edit("SPECS/pother/pother.spec", "BuildArch:      noarch", "BuildArch:      noarch\nBuildRequires:  /usr/include/plib-gen.h")
	sum := pt.run()
	if got := decisionsOf(sum); got != "papp:built plib:built pother:built" {
		t.Fatalf("decisions: %s\n%+v", got, sum.Results)
	}
	var plibEnd, potherStart = sum.Results[1].End, sum.Results[2].Start
	if potherStart.Before(plibEnd) {
		t.Errorf("pother started (%v) before plib finished (%v)", potherStart, plibEnd)
	}
	w := (&stage{opts: Options{BuildDir: filepath.Join(pt.dir, "build")}}).readWhy("pother")
	if !strings.HasPrefix(w.Inputs["root:plib-devel"], "plib-devel-1.0-1.noarch.rpm ") {
		t.Errorf("pother's build root should have had plib-devel: %v", w.Inputs)
	}
	p, _ := project.Load(pt.dir)
	tree, err := workspace.Load(context.Background(), p, workspace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Graph.Unresolved) != 0 {
		t.Errorf("the second graph should know plib-devel's files from its RPM: %+v", tree.Graph.Unresolved)
	}
	if got := decisionsOf(pt.run()); got != "papp:reused plib:reused pother:reused" {
		t.Errorf("second run: %s", got)
	}
}
