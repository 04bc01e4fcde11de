package disk

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"slipway/internal/fsutil"
)

// Convert writes the raw disk image raw to out in format: "vhd" (fixed
// VHD, the size rounded up to a whole MiB as Azure requires), "vhdx",
// "qcow2" or "raw" (a sparse copy). out appears only when complete.
func Convert(ctx context.Context, raw, format, out string) error {
	info, err := os.Stat(raw)
	if err != nil {
		return err
	}
	var opts []string
	qemuFormat := format
	switch format {
	case "vhd":
		qemuFormat, opts = "vpc", []string{"-o", "subformat=fixed,force_size=on"}
	case "vhdx", "qcow2", "raw":
	default:
		return fmt.Errorf("convert %s: unknown format %q (known: raw, vhd, vhdx, qcow2)", raw, format)
	}
	tmpDir, err := os.MkdirTemp(filepath.Dir(out), ".tmp-"+filepath.Base(out)+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmpDir)
	src := raw
	size := info.Size()
	if format == "vhd" && size%mib != 0 {
		// Pad a sparse copy: a fixed VHD's virtual size is the input's.
		src = filepath.Join(tmpDir, "padded.raw")
		if _, _, err := run(ctx, nil, "qemu-img", "convert", "-f", "raw", "-O", "raw", raw, src); err != nil {
			return err
		}
		size = (size + mib - 1) / mib * mib
		if err := os.Truncate(src, size); err != nil {
			return err
		}
	}
	tmp := filepath.Join(tmpDir, "out")
	argv := append([]string{"qemu-img", "convert", "-f", "raw", "-O", qemuFormat}, opts...)
	if _, _, err := run(ctx, nil, append(argv, src, tmp)...); err != nil {
		return err
	}
	got, err := VirtualSize(ctx, tmp, qemuFormat)
	if err != nil {
		return err
	}
	if got != size {
		return fmt.Errorf("convert %s to %s: qemu-img info says the virtual size is %d bytes, want %d", raw, format, got, size)
	}
	if err := fsutil.SyncFile(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// VirtualSize returns the disk size that qemu-img info reads from image in
// qemu-img's format (vpc for VHD).
func VirtualSize(ctx context.Context, image, qemuFormat string) (int64, error) {
	out, _, err := run(ctx, nil, "qemu-img", "info", "--output=json", "-f", qemuFormat, image)
	if err != nil {
		return 0, err
	}
	var info struct {
		VirtualSize int64 `json:"virtual-size"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return 0, fmt.Errorf("qemu-img info %s: %w", image, err)
	}
	return info.VirtualSize, nil
}
