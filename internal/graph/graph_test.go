package graph

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"slipway/internal/rpm"
	"slipway/internal/spec"
)

// pkg builds a spec.Package; deps are written as a spec would ("foo >= 1.0").
func pkg(name, version string, requires []string, provides ...string) spec.Package {
	p := spec.Package{NEVR: spec.NEVR{Name: name, Version: version, Release: "1"}, Arch: "x86_64", Built: true}
	p.Provides = append(p.Provides, spec.Dep{Name: name, Flags: "=", Version: version + "-1"})
	for _, d := range provides {
		if strings.HasPrefix(d, "file:") {
			p.Files = append(p.Files, strings.TrimPrefix(d, "file:"))
			continue
		}
		p.Provides = append(p.Provides, dep(d))
	}
	for _, d := range requires {
		p.Requires = append(p.Requires, dep(d))
	}
	return p
}

func dep(s string) spec.Dep {
	if strings.HasPrefix(s, "(") {
		return spec.Dep{Name: s, Type: "manual"}
	}
	f := strings.Fields(s)
	if len(f) == 3 {
		return spec.Dep{Name: f[0], Flags: f[1], Version: f[2], Type: "manual"}
	}
	return spec.Dep{Name: s, Type: "manual"}
}

func mkspec(name string, buildRequires []string, pkgs ...spec.Package) *spec.Info {
	s := &spec.Info{Path: name + "/" + name + ".spec", Name: name, SRPM: spec.NEVR{Name: name, Version: "1", Release: "1"}, Packages: pkgs}
	for _, d := range buildRequires {
		s.BuildRequires = append(s.BuildRequires, dep(d))
	}
	return s
}

func edgesOf(g *Graph, from string) []string {
	i, ok := g.byID[from]
	if !ok {
		return nil
	}
	var out []string
	for _, e := range g.Out(i) {
		out = append(out, string(e.Kind)+":"+g.Nodes[e.To].ID)
	}
	return out
}

func TestResolutionByNameProvideFileAndVersion(t *testing.T) {
	g := Build(Input{Specs: []*spec.Info{
		mkspec("lib", nil, pkg("lib", "1.2", nil), pkg("lib-devel", "1.2", []string{"lib = 1.2-1"}, "pkgconfig(lib) = 1.2", "file:/usr/include/lib.h")),
		mkspec("sh", nil, pkg("sh", "5", nil, "file:/usr/bin/sh", "file:/usr/share/sh")),
		mkspec("app", []string{"lib-devel >= 1.1", "pkgconfig(lib) >= 1.0", "/usr/include/lib.h", "lib-devel >= 2.0"},
			pkg("app", "1", []string{"/usr/bin/sh", "/usr/share/sh/sub/file", "rpmlib(CompressedFileNames) <= 3.0.4-1"})),
	}})
	got := edgesOf(g, "build:app")
	want := []string{"build:package:lib-devel"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("app BUILD edges = %v, want %v", got, want)
	}
	if got := edgesOf(g, "package:app"); !reflect.DeepEqual(got, []string{"from:build:app", "run:package:sh"}) {
		t.Errorf("app RUN edges = %v", got)
	}
	if len(g.Unresolved) != 1 || g.Unresolved[0].Cap != "lib-devel >= 2.0" || g.Unresolved[0].NeededBy[0] != "app BUILD" {
		t.Errorf("unresolved = %+v, want lib-devel >= 2.0 needed by app BUILD (1.2 is too old)", g.Unresolved)
	}
}

func TestChoiceBetweenProvidersIsExplained(t *testing.T) {
	g := Build(Input{Specs: []*spec.Info{
		mkspec("zsh", nil, pkg("zsh", "5", nil, "shell = 1")),
		mkspec("ash", nil, pkg("ash", "1", nil, "shell = 1")),
		mkspec("shell", nil, pkg("shell", "1", nil)),
		mkspec("a", []string{"shell"}, pkg("a", "1", nil)),
		mkspec("b", nil, pkg("b", "1", []string{"shell-any"}), pkg("b2", "1", nil, "shell-any")),
	}})
	if got := edgesOf(g, "build:a"); !reflect.DeepEqual(got, []string{"build:package:shell"}) {
		t.Errorf("a needs shell: edges %v, want the package named shell", got)
	}
	if len(g.Choices) != 1 || g.Choices[0].Reason != "chose shell: its name is the capability" ||
		!reflect.DeepEqual(g.Choices[0].Candidates, []string{"ash", "shell", "zsh"}) {
		t.Errorf("choices = %+v", g.Choices)
	}
	// Among virtual providers: highest version, then name.
	g = Build(Input{Specs: []*spec.Info{
		mkspec("zsh", nil, pkg("zsh", "5", nil, "shell = 1")),
		mkspec("ash", nil, pkg("ash", "1", nil, "shell = 1")),
		mkspec("a", []string{"shell"}, pkg("a", "1", nil)),
	}})
	if len(g.Choices) != 1 || g.Choices[0].Chosen[0] != "zsh" || !strings.Contains(g.Choices[0].Reason, "highest version") {
		t.Errorf("choices = %+v", g.Choices)
	}
}

