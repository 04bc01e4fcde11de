package workspace

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"slipway/internal/graph"
	"slipway/internal/project"

	"slipway/internal/testutil"
)

func load(t *testing.T, dir string) *Tree {
	t.Helper()
	p, err := project.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := Load(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tree.Eval.Errors {
		t.Errorf("spec failed: %v", e)
	}
	return tree
}

// runEdges lists the build and run edges of a node, by spec or package name
// (a "pkg:" prefix forces the package where a spec has the same name).
func runEdges(g *graph.Graph, from string) []string {
	i, _ := g.Lookup(from)
	if name, ok := strings.CutPrefix(from, "pkg:"); ok {
		i, _ = g.Index(graph.PackageID(name))
	}
	var out []string
	for _, e := range g.Out(i) {
		if e.Kind != graph.FromEdge {
			out = append(out, string(e.Kind)+" "+g.Nodes[e.To].Name)
		}
	}
	return out
}

func TestExampleGraph(t *testing.T) {
	testutil.RequireSpecEval(t)
	dir := testutil.CopyProject(t, "../../examples/tiny", "")
	tree := load(t, dir)
	g := tree.Graph

	// The one build cycle, broken by the bootstrap twin.
	if len(g.Cycles) != 1 {
		t.Fatalf("cycles: %+v", g.Cycles)
	}
	c := g.Cycles[0]
	if c.String() != "tinyc BUILD -> tinylint RUN -> tinylint BUILD -> tinyc-compiler RUN" {
		t.Errorf("cycle chain %q", c)
	}
	if !strings.Contains(c.BrokenBy, "from tinyc-bootstrap-compiler (bootstrap twin)") {
		t.Errorf("cycle broken by %q", c.BrokenBy)
	}
	o := g.BuildOrder()
	if len(o.Blocked) != 0 {
		t.Errorf("blocked: %v", o.Blocked)
	}
	pos := map[string]int{}
	for w, wave := range o.Waves {
		for _, b := range wave {
			pos[b] = w
		}
	}
	for _, before := range [][2]string{{"tinyc-bootstrap", "tinylint"}, {"tinylint", "tinyc"}, {"tinyc", "tiny-hello"}, {"libtiny", "tinysh"}, {"tiny-rpm-macros", "libtiny"}} {
		if pos[before[0]] >= pos[before[1]] {
			t.Errorf("%s must be built before %s: waves %v", before[0], before[1], o.Waves)
		}
	}
	if got := strings.Join(o.CriticalPath, " "); got != "tiny-rpm-macros tinyc-bootstrap tinylint tinyc tiny-hello" {
		t.Errorf("critical path %q", got)
	}

	// A file dependency, a rich dependency with "with", one with "or", a
	// versioned BuildRequires; the packages from upstream sources:
	// BuildRequires by pkg-config name, a build that uses another's tool.
	checks := map[string]string{
		"tiny-editor-cli": "run tinysh",          // Requires: /usr/bin/tinysh
		"pkg:tinyedit":    "run tiny-editor-gui", // (tiny-editor-gui or tiny-editor-cli): first that resolves
		"tinysh":          "build libtiny-devel", // libtiny-devel >= 1.2
		"libvorbis":       "build libogg-devel",  // pkgconfig(ogg) >= 1.0
		"libbsd":          "build libmd-devel",   // pkgconfig(libmd)
		"kernel":          "build busybox",       // depmod at build time
		"pkg:tiny-init":   "run busybox",         // /usr/sbin/init is busybox's
	}
	for from, want := range checks {
		if !contains(runEdges(g, from), want) {
			t.Errorf("%s: edges %v lack %q", from, runEdges(g, from), want)
		}
	}
	if !contains(runEdges(g, "tinyedit"), "build libtiny-devel") {
		t.Errorf("tinyedit BUILD: (libtiny-devel >= 1.1 with libtiny-devel < 2) not resolved: %v", runEdges(g, "tinyedit"))
	}
	// The run-time cycle (tiny-release <-> tiny-base-files) is not a problem.
	for _, c := range g.Cycles {
		for _, m := range c.Members {
			if strings.HasPrefix(m, "tiny-release") {
				t.Errorf("run-time cycle reported: %v", c)
			}
		}
	}
	// Toolchain packages count as built.
	if n, ok := g.Node(graph.PackageID("gcc")); !ok || !n.Prebuilt {
		t.Errorf("gcc from the toolchain manifest: %+v", n)
	}
	// The virtual tiny-shell has two providers; the choice is explained.
	found := false
	for _, ch := range g.Choices {
		if ch.Cap == "tiny-shell" {
			found = true
			if !reflect.DeepEqual(ch.Candidates, []string{"tinysh", "tinyzsh"}) || ch.Reason == "" {
				t.Errorf("tiny-shell choice %+v", ch)
			}
		}
	}
	if !found {
		t.Error("no choice recorded for tiny-shell")
	}

	// Pruning to a goal keeps only what it needs.
	goals, _, err := tree.Goals([]string{"tinysh"})
	if err != nil {
		t.Fatal(err)
	}
	p := g.Prune(goals)
	if _, ok := p.Node(graph.BuildID("tinyc")); ok {
		t.Error("tinysh's pruned graph holds tinyc")
	}
	if _, ok := p.Node(graph.BuildID("libtiny")); !ok {
		t.Error("tinysh's pruned graph lacks libtiny")
	}

	// A second load of the unchanged tree evaluates nothing; touching one
	// spec re-evaluates exactly that one.
	again := load(t, dir)
	if st := again.Eval.Stats; st.Evaluated != 0 || st.HelperProcesses != 0 || st.Cached != st.Specs {
		t.Errorf("warm run: %+v", st)
	}
	f, err := os.OpenFile(filepath.Join(dir, "SPECS", "tinysh", "tinysh.spec"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("# touched\n")
	f.Close()
	if st := load(t, dir).Eval.Stats; st.Evaluated != 1 {
		t.Errorf("after touching one spec: %+v", st)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sampleProject writes a slipway.toml that reads Azure Linux's sample
// inputs where they are, with Azure Linux's macro environment.
func sampleProject(t *testing.T) string {
	t.Helper()
	sample := testutil.SampleDir(t)
	rm := sample + "/specs/azurelinux-rpm-macros"
	toml := `[project]
name = "azl-sample"
specs_dir = "` + sample + `/specs"
[rpm]
dist_tag = ".azl3"
defines = ["azl 3", "with_check 0"]
vendor_macros = "` + rm + `/macros"
macro_files = ["` + rm + `/macros.*", "` + sample + `/build-env-macros/macros.*"]
[rpm.lua_modules]
"azl/common.lua" = "` + rm + `/common.lua"
"azl/srpm/forge.lua" = "` + rm + `/forge.lua"
"azl/srpm/python.lua" = "` + rm + `/python.lua"
[toolchain]
manifest = "` + sample + `/manifests/package/toolchain_x86_64.txt"
[images]
configs_dir = "` + sample + `/imageconfigs"
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slipway.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSampleGraph(t *testing.T) {
	testutil.RequireSpecEval(t)
	tree := load(t, sampleProject(t))
	g := tree.Graph
	if tree.Eval.Stats.Specs != 16 {
		t.Errorf("%d specs", tree.Eval.Stats.Specs)
	}
	// knem builds against the exact kernel-devel of the kernel spec.
	if !contains(runEdges(g, "knem"), "build kernel-devel") {
		t.Errorf("knem BUILD edges: %v", runEdges(g, "knem"))
	}
	// systemd's BuildRequires on systemd-bootstrap-rpm-macros is served by
	// the toolchain (the manifest lists it): no cycle, systemd-bootstrap is
	// not built in the package stage.
	if !contains(runEdges(g, "systemd"), "build systemd-bootstrap-rpm-macros") {
		t.Errorf("systemd BUILD edges: %v", runEdges(g, "systemd"))
	}
	if n, _ := g.Node(graph.BuildID("systemd-bootstrap")); !n.Prebuilt {
		t.Error("systemd-bootstrap should be pre-built (toolchain)")
	}
	for _, c := range g.Cycles {
		if c.BrokenBy == "" {
			t.Errorf("unbroken cycle %v", c)
		}
	}
	// kexec-tools needs (ethtool or mlnx-ethtool): neither is in the sample.
	var unresolved []string
	for _, u := range g.Unresolved {
		unresolved = append(unresolved, u.Cap)
	}
	if !contains(unresolved, "(ethtool or mlnx-ethtool)") {
		t.Error("the rich dependency of kexec-tools is not reported unresolved")
	}
	// Pruned to the core-efi image config: its packages and what they need.
	goals, external, err := tree.Goals([]string{"core-efi"})
	if err != nil {
		t.Fatal(err)
	}
	if len(goals) == 0 || len(external) == 0 {
		t.Fatalf("core-efi: %d goals from the sample, %d external", len(goals), len(external))
	}
	p := g.Prune(goals)
	if _, ok := p.Node(graph.BuildID("kernel")); !ok {
		t.Error("core-efi needs the kernel build")
	}
	if _, ok := p.Node(graph.BuildID("perl-Moo")); ok {
		t.Error("core-efi does not need perl-Moo")
	}
}
