// Package repotest makes rpm-md repositories for tests and benchmarks:
// synthetic primary and filelists metadata of any size, and repodata/
// with a repomd.xml in any compression and checksum type.
package repotest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Name is the name of synthetic package i.
func Name(i int) string {
	if i%5 == 4 {
		return fmt.Sprintf("pkg%05d-devel", i)
	}
	return fmt.Sprintf("pkg%05d", i)
}

// Version is the version of synthetic package i; its release is "<i%7+1>.azl3".
func Version(i int) string { return fmt.Sprintf("%d.%d.%d", 1+i%4, i%13, i%7) }

// PkgID is the checksum (sha256) primary gives synthetic package i.
func PkgID(i int) string {
	sum := sha256.Sum256([]byte(Name(i)))
	return hex.EncodeToString(sum[:])
}

// Primary returns a primary.xml of n packages resembling a distribution's:
// each has a description, 10 provides, 15 requires (on libc, the shell and
// other packages' libraries, some versioned, some for scriptlets), 3 files
// under /usr/bin and /etc, and some conflicts and obsoletes. The same n
// gives the same bytes.
func Primary(n int) []byte {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	var b bytes.Buffer
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"%d\">\n", n)
	for i := range n {
		name, ver, rel := Name(i), Version(i), fmt.Sprintf("%d.azl3", i%7+1)
		arch := "x86_64"
		if i%9 == 0 {
			arch = "noarch"
		}
		epoch := "0"
		if i%50 == 0 {
			epoch = "1"
		}
		evr := fmt.Sprintf(`epoch="%s" ver="%s" rel="%s"`, epoch, ver, rel)
		fmt.Fprintf(&b, `<package type="rpm">
  <name>%s</name>
  <arch>%s</arch>
  <version %s/>
  <checksum type="sha256" pkgid="YES">%s</checksum>
  <summary>The %s package &amp; its tools</summary>
  <description>%s provides the library and command line tools of project %d. It is built from source with
the distribution's compiler flags, and its configuration lives under /etc. This text is here so the
metadata is as long as a real distribution's.</description>
  <packager>Slipway Test &lt;test@example.com&gt;</packager>
  <url>https://example.com/%s</url>
  <time file="1700000000" build="1690000000"/>
  <size package="%d" installed="%d" archive="%d"/>
  <location href="Packages/p/%s-%s-%s.%s.rpm"/>
  <format>
    <rpm:license>MIT AND BSD-3-Clause</rpm:license>
    <rpm:vendor>Slipway</rpm:vendor>
    <rpm:group>Unspecified</rpm:group>
    <rpm:buildhost>build.example.com</rpm:buildhost>
    <rpm:sourcerpm>%s-%s-%s.src.rpm</rpm:sourcerpm>
    <rpm:header-range start="4504" end="%d"/>
    <rpm:provides>
`, name, arch, evr, PkgID(i), name, name, i, name, 10000+i*37, 40000+i*91, 41000+i*91, name, ver, rel, arch, name, ver, rel, 9000+i)
		lib := fmt.Sprintf("lib%05d", i)
		for _, p := range []string{
			fmt.Sprintf(`name="%s" flags="EQ" %s`, name, evr),
			fmt.Sprintf(`name="%s(x86-64)" flags="EQ" %s`, name, evr),
			fmt.Sprintf(`name="%s.so.1()(64bit)"`, lib),
			fmt.Sprintf(`name="%s.so.1(%s_1.0)(64bit)"`, lib, lib),
			fmt.Sprintf(`name="%s.so.1(%s_1.1)(64bit)"`, lib, lib),
			fmt.Sprintf(`name="pkgconfig(%s)" flags="EQ" epoch="0" ver="%s"`, lib, ver),
			fmt.Sprintf(`name="config(%s)" flags="EQ" %s`, name, evr),
			fmt.Sprintf(`name="cmake(%s)" flags="EQ" epoch="0" ver="%s"`, name, ver),
			fmt.Sprintf(`name="bundled(zlib%d)" flags="EQ" epoch="0" ver="1.2.%d"`, i%40, i%13),
			fmt.Sprintf(`name="%s-compat" flags="EQ" %s`, name, evr),
		} {
			fmt.Fprintf(&b, "      <rpm:entry %s/>\n", p)
		}
		b.WriteString("    </rpm:provides>\n    <rpm:requires>\n")
		reqs := []string{
			`name="/bin/sh" pre="1"`,
			`name="/sbin/ldconfig" pre="1"`,
			`name="rtld(GNU_HASH)"`,
			`name="libc.so.6()(64bit)"`,
			`name="libc.so.6(GLIBC_2.34)(64bit)"`,
			`name="libm.so.6()(64bit)"`,
			fmt.Sprintf(`name="config(%s)" flags="EQ" %s`, name, evr),
		}
		for len(reqs) < 15 {
			j := rng.IntN(n)
			if j == i {
				continue
			}
			if len(reqs)%2 == 0 {
				reqs = append(reqs, fmt.Sprintf(`name="lib%05d.so.1()(64bit)"`, j))
			} else {
				reqs = append(reqs, fmt.Sprintf(`name="%s" flags="GE" epoch="0" ver="%d.0"`, Name(j), 1+j%4))
			}
		}
		for _, r := range reqs {
			fmt.Fprintf(&b, "      <rpm:entry %s/>\n", r)
		}
		b.WriteString("    </rpm:requires>\n")
		if i%10 == 3 {
			fmt.Fprintf(&b, "    <rpm:conflicts>\n      <rpm:entry name=\"%s-old\" flags=\"LT\" epoch=\"0\" ver=\"1.0\"/>\n    </rpm:conflicts>\n", name)
		}
		if i%10 == 7 {
			fmt.Fprintf(&b, "    <rpm:obsoletes>\n      <rpm:entry name=\"%s-legacy\" flags=\"LE\" epoch=\"0\" ver=\"%s\" rel=\"%s\"/>\n    </rpm:obsoletes>\n", name, ver, rel)
		}
		fmt.Fprintf(&b, "    <file>/usr/bin/%s</file>\n    <file>/etc/%s.conf</file>\n    <file type=\"dir\">/etc/%s.d</file>\n  </format>\n</package>\n", name, name, name)
	}
	b.WriteString("</metadata>\n")
	return b.Bytes()
}