func TestRichDependencies(t *testing.T) {
	specs := []*spec.Info{
		mkspec("x", nil, pkg("gui", "1", nil), pkg("cli", "1", nil), pkg("foo", "1", nil), pkg("bar", "1", nil),
			pkg("dual", "1", nil, "vfs", "fuse"), pkg("single", "1", nil, "vfs")),
		mkspec("y", nil,
			pkg("or", "1", []string{"(missing or cli or gui)"}),
			pkg("and", "1", []string{"(foo and bar)"}),
			pkg("ifyes", "1", []string{"foo", "(bar if foo)"}),
			pkg("ifno", "1", []string{"(bar if foo)"}),
			pkg("ifelse", "1", []string{"(bar if foo else gui)"}),
			pkg("unless", "1", []string{"(gui unless foo)"}),
			pkg("with", "1", []string{"(vfs with fuse)"}),
			pkg("without", "1", []string{"(vfs without fuse)"}),
			pkg("nested", "1", []string{"((missing and foo) or (bar and cli))"}),
			pkg("none", "1", []string{"(missing1 or missing2)"}),
		),
	}
	g := Build(Input{Specs: specs})
	cases := map[string][]string{
		"or":      {"cli"},
		"and":     {"bar", "foo"},
		"ifyes":   {"bar", "foo"},
		"ifno":    nil,
		"ifelse":  {"gui"},
		"unless":  {"gui"},
		"with":    {"dual"},
		"without": {"single"},
		"nested":  {"bar", "cli"},
		"none":    nil,
	}
	for name, want := range cases {
		var got []string
		for _, e := range edgesOf(g, PackageID(name)) {
			if strings.HasPrefix(e, "run:") {
				got = append(got, strings.TrimPrefix(e, "run:package:"))
			}
		}
		if !reflect.DeepEqual(sorted(got), want) {
			t.Errorf("%s: run deps %v, want %v", name, got, want)
		}
	}
	if len(g.Unresolved) != 1 || g.Unresolved[0].Cap != "(missing1 or missing2)" {
		t.Errorf("unresolved = %+v", g.Unresolved)
	}
}

func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// cycleSpecs: a needs b to build, b needs a-tools (made by a) to build.
func cycleSpecs() []*spec.Info {
	return []*spec.Info{
		mkspec("a", []string{"b"}, pkg("a", "1", nil), pkg("a-tools", "2", nil)),
		mkspec("b", []string{"a-tools >= 2"}, pkg("b", "1", []string{"b-libs"}), pkg("b-libs", "1", nil)),
	}
}

func TestUnbreakableBuildCycleIsReportedAsChain(t *testing.T) {
	g := Build(Input{Specs: cycleSpecs()})
	if len(g.Cycles) != 1 {
		t.Fatalf("cycles = %+v, want one", g.Cycles)
	}
	c := g.Cycles[0]
	if got, want := c.String(), "a BUILD -> b RUN -> b BUILD -> a-tools RUN"; got != want {
		t.Errorf("chain = %q, want %q", got, want)
	}
	if c.BrokenBy != "" {
		t.Errorf("cycle reported broken by %q", c.BrokenBy)
	}
	o := g.BuildOrder()
	if !reflect.DeepEqual(o.Blocked, []string{"a", "b"}) || len(o.Waves) != 0 {
		t.Errorf("order = %+v, want a and b blocked", o)
	}
}

func TestBuildCycleBrokenByBootstrapTwin(t *testing.T) {
	specs := append(cycleSpecs(),
		mkspec("a-bootstrap", nil, pkg("a-bootstrap-tools", "2", nil, "a-tools = 2-1")))
	g := Build(Input{Specs: specs})
	if len(g.Cycles) != 1 || g.Cycles[0].BrokenBy == "" {
		t.Fatalf("cycles = %+v, want one broken", g.Cycles)
	}
	want := "b BUILD takes a-tools >= 2 from a-bootstrap-tools (bootstrap twin) instead of a-tools"
	if g.Cycles[0].BrokenBy != want {
		t.Errorf("broken by %q, want %q", g.Cycles[0].BrokenBy, want)
	}
	o := g.BuildOrder()
	wantWaves := [][]string{{"a-bootstrap"}, {"b"}, {"a"}}
	if !reflect.DeepEqual(o.Waves, wantWaves) || len(o.Blocked) != 0 {
		t.Errorf("order = %+v, want waves %v", o, wantWaves)
	}
	if !reflect.DeepEqual(o.CriticalPath, []string{"a-bootstrap", "b", "a"}) {
		t.Errorf("critical path = %v", o.CriticalPath)
	}
	// Without a cycle to break, the bootstrap twin is not chosen.
	g = Build(Input{Specs: append(specs, mkspec("c", []string{"a-tools"}, pkg("c", "1", nil)))})
	if got := edgesOf(g, "build:c"); !reflect.DeepEqual(got, []string{"build:package:a-tools"}) {
		t.Errorf("c BUILD edges = %v, want the real a-tools", got)
	}
}

