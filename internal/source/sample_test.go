package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"slipway/internal/spec"
	"slipway/internal/testutil"
)

// evaluateSample evaluates some of the Azure Linux sample's specs, as
// Azure Linux does, and returns them by spec name.
func evaluateSample(t *testing.T, names ...string) (map[string]*spec.Info, string) {
	t.Helper()
	testutil.RequireSpecEval(t)
	sample := testutil.SampleDir(t)
	specs := filepath.Join(t.TempDir(), "specs")
	for _, n := range names {
		if err := os.CopyFS(filepath.Join(specs, n), os.DirFS(filepath.Join(sample, "specs", n))); err != nil {
			t.Fatal(err)
		}
	}
	rm := filepath.Join(sample, "specs", "azurelinux-rpm-macros")
	files, _ := filepath.Glob(filepath.Join(rm, "macros.*"))
	env, _ := filepath.Glob(filepath.Join(sample, "build-env-macros", "macros.*"))
	res, err := spec.Evaluate(context.Background(), spec.Options{
		SpecsDir: specs,
		BuildDir: t.TempDir(),
		Macros: spec.MacroSet{
			VendorMacros: filepath.Join(rm, "macros"),
			MacroFiles:   append(files, env...),
			LuaModules: map[string]string{
				"azl/common.lua":      filepath.Join(rm, "common.lua"),
				"azl/srpm/forge.lua":  filepath.Join(rm, "forge.lua"),
				"azl/srpm/python.lua": filepath.Join(rm, "python.lua"),
			},
			Defines: []string{"dist .azl3", "azl 3", "with_check 0"},
		},
		DistTag:            ".azl3",
		VersionMacroPrefix: "azl",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Errors {
		t.Fatalf("evaluation failed: %v", e)
	}
	out := map[string]*spec.Info{}
	for _, info := range res.Specs {
		out[info.Name] = info
	}
	return out, sample
}

// TestSampleCurlFakeTarball serves a fake curl tarball: the sample does
// not have the real one, and the fake must be refused.
func TestSampleCurlFakeTarball(t *testing.T) {
	specs, sample := evaluateSample(t, "curl")
	curl := specs["curl"]
	if len(curl.Sources) != 1 {
		t.Fatalf("curl's Sources: %q", curl.Sources)
	}
	name, _ := FileName(curl.Sources[0])
	if name != "curl-8.11.1.tar.gz" {
		t.Fatalf("curl's Source0 is %q (%s)", name, curl.Sources[0])
	}
	fake := []byte("a fake curl tarball")
	mirror := newServer(t, map[string][]byte{"/sources/" + name: fake})
	specDir := filepath.Join(sample, "specs", "curl")
	sigs, err := ReadSignatures(filepath.Join(specDir, "curl.signatures.json"))
	if err != nil {
		t.Fatal(err)
	}
	o := opts(t, mirror.URL+"/sources")
	_, err = Resolve(context.Background(), curl, specDir, o)
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("got %v, want a *MismatchError", err)
	}
	t.Log(err)
	for _, s := range []string{"curl.signatures.json", name, sigs[name], sum(fake)} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not name %s:\n%v", s, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(o.CacheDir, "sha256")); len(entries) != 0 {
		t.Errorf("the fake was kept in the cache: %v", entries)
	}
}

// TestSampleKexecToolsLocalSources resolves kexec-tools, whose local
// sources are listed in its signatures file, without any source server:
// every local file verifies, the three upstream tarballs are not found.
func TestSampleKexecToolsLocalSources(t *testing.T) {
	specs, sample := evaluateSample(t, "kexec-tools")
	kt := specs["kexec-tools"]
	specDir := filepath.Join(sample, "specs", "kexec-tools")
	files, err := Resolve(context.Background(), kt, specDir, opts(t))
	if len(files)+3 != len(kt.Sources) {
		t.Errorf("%d of %d sources resolved, want all but 3", len(files), len(kt.Sources))
	}
	for _, f := range files {
		if f.Origin != SpecDir {
			t.Errorf("%s from %s", f.Name, f.Origin)
		}
	}
	var missing []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var nf *NotFoundError
		if !errors.As(e, &nf) {
			t.Errorf("unexpected error: %v", e)
			continue
		}
		missing = append(missing, nf.File)
		if !strings.Contains(e.Error(), "no URL to download it from") {
			t.Errorf("got %v", e)
		}
	}
	sort.Strings(missing)
	if got := strings.Join(missing, " "); got != "eppic-e8844d3.tar.gz kexec-tools-2.0.27.tar.xz makedumpfile-1.7.4.tar.gz" {
		t.Errorf("missing %s", got)
	}
}
