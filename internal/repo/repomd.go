package repo

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// RepoMD is a repository's repodata/repomd.xml: what metadata files it
// has, where, and their checksums.
type RepoMD struct {
	Revision string
	Data     map[string]DataFile // by type: primary, filelists, other, ...
}

// DataFile is one <data> entry of repomd.xml.
type DataFile struct {
	Type         string
	Location     string // href, relative to the repository (or to LocationBase)
	LocationBase string // xml:base, if any
	Checksum     Checksum
	OpenChecksum Checksum // of the decompressed content; may be empty
	Size         int64    // 0 when not given
}

type xmlRepoMD struct {
	Revision string `xml:"revision"`
	Data     []struct {
		Type         string      `xml:"type,attr"`
		Checksum     xmlChecksum `xml:"checksum"`
		OpenChecksum xmlChecksum `xml:"open-checksum"`
		Location     struct {
			Href string `xml:"href,attr"`
			Base string `xml:"http://www.w3.org/XML/1998/namespace base,attr"`
		} `xml:"location"`
		Size int64 `xml:"size"`
	} `xml:"data"`
}

type xmlChecksum struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

func (c xmlChecksum) checksum() Checksum {
	return Checksum{Type: strings.ToLower(strings.TrimSpace(c.Type)), Value: strings.ToLower(strings.TrimSpace(c.Value))}
}

// ParseRepoMD reads repomd.xml. It must list primary data; primary and
// filelists need a location and a checksum of a supported type.
func ParseRepoMD(data []byte) (*RepoMD, error) {
	var x xmlRepoMD
	if err := xml.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("repomd.xml: %w", err)
	}
	md := &RepoMD{Revision: strings.TrimSpace(x.Revision), Data: map[string]DataFile{}}
	for _, d := range x.Data {
		f := DataFile{Type: d.Type, Location: d.Location.Href, LocationBase: d.Location.Base,
			Checksum: d.Checksum.checksum(), OpenChecksum: d.OpenChecksum.checksum(), Size: d.Size}
		md.Data[f.Type] = f
		if f.Type != "primary" && f.Type != "filelists" {
			continue // not read by slipway: no need to fail for it
		}
		if f.Location == "" {
			return nil, fmt.Errorf("repomd.xml: %s data has no location", f.Type)
		}
		if _, err := newHash(f.Checksum.Type); err != nil || f.Checksum.Value == "" {
			return nil, fmt.Errorf("repomd.xml: %s data has no usable checksum (type %q)", f.Type, f.Checksum.Type)
		}
	}
	if _, ok := md.Data["primary"]; !ok {
		return nil, fmt.Errorf("repomd.xml lists no primary data")
	}
	return md, nil
}