// Filelists returns the filelists.xml that goes with Primary(n): each
// package also holds a library, a header and documentation.
func Filelists(n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<filelists xmlns=\"http://linux.duke.edu/metadata/filelists\" packages=\"%d\">\n", n)
	for i := range n {
		name := Name(i)
		fmt.Fprintf(&b, `<package pkgid="%s" name="%s" arch="x86_64">
  <version epoch="0" ver="%s" rel="%d.azl3"/>
  <file>/usr/bin/%s</file>
  <file>/etc/%s.conf</file>
  <file type="dir">/etc/%s.d</file>
  <file>/usr/lib64/lib%05d.so.1</file>
  <file>/usr/include/%s.h</file>
  <file>/usr/share/doc/%s/README</file>
</package>
`, PkgID(i), name, Version(i), i%7+1, name, name, name, i, name, name)
	}
	b.WriteString("</filelists>\n")
	return b.Bytes()
}

// File is one metadata file for WriteRepodata.
type File struct {
	Type string // primary, filelists, other, ...
	XML  []byte // uncompressed
}

// WriteRepodata writes dir/repodata/ with files, each compressed as comp
// says ("gz", "xz", "zst", or "" for none) and named
// <checksum>-<type>.xml[.<comp>], and a repomd.xml listing them with
// checksums of sumType (sha256, sha512 or sha1), open checksums and sizes.
// It returns the path of each file by type.
func WriteRepodata(dir, comp, sumType string, files ...File) (map[string]string, error) {
	repodata := filepath.Join(dir, "repodata")
	if err := os.MkdirAll(repodata, 0o755); err != nil {
		return nil, err
	}
	var md bytes.Buffer
	md.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n  <revision>1700000000</revision>\n")
	paths := map[string]string{}
	for _, f := range files {
		data, err := compress(f.XML, comp)
		if err != nil {
			return nil, err
		}
		sum, err := digest(sumType, data)
		if err != nil {
			return nil, err
		}
		open, _ := digest(sumType, f.XML)
		name := sum + "-" + f.Type + ".xml"
		if comp != "" {
			name += "." + comp
		}
		paths[f.Type] = filepath.Join(repodata, name)
		if err := os.WriteFile(paths[f.Type], data, 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(&md, `  <data type="%s">
    <checksum type="%s">%s</checksum>
    <open-checksum type="%s">%s</open-checksum>
    <location href="repodata/%s"/>
    <timestamp>1700000000</timestamp>
    <size>%d</size>
    <open-size>%d</open-size>
  </data>
`, f.Type, sumType, sum, sumType, open, name, len(data), len(f.XML))
	}
	md.WriteString("</repomd>\n")
	return paths, os.WriteFile(filepath.Join(repodata, "repomd.xml"), md.Bytes(), 0o644)
}

func compress(data []byte, comp string) ([]byte, error) {
	var b bytes.Buffer
	switch comp {
	case "":
		return data, nil
	case "gz":
		w := gzip.NewWriter(&b)
		w.Write(data)
		if err := w.Close(); err != nil {
			return nil, err
		}
	case "xz":
		w, err := xz.NewWriter(&b)
		if err != nil {
			return nil, err
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			return nil, err
		}
	case "zst":
		w, err := zstd.NewWriter(&b)
		if err != nil {
			return nil, err
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown compression %q (want gz, xz, zst or none)", comp)
	}
	return b.Bytes(), nil
}

// digest returns the hex checksum of data.
func digest(typ string, data []byte) (string, error) {
	var h hash.Hash
	switch typ {
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	case "sha1", "sha":
		h = sha1.New()
	default:
		return "", fmt.Errorf("unknown checksum type %q", typ)
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), nil
}
