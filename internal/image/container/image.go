package container

import (
	"archive/tar"
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RefNameAnnotation names an image in an OCI layout's index.json.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// Image returns the one-layer OCI image (OCI manifest and config media
// types) of the layer with the config from the layer's Options.
func (l *Layer) Image(ctx context.Context) (v1.Image, error) {
	gz, err := l.gzipped(ctx)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: l.opts.epoch()}
	goos, arch, variant := l.opts.platform()
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: arch,
		OS:           goos,
		Variant:      variant,
		Created:      created,
		Config: v1.Config{
			Entrypoint: l.opts.Entrypoint,
			Cmd:        l.opts.Cmd,
			Env:        l.opts.Env,
			WorkingDir: l.opts.WorkingDir,
			User:       l.opts.User,
			Labels:     l.opts.Labels,
		},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	return mutate.Append(img, mutate.Addendum{
		Layer:     gz,
		MediaType: types.OCILayer,
		History:   v1.History{Created: created, CreatedBy: "slipway"},
	})
}

// layoutFile is one file of an OCI layout: data, or the file at path.
type layoutFile struct {
	name string
	data []byte
	path string
	size int64
}

// ociLayout returns the files of the OCI image layout holding the image
// as ref, sorted by name, and the directories they need.
func (l *Layer) ociLayout(ctx context.Context, ref string) (dirs []string, files []layoutFile, err error) {
	if ref == "" {
		ref = "latest"
	}
	img, err := l.Image(ctx)
	if err != nil {
		return nil, nil, err
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return nil, nil, err
	}
	manifest, err := img.RawManifest()
	if err != nil {
		return nil, nil, err
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, nil, err
	}
	goos, arch, variant := l.opts.platform()
	index, err := json.Marshal(v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType:   types.OCIManifestSchema1,
			Size:        int64(len(manifest)),
			Digest:      digest,
			Annotations: map[string]string{RefNameAnnotation: ref},
			Platform:    &v1.Platform{Architecture: arch, OS: goos, Variant: variant},
		}},
	})
	if err != nil {
		return nil, nil, err
	}
	gz, err := l.gzipped(ctx) // made by Image
	if err != nil {
		return nil, nil, err
	}
	blob := func(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }
	files = []layoutFile{
		{name: "oci-layout", data: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{name: "index.json", data: index},
		{name: blob(cfgName), data: cfg},
		{name: blob(digest), data: manifest},
		{name: blob(gz.digest), path: gz.path, size: gz.size},
	}
	for i := range files {
		if files[i].path == "" {
			files[i].size = int64(len(files[i].data))
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return []string{"blobs", "blobs/sha256"}, files, nil
}

// WriteOCIArchive writes the image, named ref, as an OCI layout packed in
// the tar file out; entries are sorted, owned by 0:0 and stamped with the
// epoch.
func (l *Layer) WriteOCIArchive(ctx context.Context, out, ref string) error {
	dirs, files, err := l.ociLayout(ctx, ref)
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	mtime := l.opts.epoch()
	return writeAtomic(out, func(f *os.File) error {
		bw := bufio.NewWriterSize(f, 1<<20)
		tw := tar.NewWriter(bw)
		for _, d := range dirs {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: mtime}); err != nil {
				return err
			}
		}
		for _, lf := range files {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: lf.name, Mode: 0o644, Size: lf.size, ModTime: mtime}); err != nil {
				return err
			}
			if err := lf.writeTo(ctx, tw); err != nil {
				return err
			}
		}
		if err := tw.Close(); err != nil {
			return err
		}
		return bw.Flush()
	})
}

func (lf layoutFile) writeTo(ctx context.Context, w io.Writer) error {
	if lf.path == "" {
		_, err := w.Write(lf.data)
		return err
	}
	return copyFile(ctx, w, lf.path)
}

// WriteOCILayout writes the image, named ref, as the OCI layout directory
// outDir, replacing it: the layout is made in a temporary sibling
// directory and renamed into place.
func (l *Layer) WriteOCILayout(ctx context.Context, outDir, ref string) error {
	dirs, files, err := l.ociLayout(ctx, ref)
	if err != nil {
		return fmt.Errorf("write %s: %w", outDir, err)
	}
	parent, base := filepath.Dir(outDir), filepath.Base(outDir)
	tmp, err := os.MkdirTemp(parent, ".tmp-"+base+"-")
	if err != nil {
		return fmt.Errorf("write %s: %w", outDir, err)
	}
	defer os.RemoveAll(tmp) // no-op once renamed
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", outDir, err)
	}
	for _, d := range dirs {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", outDir, err)
		}
	}
	for _, lf := range files {
		path := filepath.Join(tmp, lf.name)
		if lf.path != "" && os.Link(lf.path, path) == nil {
			continue // the layer's blob, on the same file system
		}
		if err := writeAtomic(path, func(f *os.File) error { return lf.writeTo(ctx, f) }); err != nil {
			return fmt.Errorf("write %s: %w", outDir, err)
		}
	}
	return replaceDir(tmp, outDir)
}

// replaceDir renames the directory tmp to dir, moving an existing dir
// aside first and removing it after.
func replaceDir(tmp, dir string) error {
	old := ""
	if _, err := os.Lstat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("write %s: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("write %s: %w", dir, err)
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// WriteDockerArchive writes the image as a `docker load`-able archive
// (manifest.json, the config and the gzip layer, OCI media types) tagged
// repoTag such as "tiny:latest" (":latest" is added when no tag is given).
func (l *Layer) WriteDockerArchive(ctx context.Context, out, repoTag string) error {
	tag, err := name.NewTag(repoTag)
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	img, err := l.Image(ctx)
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return writeAtomic(out, func(f *os.File) error {
		bw := bufio.NewWriterSize(f, 1<<20)
		if err := tarball.Write(tag, img, bw); err != nil {
			return err
		}
		return bw.Flush()
	})
}
