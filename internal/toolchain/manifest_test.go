package toolchain

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/testutil"
)

func TestParseSampleBuildOrder(t *testing.T) {
	path := filepath.Join(testutil.SampleDir(t), "toolchain", "toolchain_build_order.txt")
	steps, err := ParseBuildOrder(path)
	if err != nil {
		t.Fatal(err)
	}
	var builds, installs int
	specs := map[string]bool{}
	for _, s := range steps {
		if s.Kind == Build {
			builds++
			specs[s.Spec] = true
		} else {
			installs++
		}
	}
	// The sample's README: 147 builds of 136 specs, 99 installs.
	if builds != 147 || len(specs) != 136 || installs != 99 {
		t.Errorf("%d builds of %d specs, %d installs", builds, len(specs), installs)
	}
	if s := steps[4]; s.Kind != Install || s.Spec != "python-rpm-generators" || s.Prefix != "python3-rpm-generators" || s.Line != 5 {
		t.Errorf("step 5 = %+v", s)
	}
}

func TestBuildOrderErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "order.txt")
	os.WriteFile(path, []byte("BUILD a\nBUIDL b\n\nINSTALL\nINSTALL a a-devel extra\n"), 0o644)
	_, err := ParseBuildOrder(path)
	for _, want := range []string{"order.txt:2: \"BUIDL b\"", "order.txt:4: \"INSTALL\"", "order.txt:5:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	os.WriteFile(path, []byte("BUILD a\nINSTALL a-devel\nBUILD nothere\nINSTALL b\nBUILD a\n"), 0o644)
	steps, err := ParseBuildOrder(path)
	if err != nil {
		t.Fatal(err)
	}
	err = CheckSteps(steps, map[string][]string{"a": {"a", "a-devel"}, "b": {"b"}})
	if err == nil || !strings.Contains(err.Error(), "order.txt:3: BUILD nothere: no spec") ||
		!strings.Contains(err.Error(), "order.txt:4: INSTALL b: no earlier BUILD") || strings.Contains(err.Error(), ":2:") {
		t.Errorf("CheckSteps: %v", err)
	}
}

func TestCheckSet(t *testing.T) {
	manifest := []string{"a-1-1.x86_64.rpm", "b-1-1.noarch.rpm", "c-2-1.x86_64.rpm"}
	if err := CheckSet("m.txt", manifest, []string{"c-2-1.x86_64.rpm", "a-1-1.x86_64.rpm", "b-1-1.noarch.rpm"}); err != nil {
		t.Errorf("same set: %v", err)
	}
	err := CheckSet("m.txt", manifest, []string{"a-1-1.x86_64.rpm", "c-2-2.x86_64.rpm", "d-1-1.x86_64.rpm"})
	var me *MismatchError
	if !errors.As(err, &me) || strings.Join(me.Missing, " ") != "b-1-1.noarch.rpm c-2-1.x86_64.rpm" ||
		strings.Join(me.Extra, " ") != "c-2-2.x86_64.rpm d-1-1.x86_64.rpm" {
		t.Errorf("mismatch: %v", err)
	}
}

func TestReadRPMList(t *testing.T) {
	names, err := ReadRPMList(filepath.Join(testutil.SampleDir(t), "manifests", "package", "toolchain_x86_64.txt"))
	if err != nil || len(names) != 631 {
		t.Errorf("%d names, %v", len(names), err)
	}
	path := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(path, []byte("good-1-1.x86_64.rpm\nnot-an-rpm\n"), 0o644)
	if _, err := ReadRPMList(path); err == nil || !strings.Contains(err.Error(), "bad.txt:2:") {
		t.Errorf("error = %v", err)
	}
}
