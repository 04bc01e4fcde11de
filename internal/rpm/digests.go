package rpm

import (
	"fmt"
	"os"
	"path"

	crpm "github.com/cavaliergopher/rpm"
)

// tagFileDigestAlgo is RPMTAG_FILEDIGESTALGO; absent means MD5.
const tagFileDigestAlgo = 5011

// digestAlgos are rpm's PGP hash algorithm numbers that file digests use.
var digestAlgos = map[int64]string{1: "md5", 2: "sha1", 8: "sha256", 9: "sha384", 10: "sha512", 11: "sha224"}

// PayloadDigests reads the digests an RPM's header records for the
// regular files of its payload: base name -> lowercase hex, and the
// algorithm ("sha256", "md5", ...). For a source RPM these are its spec,
// sources and patches, so two source RPMs with the same digests were
// packed from the same files.
func PayloadDigests(file string) (algo string, digests map[string]string, err error) {
	f, err := os.Open(file)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	pkg, err := crpm.Read(f)
	if err != nil {
		return "", nil, fmt.Errorf("%s: not a readable RPM: %w", file, err)
	}
	algo = "md5"
	if t := pkg.Header.GetTag(tagFileDigestAlgo); t != nil {
		if v := t.Int64Slice(); len(v) > 0 {
			var ok bool
			if algo, ok = digestAlgos[v[0]]; !ok {
				return "", nil, fmt.Errorf("%s: unknown file digest algorithm %d", file, v[0])
			}
		}
	}
	digests = map[string]string{}
	for _, fi := range pkg.Files() {
		if fi.Mode().IsRegular() {
			digests[path.Base(fi.Name())] = fi.Digest()
		}
	}
	return algo, digests, nil
}
