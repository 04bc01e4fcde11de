package image

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"slipway/internal/testutil"
)

func TestPackagesOfSampleConfig(t *testing.T) {
	sample := testutil.SampleDir(t)
	got, err := Packages(filepath.Join(sample, "imageconfigs", "core-efi.json"))
	if err != nil {
		t.Fatal(err)
	}
	// From packagelists/core-packages-image.json, hyperv-packages.json, and KernelOptions.
	for _, want := range []string{"shim", "grub2-efi-binary", "hyperv-daemons", "cloud-init", "kernel"} {
		if !slices.Contains(got, want) {
			t.Errorf("core-efi packages lack %q: %v", want, got)
		}
	}
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("not sorted and unique: %v", got)
	}
}

func TestPackagesErrorsNameFileAndLine(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "img.json")
	os.WriteFile(cfg, []byte(`{"SystemConfigs": [{"PackageLists": ["lists/a.json"]}]}`), 0o644)
	os.MkdirAll(filepath.Join(dir, "lists"), 0o755)
	os.WriteFile(filepath.Join(dir, "lists", "a.json"), []byte("{\n  \"packages\": [\"a\",\n}\n"), 0o644)
	_, err := Packages(cfg)
	if err == nil || !strings.Contains(err.Error(), "SystemConfigs[0].PackageLists[0]") || !strings.Contains(err.Error(), "a.json:3:") {
		t.Errorf("error = %v", err)
	}
	os.Remove(filepath.Join(dir, "lists", "a.json"))
	if _, err := Packages(cfg); err == nil || !strings.Contains(err.Error(), "a.json") {
		t.Errorf("missing list: error = %v", err)
	}
}
