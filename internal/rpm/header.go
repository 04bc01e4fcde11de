package rpm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	crpm "github.com/cavaliergopher/rpm"
)

// Header is what slipway reads from a built RPM file: its identity and
// the dependencies and files rpmbuild generated, which are only known
// after a build (sonames, pkgconfig(), perl(), file paths).
type Header struct {
	Name, Epoch, Version, Release, Arch string
	SourceRPM                           string // "" for a source package
	Provides, Requires                  []HeaderDep
	Conflicts, Obsoletes                []HeaderDep
	Files                               []string // directories end in "/"
	SHA256                              string   // of the whole file
}

// HeaderDep is a dependency as stored in a header.
type HeaderDep struct {
	Name    string
	Flags   string // "", "<", "<=", "=", ">=", ">"
	Version string
	// Type lists rpm's dependency qualifiers: "pre", "post", "preun",
	// "postun", "pretrans", "posttrans", "interp", "rpmlib", "config".
	Type string
}

// Header tags (rpm's lib/rpmtag.h).
const (
	tagName           = 1000
	tagVersion        = 1001
	tagRelease        = 1002
	tagEpoch          = 1003
	tagArch           = 1022
	tagSourceRPM      = 1044
	tagProvideName    = 1047
	tagRequireFlags   = 1048
	tagRequireName    = 1049
	tagRequireVersion = 1050
	tagConflictFlags  = 1053
	tagConflictName   = 1054
	tagConflictVer    = 1055
	tagObsoleteName   = 1090
	tagProvideFlags   = 1112
	tagProvideVersion = 1113
	tagObsoleteFlags  = 1114
	tagObsoleteVer    = 1115
)

// ReadHeader reads the header of an RPM file.
func ReadHeader(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sum := sha256.New()
	pkg, err := crpm.Read(io.TeeReader(f, sum))
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable RPM: %w", path, err)
	}
	if _, err := io.Copy(sum, f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	hdr := &pkg.Header
	str := func(tag int) string {
		if t := hdr.GetTag(tag); t != nil {
			return t.String()
		}
		return ""
	}
	h := &Header{
		Name: str(tagName), Version: str(tagVersion), Release: str(tagRelease),
		Arch: str(tagArch), SourceRPM: str(tagSourceRPM), SHA256: hex.EncodeToString(sum.Sum(nil)),
	}
	if t := hdr.GetTag(tagEpoch); t != nil {
		if v := t.Int64Slice(); len(v) > 0 {
			h.Epoch = fmt.Sprint(v[0])
		}
	}
	h.Provides = deps(hdr, tagProvideName, tagProvideFlags, tagProvideVersion)
	h.Requires = deps(hdr, tagRequireName, tagRequireFlags, tagRequireVersion)
	h.Conflicts = deps(hdr, tagConflictName, tagConflictFlags, tagConflictVer)
	h.Obsoletes = deps(hdr, tagObsoleteName, tagObsoleteFlags, tagObsoleteVer)
	for _, fi := range pkg.Files() {
		name := fi.Name()
		if fi.Mode().IsDir() {
			name += "/" // as a %dir entry: the directory alone, not its contents
		}
		h.Files = append(h.Files, name)
	}
	return h, nil
}

// FileName is the name rpmbuild gives the package's file.
func (h *Header) FileName() string {
	return fmt.Sprintf("%s-%s-%s.%s.rpm", h.Name, h.Version, h.Release, h.Arch)
}

func deps(hdr *crpm.Header, nameTag, flagsTag, versionTag int) []HeaderDep {
	names := tagStrings(hdr, nameTag)
	vers := tagStrings(hdr, versionTag)
	var flags []int64
	if t := hdr.GetTag(flagsTag); t != nil {
		flags = t.Int64Slice()
	}
	out := make([]HeaderDep, len(names))
	for i, n := range names {
		d := HeaderDep{Name: n}
		if i < len(flags) {
			d.Flags, d.Type = Op(flags[i]>>1&7).headerString(), depType(flags[i])
		}
		if d.Flags != "" && i < len(vers) {
			d.Version = vers[i]
		}
		out[i] = d
	}
	return out
}

func tagStrings(hdr *crpm.Header, tag int) []string {
	if t := hdr.GetTag(tag); t != nil {
		return t.StringSlice()
	}
	return nil
}

// headerString maps rpm's sense bits (LESS=2, GREATER=4, EQUAL=8, shifted
// down by one to Op's LT, GT, EQ) to the operator rpm prints.
func (o Op) headerString() string {
	if o == 0 {
		return ""
	}
	return o.String()
}

// depType names the qualifier bits of a dependency's flags.
func depType(flags int64) string {
	bits := []struct {
		bit  int64
		name string
	}{
		{1 << 7, "pretrans"}, {1 << 5, "posttrans"}, {1 << 9, "pre"}, {1 << 10, "post"},
		{1 << 11, "preun"}, {1 << 12, "postun"}, {1 << 8, "interp"}, {1 << 24, "rpmlib"}, {1 << 28, "config"},
	}
	var out []string
	for _, b := range bits {
		if flags&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return strings.Join(out, ",")
}
