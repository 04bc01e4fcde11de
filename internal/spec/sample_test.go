package spec

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"slipway/internal/testutil"
)

// sampleMacros is the macro environment Azure Linux evaluates its specs in.
func sampleMacros(t testing.TB, sample string) MacroSet {
	t.Helper()
	rm := filepath.Join(sample, "specs", "azurelinux-rpm-macros")
	files, _ := filepath.Glob(filepath.Join(rm, "macros.*"))
	env, _ := filepath.Glob(filepath.Join(sample, "build-env-macros", "macros.*"))
	return MacroSet{
		VendorMacros: filepath.Join(rm, "macros"),
		MacroFiles:   append(files, env...),
		LuaModules: map[string]string{
			"azl/common.lua":      filepath.Join(rm, "common.lua"),
			"azl/srpm/forge.lua":  filepath.Join(rm, "forge.lua"),
			"azl/srpm/python.lua": filepath.Join(rm, "python.lua"),
		},
		Defines: []string{"dist .azl3", "azl 3", "with_check 0"},
	}
}

func evaluateSample(t *testing.T, buildDir string) *Result {
	t.Helper()
	sample := testutil.SampleDir(t)
	res, err := Evaluate(context.Background(), Options{
		SpecsDir:           filepath.Join(sample, "specs"),
		BuildDir:           buildDir,
		Macros:             sampleMacros(t, sample),
		DistTag:            ".azl3",
		VersionMacroPrefix: "azl",
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestEvaluateSampleMatchesRpmspec(t *testing.T) {
	testutil.RequireSpecEval(t)
	buildDir := t.TempDir()
	res := evaluateSample(t, buildDir)
	for _, e := range res.Errors {
		t.Errorf("evaluation failed: %v", e)
	}
	if len(res.Specs) != 16 {
		t.Fatalf("evaluated %d specs, want 16 (15 dirs, kernel has two)", len(res.Specs))
	}
	byName := map[string]*Info{}
	for _, info := range res.Specs {
		byName[info.Name] = info
	}
	if knem := byName["knem"]; knem == nil || !strings.Contains(knem.SRPM.Release, "_6.6.134.1.2") {
		t.Errorf("knem's release does not carry the kernel version from %%azl_kernel_version/_release: %+v", knem)
	}
	if got := res.GeneratedMacros("knem"); !strings.Contains(got, "%azl_kernel_version 6.6.134.1\n") || !strings.Contains(got, "%azl_kernel_release 2\n") {
		t.Errorf("generated macros for knem: %q", got)
	}
	if got := res.GeneratedMacros("zlib"); got != "" {
		t.Errorf("generated macros for zlib: %q", got)
	}

	// The same queries through rpmspec, one process per query, must print
	// exactly what the helper printed.
	sample := testutil.SampleDir(t)
	macros := sampleMacros(t, sample)
	bin, err := HelperPath(context.Background(), filepath.Join(buildDir, "tools"))
	if err != nil {
		t.Fatal(err)
	}
	generated := versionMacros("azl", "kernel", byName["kernel"], ".azl3")
	configDir, err := PrepareConfigDir(filepath.Join(buildDir, "rpmconfig"), macros, generated)
	if err != nil {
		t.Fatal(err)
	}
	env := RPMEnv(configDir, t.TempDir(), 2)
	pool := newHelperPool(bin, macros.Defines, env, time.Minute)
	defer pool.close()
	for _, info := range res.Specs {
		spec := filepath.Join(sample, "specs", info.Path)
		srcDefine := "_sourcedir " + filepath.Dir(spec)
		raw, err := pool.evaluate(context.Background(), spec, []string{srcDefine})
		if err != nil || raw.Status != 0 {
			t.Fatalf("%s: helper: %v %q", info.Path, err, raw.Stderr)
		}
		args := []string{"-q"}
		for _, d := range append(macros.Defines, srcDefine) {
			args = append(args, "-D", d)
		}
		for _, q := range []struct {
			mode, qf, helper string
		}{{"--srpm", SRPMQueryFormat, raw.SRPM}, {"--rpms", RPMQueryFormat, raw.RPMs}} {
			cmd := exec.Command("rpmspec", append(args, q.mode, "--qf", q.qf, spec)...)
			cmd.Env = env
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("rpmspec %s %s: %v", q.mode, info.Path, err)
			}
			if string(out) != q.helper {
				t.Errorf("%s: rpmspec %s printed\n%s\nthe helper printed\n%s", info.Path, q.mode, out, q.helper)
			}
		}
		// The structured result holds every line rpm printed.
		nLines := len(lines(raw.SRPM)) + len(lines(raw.RPMs))
		nFacts := 1 + len(info.BuildRequires) + len(info.BuildConflicts) + len(info.ExclusiveArch) +
			len(info.ExcludeArch) + len(info.BuildArchs)
		for _, p := range info.Packages {
			nFacts += 1 + len(p.Provides) + len(p.Requires) + len(p.Conflicts) + len(p.Obsoletes)
		}
		if nLines != nFacts {
			t.Errorf("%s: rpm printed %d lines, the result holds %d facts", info.Path, nLines, nFacts)
		}
	}
}

// Sources and Patches are the spec's own strings (URLs where it gives
// them), in the order of their numbers.
func TestSourcesAreFullURLsInOrder(t *testing.T) {
	testutil.RequireSpecEval(t)
	res := evaluateSample(t, t.TempDir())
	var curl *Info
	for _, info := range res.Specs {
		if info.Name == "curl" {
			curl = info
		}
	}
	if curl == nil {
		t.Fatal("curl not evaluated")
	}
	if len(curl.Sources) != 1 || curl.Sources[0] != "https://curl.haxx.se/download/curl-8.11.1.tar.gz" {
		t.Errorf("curl sources: %q", curl.Sources)
	}
	if len(curl.Patches) < 8 || curl.Patches[0] != "CVE-2025-0665.patch" || curl.Patches[1] != "CVE-2025-0167.patch" {
		t.Errorf("curl patches: %q", curl.Patches)
	}
}
