package disk

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"slipway/internal/testutil"
)

// TestConvert converts a raw image whose size is not a whole MiB to every
// format and reads each back with qemu-img.
func TestConvert(t *testing.T) {
	testutil.RequireTools(t, "qemu-img")
	ctx := context.Background()
	dir := t.TempDir()
	raw := filepath.Join(dir, "disk.raw")
	data := make([]byte, 3*mib+512)
	copy(data[2*mib:], "slipway data in the middle")
	if err := os.WriteFile(raw, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		format, qemuFormat string
		size               int64
	}{
		{"vhd", "vpc", 4 * mib}, // rounded up to a whole MiB
		{"vhdx", "vhdx", int64(len(data))},
		{"qcow2", "qcow2", int64(len(data))},
		{"raw", "raw", int64(len(data))},
	} {
		out := filepath.Join(dir, "out."+c.format)
		if err := Convert(ctx, raw, c.format, out); err != nil {
			t.Fatal(err)
		}
		got, err := VirtualSize(ctx, out, c.qemuFormat)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.size {
			t.Errorf("%s: virtual size %d, want %d", c.format, got, c.size)
		}
		// Without -s, qemu-img compare treats the padding as zeros.
		if _, _, err := run(ctx, nil, "qemu-img", "compare", "-f", "raw", "-F", c.qemuFormat, raw, out); err != nil {
			t.Errorf("%s: %v", c.format, err)
		}
	}
	if err := Convert(ctx, raw, "vmdk", filepath.Join(dir, "out.vmdk")); err == nil {
		t.Error("Convert accepted an unknown format")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 5 {
		t.Errorf("%d files left in %s, want the input and 4 outputs", len(entries), dir)
	}
}
