package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"slipway/internal/buildroot"
	"slipway/internal/fsutil"
	"slipway/internal/testutil"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

// project writes a small project: one spec per entry of specs (name -> text).
func writeProject(t *testing.T, toml string, specs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if toml == "" {
		toml = "[project]\nname = \"t\"\n[rpm]\ndist_tag = \".t1\"\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "slipway.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, text := range specs {
		d := filepath.Join(dir, "SPECS", name)
		os.MkdirAll(d, 0o755)
		if err := os.WriteFile(filepath.Join(d, name+".spec"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func specText(name, extra string) string {
	return "Name: " + name + "\nVersion: 1.0\nRelease: 1%{?dist}\nSummary: s\nLicense: MIT\n" + extra +
		"\n%description\nd\n%files\n/usr/bin/" + name + "\n"
}

// noHalfWritten fails if build/ holds temporary files a write left behind.
func noHalfWritten(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(filepath.Join(dir, "build"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

func TestMalformedConfig(t *testing.T) {
	dir := writeProject(t, "[project]\nname = \"t\"\nspec_dir = \"x\"\n", nil)
	code, _, stderr := run(t, "graph", "-C", dir)
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(stderr, "slipway.toml:3") || !strings.Contains(stderr, "spec_dir") {
		t.Errorf("error does not name the file, line and key:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "build")); err == nil {
		t.Error("build/ was created for a project that failed to load")
	}
}

func TestMissingMacroFile(t *testing.T) {
	dir := writeProject(t, "[project]\nname = \"t\"\n[rpm]\nmacro_files = [\"macros/macros.nothere\"]\n", nil)
	code, _, stderr := run(t, "plan", "-C", dir)
	if code != exitUsage || !strings.Contains(stderr, `slipway.toml:4: rpm.macro_files[0]: "macros/macros.nothere" matches no file`) {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "build")); err == nil {
		t.Error("build/ was created for a project that failed to load")
	}
}

func TestSpecSyntaxErrorIsReportedAndTheRestEvaluated(t *testing.T) {
	testutil.RequireSpecEval(t)
	dir := writeProject(t, "", map[string]string{
		"good":   specText("good", "Requires: other"),
		"other":  specText("other", ""),
		"broken": "Name: broken\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nNotATag: x\n%description\nd\n",
		"rich":   specText("rich", "Requires: (good or other"),
	})
	code, stdout, stderr := run(t, "plan", "-C", dir)
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	for _, want := range []string{
		"SPECS/broken/broken.spec: line 6: Unknown tag: NotATag: x",
		"SPECS/rich/rich.spec: line 6:",
		"2 spec(s) failed to evaluate",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "good-1.0-1.t1") || !strings.Contains(stdout, "other-1.0-1.t1") {
		t.Errorf("the good specs are not planned:\n%s", stdout)
	}
	noHalfWritten(t, dir)

	// A second run reports the same from the cache, starting no rpm process.
	code, _, stderr = run(t, "plan", "-C", dir)
	if code != exitFailed || !strings.Contains(stderr, "0 evaluated, 4 cached, 2 failed") || !strings.Contains(stderr, "(0 rpm helper processes)") {
		t.Errorf("second run: exit %d\n%s", code, stderr)
	}
}

func TestUnknownGoal(t *testing.T) {
	testutil.RequireSpecEval(t)
	dir := writeProject(t, "", map[string]string{"hello": specText("hello", "")})
	code, _, stderr := run(t, "graph", "-C", dir, "--goal", "helo")
	if code != exitUsage || !strings.Contains(stderr, `unknown goal "helo"`) || !strings.Contains(stderr, "did you mean hello") {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
	code, _, stderr = run(t, "deps", "-C", dir, "nothing")
	if code != exitUsage || !strings.Contains(stderr, `unknown goal "nothing"`) {
		t.Errorf("deps: exit %d:\n%s", code, stderr)
	}
	code, _, stderr = run(t, "build", "-C", dir, "--rebuild-only", "hello")
	if code != exitUsage || !strings.Contains(stderr, "--rebuild-only takes packages from the [remote] repositories, and slipway.toml has none") {
		t.Errorf("build --rebuild-only without [remote]: exit %d:\n%s", code, stderr)
	}
	code, _, stderr = run(t, "build", "-C", dir, "--rebuild-policy", "some")
	if code != exitUsage || !strings.Contains(stderr, `--rebuild-policy "some": use "all", "changed" or "listed"`) {
		t.Errorf("build --rebuild-policy some: exit %d:\n%s", code, stderr)
	}
	code, _, stderr = run(t, "build", "-C", dir, "--rebuild-policy", "changed")
	if code != exitUsage || !strings.Contains(stderr, "--rebuild-policy changed takes packages from the [remote] repositories") {
		t.Errorf("build --rebuild-policy changed without [remote]: exit %d:\n%s", code, stderr)
	}
	code, _, stderr = run(t, "lock", "-C", dir)
	if code != exitUsage || !strings.Contains(stderr, "has no [remote] repositories: nothing to lock") {
		t.Errorf("lock without [remote]: exit %d:\n%s", code, stderr)
	}
	code, _, stderr = run(t, "build", "-C", dir, "--force-rebuild", "helo")
	if code != exitUsage || !strings.Contains(stderr, `--force-rebuild: unknown goal "helo"`) {
		t.Errorf("build --force-rebuild: exit %d:\n%s", code, stderr)
	}
}

func TestBadFlags(t *testing.T) {
	code, _, stderr := run(t, "graph", "--format", "svg", "-C", t.TempDir())
	if code != exitUsage || !strings.Contains(stderr, `--format "svg"`) {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
	if code, _, _ := run(t, "graph", "--no-such-flag"); code != exitUsage {
		t.Errorf("unknown flag: exit %d", code)
	}
}

func TestExampleCommands(t *testing.T) {
	testutil.RequireSpecEval(t)
	dir := testutil.CopyProject(t, "../../examples/tiny", "")

	code, stdout, stderr := run(t, "graph", "-C", dir)
	if code != 0 || !strings.Contains(stdout, "build cycle (broken): tinyc BUILD -> tinylint RUN -> tinylint BUILD -> tinyc-compiler RUN") {
		t.Fatalf("graph: exit %d\n%s\n%s", code, stdout, stderr)
	}

	code, stdout, _ = run(t, "graph", "-C", dir, "--format", "dot", "--goal", "tinysh")
	if code != 0 || !strings.HasPrefix(stdout, "digraph slipway {") || strings.Contains(stdout, `"build:tinyc"`) {
		t.Errorf("dot for goal tinysh: exit %d\n%s", code, stdout)
	}
	if dot, err := exec.LookPath("dot"); err == nil {
		cmd := exec.Command(dot, "-Tsvg")
		cmd.Stdin = strings.NewReader(stdout)
		if out, err := cmd.CombinedOutput(); err != nil || !bytes.Contains(out, []byte("<svg")) {
			t.Errorf("Graphviz rejects the DOT output: %v\n%s", err, out)
		}
	}

	out := filepath.Join(dir, "graph.json")
	if code, _, stderr := run(t, "graph", "-C", dir, "--format", "json", "-o", out); code != 0 {
		t.Fatalf("json: %s", stderr)
	}
	var doc struct {
		Format string `json:"format"`
		Nodes  []struct {
			ID string `json:"id"`
		} `json:"nodes"`
		Cycles []struct {
			Chain    []string `json:"chain"`
			BrokenBy string   `json:"brokenBy"`
		} `json:"cycles"`
	}
	data, _ := os.ReadFile(out)
	if err := json.Unmarshal(data, &doc); err != nil || doc.Format != "slipway-graph/v1" || len(doc.Nodes) == 0 || len(doc.Cycles) != 1 {
		t.Errorf("graph.json: %v %+v", err, doc)
	}

	code, stdout, _ = run(t, "plan", "-C", dir)
	if code != 0 || !strings.Contains(stdout, "Critical path: 5 build steps: tiny-rpm-macros -> tinyc-bootstrap -> tinylint -> tinyc -> tiny-hello") {
		t.Errorf("plan: exit %d\n%s", code, stdout)
	}

	code, stdout, _ = run(t, "deps", "-C", dir, "--run", "tinyc")
	if code != 0 || !strings.Contains(stdout, "run\tpackage\ttinyc-runtime") {
		t.Errorf("deps --run tinyc: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = run(t, "rdeps", "-C", dir, "--build", "libtiny-devel")
	if code != 0 || !strings.Contains(stdout, "build\tbuild\ttinysh") || strings.Contains(stdout, "tinyc-bootstrap") {
		t.Errorf("rdeps --build libtiny-devel: exit %d\n%s", code, stdout)
	}
}

func TestBundledExampleIsTheDefaultProject(t *testing.T) {
	testutil.RequireSpecEval(t)
	t.Chdir(t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	code, stdout, stderr := run(t, "plan")
	if code != 0 || !strings.Contains(stderr, `using the bundled example project "tiny"`) || !strings.Contains(stdout, "tinyc-bootstrap") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The second run reuses the extracted copy and its cache.
	code, _, stderr = run(t, "plan")
	if code != 0 || !strings.Contains(stderr, ": 0 evaluated,") || !strings.Contains(stderr, "(0 rpm helper processes)") {
		t.Errorf("second run: exit %d\n%s", code, stderr)
	}
}

// TestMain lets the test binary serve as a build root's init, as
// slipway's main does.
func TestMain(m *testing.M) {
	if buildroot.IsSandboxInit() {
		buildroot.SandboxInit()
	}
	if os.Getenv("SLIPWAY_TEST_RUN_MAIN") != "" { // the test binary as slipway, for tests that kill it
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestToolchainCommand(t *testing.T) {
	testutil.RequireSpecEval(t)
	testutil.RequireTools(t, "createrepo_c")
	rootfs := testutil.DebianRoot(t, "rpm")
	dir := testutil.CopyProject(t, "../toolchain/testdata/project", "[toolchain.bootstrap]\nrootfs = \""+rootfs+"\"\n")
	code, stdout, stderr := run(t, "toolchain", "-C", dir)
	if code != 0 || !strings.Contains(stdout, "toolchain: 2 built, 0 reused; 2 RPMs in") ||
		!strings.Contains(stderr, "built   ta") || !strings.Contains(stderr, "built   tb") {
		t.Fatalf("first run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "toolchain", "-C", dir)
	if code != 0 || !strings.Contains(stdout, "0 built, 2 reused") || !strings.Contains(stdout, "nothing changed, nothing was rebuilt") {
		t.Errorf("second run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A failing build: exit 1, the log's path in the message.
	spec := filepath.Join(dir, "SPECS", "tb", "tb.spec")
	data, _ := os.ReadFile(spec)
	os.WriteFile(spec, []byte(strings.Replace(string(data), "cat /usr/share/ta/data", "exit 1", 1)), 0o644)
	code, _, stderr = run(t, "toolchain", "-C", dir)
	if code != exitFailed || !strings.Contains(stderr, "BUILD tb failed: rpmbuild exited with status 1 (log: "+dir+"/build/logs/toolchain/tb.log)") {
		t.Errorf("failed build: exit %d\n%s", code, stderr)
	}
}

func TestBuildIsLockedWhileAnotherRuns(t *testing.T) {
	testutil.RequireSpecEval(t)
	dir := testutil.CopyProject(t, "../../examples/tiny", "")
	unlock, err := fsutil.Lock(filepath.Join(dir, "build", "slipway.lock"), "slipway build (the other one)")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	code, _, stderr := run(t, "build", "-C", dir)
	if code != exitFailed || !strings.Contains(stderr, "another slipway is working on this project") || !strings.Contains(stderr, "the other one") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

// SIGKILL of slipway in the middle of a build, then a new run: the job is
// finished without rebuilding completed work, nothing stays mounted or
// running, and every RPM in out/ is whole.
func TestKilledBuildResumes(t *testing.T) {
	testutil.RequireSpecEval(t)
	testutil.RequireTools(t, "createrepo_c", "rpmkeys")
	base := testutil.DebianRoot(t, "rpm,patch")
	dir := testutil.CopyProject(t, "../build/testdata/project", "[build]\nbase_rootfs = \""+base+"\"\n")
	spec := filepath.Join(dir, "SPECS", "papp", "papp.spec")
	data, _ := os.ReadFile(spec)
	fixed := string(data)
	os.WriteFile(spec, []byte(strings.Replace(fixed, "cd papp\ncat", "cd papp\nsleep 600\ncat", 1)), 0o644)

	cmd := exec.Command(os.Args[0], "build", "-C", dir, "-j", "2")
	cmd.Env = append(os.Environ(), "SLIPWAY_TEST_RUN_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "build", "logs", "packages", "papp.log")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if log, _ := os.ReadFile(logPath); strings.Contains(string(log), "+ sleep 600") {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("papp's build never reached its sleep")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()

	// The build's processes die with it; nothing of it stays mounted.
	for deadline := time.Now().Add(10 * time.Second); ; {
		out, _ := exec.Command("pgrep", "-f", "^sleep 600$").Output()
		if len(out) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the build's sleep survived slipway: pids %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), dir) {
		t.Errorf("a mount of the killed build remains:\n%s", mounts)
	}

	os.WriteFile(spec, []byte(fixed), 0o644)
	code, stdout, stderr := run(t, "build", "-C", dir)
	if code != 0 {
		t.Fatalf("resumed run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"papp                           built", "plib                           reused", "pother                         reused"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("resumed run lacks %q:\n%s", want, stdout)
		}
	}
	rpms, _ := filepath.Glob(filepath.Join(dir, "out", "RPMS", "*", "*.rpm"))
	if len(rpms) != 4 {
		t.Errorf("out/RPMS: %v", rpms)
	}
	for _, f := range rpms {
		if out, err := exec.Command("rpmkeys", "--checksig", "--nosignature", f).CombinedOutput(); err != nil {
			t.Errorf("%s: %s", f, out)
		}
	}
	code, stdout, _ = run(t, "why", "-C", dir, "papp")
	if code != 0 || !strings.Contains(stdout, "papp: built:") {
		t.Errorf("why: %d %s", code, stdout)
	}
}

func TestSourcesCommand(t *testing.T) {
	testutil.RequireSpecEval(t)
	dir := testutil.CopyProject(t, "../build/testdata/project", "")
	code, stdout, stderr := run(t, "sources", "-C", dir, "plib")
	if code != 0 || !strings.Contains(stdout, "plib\tplib.data\t") || !strings.Contains(stdout, "spec-dir") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A source whose content no longer matches its signature.
	data := filepath.Join(dir, "SPECS", "plib", "plib.data")
	os.WriteFile(data, []byte("changed\n"), 0o644)
	code, _, stderr = run(t, "sources", "-C", dir, "plib")
	if code != exitFailed || !strings.Contains(stderr, "plib.signatures.json") || !strings.Contains(stderr, "plib.data") {
		t.Errorf("mismatch: exit %d\n%s", code, stderr)
	}
	// The packager's way: rewrite the signatures, then all is well.
	if code, _, stderr = run(t, "sources", "-C", dir, "plib", "--update-signatures"); code != 0 {
		t.Fatalf("update: exit %d\n%s", code, stderr)
	}
	if code, _, stderr = run(t, "sources", "-C", dir, "plib"); code != 0 {
		t.Errorf("after the update: exit %d\n%s", code, stderr)
	}
	if code, _, _ = run(t, "sources", "-C", dir, "nothere"); code != exitUsage {
		t.Errorf("unknown spec: exit %d", code)
	}
}