func TestBuildCycleBrokenByPrebuiltPackage(t *testing.T) {
	g := Build(Input{Specs: cycleSpecs(), Prebuilt: []Prebuilt{{Name: "b", EVR: "1-1"}, {Name: "b-libs", EVR: "1-1"}}})
	for _, c := range g.Cycles {
		t.Errorf("unexpected cycle %v", c)
	}
	n, _ := g.Node(PackageID("b"))
	if !n.Prebuilt {
		t.Error("package b is not marked pre-built")
	}
	// All of b's packages are pre-built, so b is not built in this stage.
	if b, _ := g.Node(BuildID("b")); !b.Prebuilt {
		t.Error("build b is not marked pre-built")
	}
	if o := g.BuildOrder(); !reflect.DeepEqual(o.Waves, [][]string{{"a"}}) {
		t.Errorf("waves = %v", o.Waves)
	}
}

func TestRunTimeCycleIsFine(t *testing.T) {
	g := Build(Input{Specs: []*spec.Info{
		mkspec("p", nil, pkg("p", "1", []string{"q"})),
		mkspec("q", nil, pkg("q", "1", []string{"p"})),
		mkspec("user", []string{"p"}, pkg("user", "1", nil)),
	}})
	if len(g.Cycles) != 0 {
		t.Errorf("run-time cycle reported: %+v", g.Cycles)
	}
	o := g.BuildOrder()
	if !reflect.DeepEqual(o.Waves, [][]string{{"p", "q"}, {"user"}}) {
		t.Errorf("waves = %v; user needs p and, through it, q", o.Waves)
	}
}

