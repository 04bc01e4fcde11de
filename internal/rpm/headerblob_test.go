package rpm

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/testutil"
)

// The start of a source RPM up to HeaderEnd is enough for the payload
// digests, and its header digest checks; a changed byte does not.
func TestHeaderEndAndDigest(t *testing.T) {
	testutil.RequireTools(t, "rpmbuild")
	top := t.TempDir()
	spec := filepath.Join(top, "h.spec")
	os.WriteFile(spec, []byte("Name: h\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nSource0: data.txt\n%description\nd\n%files\n"), 0o644)
	os.MkdirAll(filepath.Join(top, "SOURCES"), 0o755)
	os.WriteFile(filepath.Join(top, "SOURCES", "data.txt"), []byte(strings.Repeat("payload ", 100000)), 0o644)
	if out, err := exec.Command("rpmbuild", "-bs", "--define", "_topdir "+top, spec).CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, out)
	}
	srpm := filepath.Join(top, "SRPMS", "h-1-1.src.rpm")
	data, _ := os.ReadFile(srpm)
	if _, err := HeaderEnd(data[:100]); !errors.Is(err, ErrShortHeader) {
		t.Errorf("100 bytes: %v", err)
	}
	end, err := HeaderEnd(data[:min(len(data), 64<<10)])
	if err != nil || end <= 200 || end >= int64(len(data))-1000 {
		t.Fatalf("header end %d of %d bytes: %v", end, len(data), err)
	}
	head := filepath.Join(top, "head.rpm")
	os.WriteFile(head, data[:end], 0o644)
	if err := CheckHeaderDigest(head); err != nil {
		t.Fatal(err)
	}
	_, whole, _ := PayloadDigests(srpm)
	algo, part, err := PayloadDigests(head)
	if err != nil || algo != "sha256" || len(part) != 2 || part["data.txt"] != whole["data.txt"] {
		t.Errorf("from the header alone: %s %v, %v (whole file: %v)", algo, part, err, whole)
	}
	data[end-20] ^= 0xff
	os.WriteFile(head, data[:end], 0o644)
	if err := CheckHeaderDigest(head); err == nil || !strings.Contains(err.Error(), "its signature header says") {
		t.Errorf("a changed header byte: %v", err)
	}
	os.WriteFile(head, data[:end-1], 0o644)
	if err := CheckHeaderDigest(head); !errors.Is(err, ErrShortHeader) {
		t.Errorf("one byte short: %v", err)
	}
}
