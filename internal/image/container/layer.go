package container

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Layer is the archive of an image root, made once and shared by the
// writers: the uncompressed tar and, when first needed, its gzip, both in
// a temporary directory that Close removes.
type Layer struct {
	root   string
	opts   Options
	dir    string
	tar    string  // path of the uncompressed tar
	diffID v1.Hash // its sha256
	size   int64

	mu sync.Mutex
	gz *gzLayer // nil until made
}

// NewLayer archives rootDir into a temporary file under opts.TempDir:
// entries in sorted order named like "usr/bin/x" (no "./", no entry for
// the root), numeric owners, full mode bits, hard links kept, sockets
// skipped, security.capability kept as a PAX record, every mtime the
// epoch.
func NewLayer(ctx context.Context, rootDir string, opts Options) (*Layer, error) {
	dir, err := os.MkdirTemp(opts.TempDir, "slipway-layer-")
	if err != nil {
		return nil, fmt.Errorf("layer of %s: %w", rootDir, err)
	}
	l := &Layer{root: rootDir, opts: opts, dir: dir, tar: filepath.Join(dir, "layer.tar")}
	digest, size, err := writeHashed(l.tar, func(w io.Writer) error {
		tw := tar.NewWriter(w)
		if err := writeTree(ctx, rootDir, tw, opts.epoch()); err != nil {
			return err
		}
		return tw.Close()
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("layer of %s: %w", rootDir, err)
	}
	l.diffID, l.size = digest, size
	return l, nil
}

// Close removes the layer's temporary files.
func (l *Layer) Close() error { return os.RemoveAll(l.dir) }

// DiffID is the sha256 of the uncompressed tar.
func (l *Layer) DiffID() v1.Hash { return l.diffID }

// WriteTar writes the root's tar to out, compressed by compression: ""
// (none), "gz" (the image layer's own gzip) or "xz" (`xz -T0 -6`, the
// multi-threaded compressor, whose output does not depend on the number
// of threads).
func (l *Layer) WriteTar(ctx context.Context, out, compression string) error {
	var src string
	switch compression {
	case "":
		src = l.tar
	case "gz":
		gz, err := l.gzipped(ctx)
		if err != nil {
			return err
		}
		src = gz.path
	case "xz":
		return writeAtomic(out, func(f *os.File) error { return l.xz(ctx, f) })
	default:
		return fmt.Errorf("write %s: unknown compression %q (known: \"\", gz, xz)", out, compression)
	}
	return writeAtomic(out, func(f *os.File) error { return copyFile(ctx, f, src) })
}

func (l *Layer) xz(ctx context.Context, out *os.File) error {
	in, err := os.Open(l.tar)
	if err != nil {
		return err
	}
	defer in.Close()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "xz", "-T0", "-6", "-c")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("xz -T0 -6 -c: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// gzipped returns the layer's gzip blob, making it the first time.
func (l *Layer) gzipped(ctx context.Context) (*gzLayer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gz != nil {
		return l.gz, nil
	}
	path := filepath.Join(l.dir, "layer.tar.gz")
	digest, size, err := writeHashed(path, func(w io.Writer) error {
		zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression) // no name, zero mtime
		if err != nil {
			return err
		}
		if err := copyFile(ctx, zw, l.tar); err != nil {
			return err
		}
		return zw.Close()
	})
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("gzip layer of %s: %w", l.root, err)
	}
	l.gz = &gzLayer{l: l, path: path, digest: digest, size: size}
	return l.gz, nil
}

// gzLayer is the v1.Layer go-containerregistry writes: an OCI gzip layer
// whose digests are already known.
type gzLayer struct {
	l      *Layer
	path   string
	digest v1.Hash
	size   int64
}

func (g *gzLayer) Digest() (v1.Hash, error)             { return g.digest, nil }
func (g *gzLayer) DiffID() (v1.Hash, error)             { return g.l.diffID, nil }
func (g *gzLayer) Size() (int64, error)                 { return g.size, nil }
func (g *gzLayer) MediaType() (types.MediaType, error)  { return types.OCILayer, nil }
func (g *gzLayer) Compressed() (io.ReadCloser, error)   { return os.Open(g.path) }
func (g *gzLayer) Uncompressed() (io.ReadCloser, error) { return os.Open(g.l.tar) }

// writeHashed writes path with fill, returning the sha256 and size of
// what was written.
func writeHashed(path string, fill func(io.Writer) error) (v1.Hash, int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return v1.Hash{}, 0, err
	}
	defer f.Close()
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	if err := fill(bw); err != nil {
		return v1.Hash{}, 0, err
	}
	if err := bw.Flush(); err != nil {
		return v1.Hash{}, 0, err
	}
	if err := f.Close(); err != nil {
		return v1.Hash{}, 0, err
	}
	return sum(h), cw.n, nil
}

func sum(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// copyFile copies the file src to w.
func copyFile(ctx context.Context, w io.Writer, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, ctxReader{ctx, f})
	return err
}

// writeAtomic makes out (mode 0644) by letting fill write a temporary
// file beside it, synced and renamed over out; on failure nothing is left.
func writeAtomic(out string, fill func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(out), ".tmp-"+filepath.Base(out)+"-")
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op once renamed
	err = fill(f)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
