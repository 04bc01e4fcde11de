package source

import (
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
)

func TestRPMArgs(t *testing.T) {
	got := rpmArgs("rpmbuild", "/x/SPECS/a/a.spec", []string{"dist .tn1", "with_check 1"}, "-bs", "--nodeps")
	want := []string{"rpmbuild", "-bs", "--nodeps", "-D", "dist .tn1", "-D", "with_check 1",
		"-D", "_topdir slipway", "-D", "_sourcedir slipway/SOURCES", "-D", "_specdir slipway/SOURCES",
		"-D", "_srcrpmdir slipway/SRPMS", "-D", "_rpmdir slipway/RPMS", "-D", "_builddir slipway/BUILD",
		"-D", "_buildrootdir slipway/BUILDROOT", "-D", "_buildhost slipway",
		"-D", "use_source_date_epoch_as_buildtime 1", "-D", "clamp_mtime_to_source_date_epoch 1",
		"slipway/SOURCES/a.spec"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestMoveAtomicAcrossFileSystems(t *testing.T) {
	other, err := os.MkdirTemp("/dev/shm", "slipway-test-")
	if err != nil {
		t.Skip("no /dev/shm")
	}
	defer os.RemoveAll(other)
	dest := filepath.Join(t.TempDir(), "out", "x.src.rpm")
	var a, b syscall.Stat_t
	if syscall.Stat(other, &a) != nil || syscall.Stat(filepath.Dir(filepath.Dir(dest)), &b) != nil || a.Dev == b.Dev {
		t.Skip("/dev/shm is on the same file system as the temp dir")
	}
	src := filepath.Join(other, "x.src.rpm")
	os.WriteFile(src, []byte("srpm"), 0o600)
	if err := moveAtomic(src, dest); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(dest); string(data) != "srpm" {
		t.Errorf("moved %q", data)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	if entries, _ := os.ReadDir(filepath.Dir(dest)); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}
