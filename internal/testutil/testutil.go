// Package testutil holds what slipway's tool-backed tests share: finding
// host tools and the shared Azure Linux sample.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RequireTools skips the test when a tool is missing, or fails it when
// SLIPWAY_REQUIRE_TOOLS is set (as CI does, so nothing skips there).
// "librpm-dev" stands for the librpm headers the spec helper compiles with.
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		var err error
		if tool == "librpm-dev" {
			_, err = os.Stat("/usr/include/rpm/rpmbuild.h")
		} else {
			_, err = exec.LookPath(tool)
		}
		if err == nil {
			continue
		}
		if os.Getenv("SLIPWAY_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s is required (SLIPWAY_REQUIRE_TOOLS is set) but missing: %v", tool, err)
		}
		t.Skipf("%s not installed", tool)
	}
}

// RequireSpecEval needs what evaluating specs needs: rpm and a C compiler
// with librpm's headers for the evaluation helper.
func RequireSpecEval(t testing.TB) { RequireTools(t, "rpmspec", "cc", "librpm-dev") }

// SampleDir returns ../shared/azl-sample beside the checkout (real Azure
// Linux inputs, read-only), skipping the test when it is absent.
func SampleDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "azl-sample")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("SLIPWAY_REQUIRE_TOOLS") != "" {
			t.Fatalf("the Azure Linux sample is required but missing: %v", err)
		}
		t.Skip("../shared/azl-sample not present")
	}
	return filepath.Clean(dir)
}
