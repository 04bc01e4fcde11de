package rpm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	crpm "github.com/cavaliergopher/rpm"
)

// The layout of an RPM file's start (rpm's lib/rpmlead.c, lib/header.c):
// a 96-byte lead, the signature header padded to 8 bytes, then the header;
// each header is an 8-byte magic, its index count and data size (4 bytes
// each, big-endian), 16 bytes per index entry, and the data.
const (
	leadSize     = 96
	introSize    = 16
	tagSigSHA256 = 273 // RPMSIGTAG_SHA256: the header's SHA-256, hex
)

var headerMagic = []byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0}

// ErrShortHeader says prefix holds too little of the file to tell.
var ErrShortHeader = errors.New("too few bytes to read the RPM header")

// HeaderEnd says where the header of an RPM file ends, from a prefix of
// the file: the bytes to read for PayloadDigests and ReadHeader's fields,
// without the payload. It returns ErrShortHeader, and at least how many
// bytes it needs, when prefix is too short.
func HeaderEnd(prefix []byte) (int64, error) {
	_, end, err := headerBounds(prefix)
	return end, err
}

// headerBounds says where the header starts (after the signature header
// and its padding) and ends; with ErrShortHeader, end is at least how
// many bytes it needs.
func headerBounds(prefix []byte) (start, end int64, err error) {
	start, err = headerBlobEnd(prefix, leadSize)
	if err != nil {
		return 0, start, err
	}
	start += (8 - start%8) % 8
	end, err = headerBlobEnd(prefix, start)
	return start, end, err
}

// headerBlobEnd is the end of the header structure at off.
func headerBlobEnd(prefix []byte, off int64) (int64, error) {
	if int64(len(prefix)) < off+introSize {
		return off + introSize, ErrShortHeader
	}
	intro := prefix[off : off+introSize]
	if !bytes.Equal(intro[:8], headerMagic) {
		return 0, fmt.Errorf("not an RPM header at byte %d", off)
	}
	n, size := int64(binary.BigEndian.Uint32(intro[8:12])), int64(binary.BigEndian.Uint32(intro[12:16]))
	if n > 1<<16 || size > 256<<20 {
		return 0, fmt.Errorf("implausible RPM header at byte %d: %d entries, %d bytes", off, n, size)
	}
	return off + introSize + 16*n + size, nil
}

// CheckHeaderDigest checks that the header of the RPM file at path (the
// whole file or only its start, up to HeaderEnd) has the SHA-256 its
// signature header records: a header cut short or altered by accident
// fails. It does not check a signature.
func CheckHeaderDigest(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	start, end, err := headerBounds(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) < end {
		return fmt.Errorf("%s: %w", path, ErrShortHeader)
	}
	pkg, err := crpm.Read(bytes.NewReader(data[:end]))
	if err != nil {
		return fmt.Errorf("%s: not a readable RPM: %w", path, err)
	}
	want := ""
	if t := pkg.Signature.GetTag(tagSigSHA256); t != nil {
		want = t.String()
	}
	if want == "" {
		return fmt.Errorf("%s: its signature header records no SHA-256 of the header", path)
	}
	sum := sha256.Sum256(data[start:end])
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("%s: the header's SHA-256 is %s, its signature header says %s", path, got, want)
	}
	return nil
}
