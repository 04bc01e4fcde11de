package repo

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"slipway/internal/rpm"
)

// Package is one package of a repository's primary metadata.
type Package struct {
	Name, Arch string
	EVR        rpm.EVR // epoch 0 is written as no epoch
	SourceRPM  string  // file name of the source RPM; "" for a source package

	Location     string   // href, relative to the repository (or to LocationBase)
	LocationBase string   // xml:base, if any
	Checksum     Checksum // of the .rpm file
	Size         int64    // of the .rpm file, in bytes

	Provides  []rpm.Dep
	Requires  []Require
	Conflicts []rpm.Dep
	Obsoletes []rpm.Dep

	// Files are the paths primary metadata lists: those under /etc, the
	// bin directories and /usr/lib/sendmail. All paths are in filelists.
	Files []string
}

// Require is a Requires entry.
type Require struct {
	rpm.Dep
	Pre bool // needed by a scriptlet (Requires(pre) and the like)
}

// NEVRA renders p as name-[epoch:]version-release.arch.
func (p *Package) NEVRA() string { return p.Name + "-" + p.EVR.String() + "." + p.Arch }

// ParsePrimary reads primary.xml (decompressed) as a stream, token by
// token, into packages. Descriptions, changelogs and weak dependencies
// are skipped; strings repeated across packages are shared.
func ParsePrimary(r io.Reader) ([]Package, error) {
	p := &primaryParser{d: xml.NewDecoder(r), strs: map[string]string{}}
	pkgs, err := p.parse()
	if err != nil {
		line, _ := p.d.InputPos()
		return nil, fmt.Errorf("primary.xml line %d: %w", line, err)
	}
	return pkgs, nil
}

type primaryParser struct {
	d    *xml.Decoder
	strs map[string]string // interned strings
	text []byte            // character data of the current element
}

func (p *primaryParser) intern(s string) string {
	if v, ok := p.strs[s]; ok {
		return v
	}
	p.strs[s] = s
	return s
}

func (p *primaryParser) parse() ([]Package, error) {
	var pkgs []Package
	for {
		tok, err := p.d.RawToken()
		if err == io.EOF {
			return pkgs, nil
		}
		if err != nil {
			return nil, err
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "package" {
			if attr(se, "type") != "rpm" {
				if err := p.d.Skip(); err != nil {
					return nil, err
				}
				continue
			}
			pkg, err := p.pkg()
			if err != nil {
				return nil, err
			}
			pkgs = append(pkgs, pkg)
		}
	}
}

// pkg reads one <package> up to its end tag.
func (p *primaryParser) pkg() (Package, error) {
	var (
		pkg   Package
		deps  *[]rpm.Dep // the provides, conflicts or obsoletes list being read
		reqs  bool       // reading requires
		field *string    // the element whose text is collected
		depth = 1
	)
	for depth > 0 {
		tok, err := p.d.RawToken()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return pkg, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			field = nil
			switch t.Name.Local {
			case "name":
				field = &pkg.Name
			case "arch":
				field = &pkg.Arch
			case "sourcerpm":
				field = &pkg.SourceRPM
			case "file":
				pkg.Files = append(pkg.Files, "")
				field = &pkg.Files[len(pkg.Files)-1]
			case "checksum":
				pkg.Checksum.Type = strings.ToLower(attr(t, "type"))
				field = &pkg.Checksum.Value
			case "version":
				pkg.EVR = p.evr(t)
			case "size":
				if v := attr(t, "package"); v != "" {
					if pkg.Size, err = strconv.ParseInt(v, 10, 64); err != nil {
						return pkg, fmt.Errorf("package %s: bad size %q", pkg.Name, v)
					}
				}
			case "location":
				pkg.Location = attr(t, "href")
				pkg.LocationBase = attr(t, "base")
			case "provides":
				deps = &pkg.Provides
			case "conflicts":
				deps = &pkg.Conflicts
			case "obsoletes":
				deps = &pkg.Obsoletes
			case "requires":
				reqs = true
			case "entry":
				if deps == nil && !reqs {
					break // a weak dependency
				}
				d, err := p.dep(t)
				if err != nil {
					return pkg, fmt.Errorf("package %s: %w", pkg.Name, err)
				}
				if reqs {
					pkg.Requires = append(pkg.Requires, Require{Dep: d, Pre: attr(t, "pre") == "1"})
				} else {
					*deps = append(*deps, d)
				}
			}
			p.text = p.text[:0]
		case xml.CharData:
			if field != nil {
				p.text = append(p.text, t...)
			}
		case xml.EndElement:
			depth--
			if field != nil {
				*field = strings.TrimSpace(string(p.text))
				field = nil
			}
			switch t.Name.Local {
			case "provides", "conflicts", "obsoletes", "requires":
				deps, reqs = nil, false
			}
		}
	}
	pkg.Arch = p.intern(pkg.Arch)
	pkg.Checksum.Type = p.intern(pkg.Checksum.Type)
	pkg.Checksum.Value = strings.ToLower(pkg.Checksum.Value)
	switch {
	case pkg.Name == "":
		return pkg, errors.New("a package has no name")
	case pkg.Location == "":
		return pkg, fmt.Errorf("package %s has no location", pkg.NEVRA())
	case pkg.Checksum.Value == "":
		return pkg, fmt.Errorf("package %s has no checksum", pkg.NEVRA())
	}
	if _, err := newHash(pkg.Checksum.Type); err != nil {
		return pkg, fmt.Errorf("package %s: %w", pkg.NEVRA(), err)
	}
	return pkg, nil
}

// evr reads the epoch, ver and rel attributes of t.
func (p *primaryParser) evr(t xml.StartElement) rpm.EVR {
	var e rpm.EVR
	for _, a := range t.Attr {
		switch a.Name.Local {
		case "epoch":
			if a.Value != "0" {
				e.Epoch = p.intern(a.Value)
			}
		case "ver":
			e.Version = p.intern(a.Value)
		case "rel":
			e.Release = p.intern(a.Value)
		}
	}
	return e
}

// dep reads an <rpm:entry>.
func (p *primaryParser) dep(t xml.StartElement) (rpm.Dep, error) {
	d := rpm.Dep{Name: p.intern(attr(t, "name"))}
	if d.Name == "" {
		return d, errors.New("a dependency entry has no name")
	}
	flags := attr(t, "flags")
	if flags == "" {
		return d, nil
	}
	op, ok := flagOps[flags]
	if !ok {
		return d, fmt.Errorf("dependency %s: unknown flags %q", d.Name, flags)
	}
	d.Op, d.EVR = op, p.evr(t)
	return d, nil
}

var flagOps = map[string]rpm.Op{"EQ": rpm.EQ, "LT": rpm.LT, "GT": rpm.GT, "LE": rpm.LE, "GE": rpm.GE}

// attr returns the value of t's attribute with the local name, or "".
func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