func TestPruneToGoals(t *testing.T) {
	g := Build(Input{Specs: []*spec.Info{
		mkspec("base", nil, pkg("base", "1", nil)),
		mkspec("lib", []string{"base"}, pkg("lib", "1", []string{"base"}), pkg("lib-devel", "1", []string{"lib"})),
		mkspec("app", []string{"lib-devel"}, pkg("app", "1", []string{"lib"})),
		mkspec("other", nil, pkg("other", "1", nil)),
	}})
	goals, err := g.Resolve([]string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	p := g.Prune(goals)
	var names []string
	for _, n := range p.Nodes {
		names = append(names, n.ID)
	}
	want := []string{"build:base", "package:base", "build:lib", "package:lib", "package:lib-devel", "build:app", "package:app"}
	if !reflect.DeepEqual(sorted(names), sorted(want)) {
		t.Errorf("pruned nodes = %v, want %v", names, want)
	}
	if o := p.BuildOrder(); !reflect.DeepEqual(o.CriticalPath, []string{"base", "lib", "app"}) {
		t.Errorf("critical path = %v", o.CriticalPath)
	}
	if _, err := g.Resolve([]string{"ap"}); err == nil || !strings.Contains(err.Error(), `unknown goal "ap"`) || !strings.Contains(err.Error(), "did you mean app") {
		t.Errorf("unknown goal error = %v", err)
	}
}

func TestExclusiveArchLeavesSpecOut(t *testing.T) {
	s := mkspec("armonly", nil, pkg("armonly", "1", nil))
	s.ExclusiveArch = []string{"aarch64"}
	g := Build(Input{Specs: []*spec.Info{s}, Arch: "x86_64"})
	if _, ok := g.Node(BuildID("armonly")); ok || len(g.Problems) != 1 {
		t.Errorf("armonly in graph for x86_64; problems %v", g.Problems)
	}
}

func TestJSONAndDOTAreStable(t *testing.T) {
	build := func() *Graph {
		return Build(Input{Specs: append(cycleSpecs(), mkspec("a-bootstrap", nil, pkg("a-bootstrap-tools", "2", nil, "a-tools = 2-1")))})
	}
	var j1, j2, d1, d2 bytes.Buffer
	build().WriteJSON(&j1)
	build().WriteJSON(&j2)
	build().WriteDOT(&d1)
	build().WriteDOT(&d2)
	if j1.String() != j2.String() || d1.String() != d2.String() {
		t.Fatal("output differs between two builds of the same graph")
	}
	var doc map[string]any
	if err := json.Unmarshal(j1.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["format"] != JSONFormat {
		t.Errorf("format = %v", doc["format"])
	}
	for _, key := range []string{"nodes", "edges", "order", "choices", "unresolved", "cycles", "problems"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("JSON lacks %q", key)
		}
	}
	if !strings.Contains(d1.String(), `"build:b" -> "package:a-bootstrap-tools" [color=blue, label="a-tools >= 2"]`) {
		t.Errorf("DOT lacks the re-routed build edge:\n%s", d1.String())
	}
}

func TestParseRPMFileName(t *testing.T) {
	p, err := ParseRPMFileName("perl-Text-Tabs+Wrap-2013.0523-501.azl3.noarch.rpm")
	if err != nil || p.Name != "perl-Text-Tabs+Wrap" || p.EVR != "2013.0523-501.azl3" || p.Arch != "noarch" {
		t.Errorf("got %+v, %v", p, err)
	}
	for _, bad := range []string{"foo.rpm", "foo-1.x86_64.rpm", "foo-1-2.x86_64", ""} {
		if _, err := ParseRPMFileName(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestPrebuiltProvidesAndFilesResolve(t *testing.T) {
	g := Build(Input{
		Specs: []*spec.Info{mkspec("app", []string{"libz.so.1()(64bit)"}, pkg("app", "1", []string{"/bin/sh"}))},
		Prebuilt: []Prebuilt{
			{Name: "bash", EVR: "5.2-1", Files: []string{"/usr/bin/bash", "/bin/sh"}},
			{Name: "zlib", EVR: "1.3-1", Provides: []rpm.Dep{{Name: "libz.so.1()(64bit)"}}},
		},
	})
	if len(g.Unresolved) != 0 {
		t.Errorf("unresolved: %+v", g.Unresolved)
	}
	if got := edgesOf(g, "package:app"); !reflect.DeepEqual(got, []string{"from:build:app", "run:package:bash"}) {
		t.Errorf("app RUN edges = %v", got)
	}
}

func TestDirEntriesOwnOnlyTheDirectory(t *testing.T) {
	g := Build(Input{Specs: []*spec.Info{
		mkspec("fs", nil, pkg("fs", "1", nil, "file:/", "file:/usr/bin/", "file:/bin")),
		mkspec("sh", nil, pkg("sh", "1", nil, "file:/usr/bin/sh")),
		mkspec("app", nil, pkg("app", "1", []string{"/usr/bin/sh", "/usr/bin", "/bin/x"})),
	}})
	got := edgesOf(g, "package:app")
	want := []string{"from:build:app", "run:package:fs", "run:package:sh"}
	if !reflect.DeepEqual(sorted(got), want) {
		t.Errorf("app edges = %v, want %v (a %%dir owns the directory, not its contents)", got, want)
	}
	if len(g.Choices) != 0 {
		t.Errorf("choices: %+v", g.Choices)
	}
}

// What RPM headers say beyond the specs resolves BuildRequires: a
// pre-built package's generated provides even when a local spec makes it
// (the toolchain's zlib-devel), and a local package's from its last build.
func TestHeaderProvidesOfPrebuiltAndLearnedPackagesResolve(t *testing.T) {
	g := Build(Input{
		Specs: []*spec.Info{
			mkspec("zlib", nil, pkg("zlib-devel", "1.3", nil)),
			mkspec("ogg", nil, pkg("ogg-devel", "1.3", nil)),
			mkspec("app", []string{"pkgconfig(zlib)", "pkgconfig(ogg) >= 1.0", "/usr/include/ogg/ogg.h"}, pkg("app", "1", nil)),
		},
		Prebuilt: []Prebuilt{{Name: "zlib-devel", EVR: "1.3-1", Provides: []rpm.Dep{{Name: "pkgconfig(zlib)", Op: rpm.EQ, EVR: rpm.ParseEVR("1.3")}}}},
		Learned: []Prebuilt{{Name: "ogg-devel", EVR: "1.3-1", Provides: []rpm.Dep{{Name: "pkgconfig(ogg)", Op: rpm.EQ, EVR: rpm.ParseEVR("1.3.5")}},
			Files: []string{"/usr/include/ogg/", "/usr/include/ogg/ogg.h"}}},
	})
	if len(g.Unresolved) != 0 {
		t.Errorf("unresolved: %+v", g.Unresolved)
	}
	if got := sorted(edgesOf(g, "build:app")); !reflect.DeepEqual(got, []string{"build:package:ogg-devel", "build:package:zlib-devel"}) {
		t.Errorf("app BUILD edges = %v", got)
	}
}
