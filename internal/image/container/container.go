// Package container turns an image root directory into container and
// root-file-system artifacts: a plain or compressed tar of the root, an OCI
// image layout (as a directory or packed in a tar) and a `docker load`-able
// archive. Every artifact is reproducible: the same root gives the same
// bytes whatever the files' times, and appears at its path only when whole.
package container

import (
	"context"
	"time"

	"slipway/internal/image"
)

// Options are shared by all writers.
type Options struct {
	// Epoch (SOURCE_DATE_EPOCH) is every mtime in the archives and the
	// image's created time; 0 means image.DefaultEpoch.
	Epoch int64
	// Arch is the OCI architecture ("amd64", "arm64"; the RPM names
	// x86_64 and aarch64 are accepted too), default "amd64". OS defaults
	// to "linux".
	Arch, OS string
	// The image config.
	Entrypoint, Cmd, Env []string
	WorkingDir, User     string
	Labels               map[string]string
	// TempDir holds the layer's uncompressed and gzipped tars while a
	// Layer is open; default os.TempDir().
	TempDir string
}

func (o Options) epoch() time.Time {
	return time.Unix(image.EpochOrDefault(o.Epoch), 0).UTC()
}

// platform returns the OCI os, architecture and variant.
func (o Options) platform() (goos, arch, variant string) {
	goos, arch = o.OS, o.Arch
	if goos == "" {
		goos = "linux"
	}
	switch arch {
	case "", "x86_64":
		arch = "amd64"
	case "aarch64":
		arch, variant = "arm64", "v8"
	case "arm64":
		variant = "v8"
	}
	return goos, arch, variant
}

// WriteRootTar writes rootDir as a tar archive to out, compressed by
// compression: "" (plain tar), "gz" or "xz" (the xz command).
func WriteRootTar(ctx context.Context, rootDir, out, compression string, opts Options) error {
	return withLayer(ctx, rootDir, opts, func(l *Layer) error { return l.WriteTar(ctx, out, compression) })
}

// WriteOCIArchive writes an OCI image layout packed in a tar file (what
// `skopeo copy oci-archive:` reads) holding one image, with rootDir as
// its one gzip layer, named ref ("latest" if empty).
func WriteOCIArchive(ctx context.Context, rootDir, out, ref string, opts Options) error {
	return withLayer(ctx, rootDir, opts, func(l *Layer) error { return l.WriteOCIArchive(ctx, out, ref) })
}

// WriteOCILayout is WriteOCIArchive writing the layout as the directory
// outDir, which it replaces.
func WriteOCILayout(ctx context.Context, rootDir, outDir, ref string, opts Options) error {
	return withLayer(ctx, rootDir, opts, func(l *Layer) error { return l.WriteOCILayout(ctx, outDir, ref) })
}

// WriteDockerArchive writes a `docker load`-able archive (manifest.json)
// of the image, tagged repoTag such as "tiny:latest".
func WriteDockerArchive(ctx context.Context, rootDir, out, repoTag string, opts Options) error {
	return withLayer(ctx, rootDir, opts, func(l *Layer) error { return l.WriteDockerArchive(ctx, out, repoTag) })
}

func withLayer(ctx context.Context, rootDir string, opts Options, f func(*Layer) error) error {
	l, err := NewLayer(ctx, rootDir, opts)
	if err != nil {
		return err
	}
	defer l.Close()
	return f(l)
}
