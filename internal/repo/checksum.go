package repo

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Checksum is a digest as rpm-md metadata gives it.
type Checksum struct {
	Type  string // as written: sha256, sha512, sha1, sha (sha1), ...
	Value string // lowercase hex
}

func (c Checksum) String() string { return c.Type + ":" + c.Value }

// ChecksumError is a file whose checksum is not the one the metadata
// gives. The file has been deleted.
type ChecksumError struct {
	URL       string // redacted
	Type      string
	Want, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: %s mismatch: the metadata says %s, the file has %s", e.URL, e.Type, e.Want, e.Got)
}

// newHash returns the hash a checksum type names.
func newHash(typ string) (hash.Hash, error) {
	switch typ {
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	case "sha384":
		return sha512.New384(), nil
	case "sha224":
		return sha256.New224(), nil
	case "sha1", "sha":
		return sha1.New(), nil
	}
	return nil, fmt.Errorf("unsupported checksum type %q (want sha256, sha512, sha384, sha224 or sha1)", typ)
}

// fileChecksum returns the hex digest of a file's content.
func fileChecksum(path, typ string) (string, error) {
	h, err := newHash(typ)
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Magic numbers of the compression formats rpm-md uses.
var (
	gzipMagic  = []byte{0x1f, 0x8b}
	xzMagic    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	zstdMagic  = []byte{0x28, 0xb5, 0x2f, 0xfd}
	bzip2Magic = []byte("BZh")
)

// decompress returns the content of r, decompressed if it starts with the
// magic number of gzip, xz, zstd or bzip2, else as it is. Metadata file
// names say the same (.gz, .xz, .zst, .bz2), but the bytes decide.
func decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return gzip.NewReader(br)
	case bytes.HasPrefix(head, xzMagic):
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(xr), nil
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	case bytes.HasPrefix(head, bzip2Magic):
		return io.NopCloser(bzip2.NewReader(br)), nil
	}
	return io.NopCloser(br), nil
}
