package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The query formats slipway asks rpm for. They are exactly what a user can
// pass to `rpmspec -q [--srpm] --qf`, so the helper's output can be checked
// against rpmspec byte for byte. Fields are TAB-separated, one fact a line.
const (
	epochField = "%|EPOCH?{%{EPOCH}}:{}|"
)

var (
	// SRPMQueryFormat describes the source package.
	SRPMQueryFormat = "@SRPM\t%{NAME}\t" + epochField + "\t%{VERSION}\t%{RELEASE}\n" +
		"[@BR\t%{REQUIREFLAGS:deptype}\t" + depFields("REQUIRE") + "\n]" +
		"[@BC\t" + depFields("CONFLICT") + "\n]" +
		"[@EXCLUSIVEARCH\t%{EXCLUSIVEARCH}\n]" +
		"[@EXCLUDEARCH\t%{EXCLUDEARCH}\n]" +
		"[@BUILDARCHS\t%{BUILDARCHS}\n]"

	// RPMQueryFormat describes one binary package.
	RPMQueryFormat = "@RPM\t%{NAME}\t" + epochField + "\t%{VERSION}\t%{RELEASE}\t%{ARCH}\n" +
		"[@P\t" + depFields("PROVIDE") + "\n]" +
		"[@R\t%{REQUIREFLAGS:deptype}\t" + depFields("REQUIRE") + "\n]" +
		"[@C\t" + depFields("CONFLICT") + "\n]" +
		"[@O\t" + depFields("OBSOLETE") + "\n]"
)

// depFields formats one dependency of the tag family (REQUIRE, PROVIDE, ...).
func depFields(tag string) string {
	return "%{" + tag + "NAME}\t%{" + tag + "FLAGS:depflags}\t%{" + tag + "VERSION}"
}

// rawResult is one spec's output from the helper, split into its sections.
type rawResult struct {
	Status int    // child exit status; 0 = parsed
	SRPM   string // source header formatted with SRPMQueryFormat
	RPMs   string // package headers formatted with RPMQueryFormat
	Extra  string // helper-only facts: %files text, %check, Source URLs
	Stderr string // what rpm logged
}

// parseResult turns a successful helper result into an Info.
func parseResult(path, name string, r rawResult) (*Info, error) {
	info := &Info{Path: path, Name: name}
	for _, line := range lines(r.SRPM) {
		f := strings.Split(line, "\t")
		switch f[0] {
		case "@SRPM":
			if len(f) != 5 {
				return nil, fmt.Errorf("malformed line %q", line)
			}
			info.SRPM = NEVR{Name: f[1], Epoch: f[2], Version: f[3], Release: f[4]}
		case "@BR":
			d, err := depFromFields(f[1:], true)
			if err != nil {
				return nil, err
			}
			info.BuildRequires = append(info.BuildRequires, d)
		case "@BC":
			d, err := depFromFields(f[1:], false)
			if err != nil {
				return nil, err
			}
			info.BuildConflicts = append(info.BuildConflicts, d)
		case "@EXCLUSIVEARCH":
			info.ExclusiveArch = append(info.ExclusiveArch, field(f, 1))
		case "@EXCLUDEARCH":
			info.ExcludeArch = append(info.ExcludeArch, field(f, 1))
		case "@BUILDARCHS":
			info.BuildArchs = append(info.BuildArchs, field(f, 1))
		default:
			return nil, fmt.Errorf("unexpected line %q in the source package query", line)
		}
	}
	if info.SRPM.Name == "" {
		return nil, fmt.Errorf("rpm printed no source package")
	}

	var pkg *Package
	for _, line := range lines(r.RPMs) {
		f := strings.Split(line, "\t")
		if f[0] == "@RPM" {
			if len(f) != 6 {
				return nil, fmt.Errorf("malformed line %q", line)
			}
			info.Packages = append(info.Packages, Package{
				NEVR: NEVR{Name: f[1], Epoch: f[2], Version: f[3], Release: f[4]}, Arch: f[5]})
			pkg = &info.Packages[len(info.Packages)-1]
			continue
		}
		if pkg == nil {
			return nil, fmt.Errorf("unexpected line %q before the first package", line)
		}
		var (
			list *[]Dep
			typ  bool
		)
		switch f[0] {
		case "@P":
			list = &pkg.Provides
		case "@R":
			list, typ = &pkg.Requires, true
		case "@C":
			list = &pkg.Conflicts
		case "@O":
			list = &pkg.Obsoletes
		default:
			return nil, fmt.Errorf("unexpected line %q in the package query", line)
		}
		d, err := depFromFields(f[1:], typ)
		if err != nil {
			return nil, err
		}
		*list = append(*list, d)
	}

	if err := parseExtra(info, r.Extra); err != nil {
		return nil, err
	}
	info.Warnings = lines(r.Stderr)
	return info, nil
}

// parseExtra reads the helper's own lines: per-package %files text, %check
// presence and the full Source and Patch URLs.
func parseExtra(info *Info, extra string) error {
	next := 0
	var pkg *Package
	var sources, patches []numbered
	for _, line := range lines(extra) {
		tag, rest, _ := strings.Cut(line, "\t")
		switch tag {
		case "@PKG":
			name, built, _ := strings.Cut(rest, "\t")
			if next >= len(info.Packages) || info.Packages[next].Name != name {
				return fmt.Errorf("helper listed package %q out of order", name)
			}
			pkg = &info.Packages[next]
			pkg.Built = built == "1"
			next++
		case "@F":
			if pkg == nil {
				return fmt.Errorf("file list line before any package")
			}
			pkg.Files = append(pkg.Files, fileEntries(rest)...)
		case "@FF":
			// "%files -f list": the list is made during the build; nothing to read now.
		case "@CHECK":
			info.HasCheck = rest == "1"
		case "@source", "@patch":
			num, text, ok := strings.Cut(rest, "\t")
			n, err := strconv.Atoi(num)
			if !ok || err != nil {
				return fmt.Errorf("malformed helper line %q", line)
			}
			if tag == "@source" {
				sources = append(sources, numbered{n, text})
			} else {
				patches = append(patches, numbered{n, text})
			}
		default:
			return fmt.Errorf("unexpected helper line %q", line)
		}
	}
	if next != len(info.Packages) {
		return fmt.Errorf("helper described %d of %d packages", next, len(info.Packages))
	}
	info.Sources, info.Patches = byNumber(sources), byNumber(patches)
	return nil
}

// numbered is a Source or Patch with its number (Source3: 3).
type numbered struct {
	n    int
	text string
}

// byNumber orders sources by their number; rpm reports them newest first.
func byNumber(list []numbered) []string {
	slices.SortStableFunc(list, func(a, b numbered) int { return a.n - b.n })
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = x.text
	}
	return out
}

func depFromFields(f []string, typed bool) (Dep, error) {
	var d Dep
	if typed {
		if len(f) == 0 {
			return d, fmt.Errorf("empty dependency line")
		}
		d.Type, f = f[0], f[1:]
	}
	if len(f) != 3 {
		return d, fmt.Errorf("malformed dependency %q", strings.Join(f, "\t"))
	}
	d.Name, d.Flags, d.Version = f[0], f[1], f[2]
	if d.Flags == "" {
		d.Version = ""
	}
	return d, nil
}

// fileEntries extracts the paths of one %files line: directives such as
// %doc, %license, %config(...), %attr(...) and %verify(...) are dropped,
// %exclude lines give nothing. A "%dir" entry owns the directory alone, not
// what is below it: it is returned with a trailing "/". %doc/%license with
// relative names install under the doc dir and are not paths anyone
// depends on.
func fileEntries(line string) []string {
	var out []string
	fields := strings.Fields(line)
	dirOnly := false
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case f == "%exclude":
			return nil
		case f == "%dir":
			dirOnly = true
		case strings.HasPrefix(f, "%"):
			// A directive, possibly with a parenthesised argument that may contain spaces.
			if strings.Contains(f, "(") && !strings.Contains(f, ")") {
				for i+1 < len(fields) && !strings.Contains(fields[i], ")") {
					i++
				}
			}
		case strings.HasPrefix(f, "/"):
			if dirOnly && !strings.HasSuffix(f, "/") {
				f += "/"
			}
			out = append(out, f)
		}
	}
	return out
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func field(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

// parseFrameHeader reads "SPECQ <status> <outlen> <errlen>".
func parseFrameHeader(line string) (status, outLen, errLen int, err error) {
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "SPECQ" {
		return 0, 0, 0, fmt.Errorf("unexpected helper output %q", line)
	}
	n := make([]int, 3)
	for i := range n {
		if n[i], err = strconv.Atoi(f[i+1]); err != nil || n[i] < 0 && i > 0 {
			return 0, 0, 0, fmt.Errorf("unexpected helper output %q", line)
		}
	}
	return n[0], n[1], n[2], nil
}

// splitSections splits the child's output "<a> <b> <c>\n" + sections.
func splitSections(out string) (srpm, rpms, extra string, err error) {
	head, body, ok := strings.Cut(out, "\n")
	f := strings.Fields(head)
	if !ok || len(f) != 3 {
		return "", "", "", fmt.Errorf("malformed helper result header %q", head)
	}
	var n [3]int
	total := 0
	for i := range n {
		if n[i], err = strconv.Atoi(f[i]); err != nil || n[i] < 0 {
			return "", "", "", fmt.Errorf("malformed helper result header %q", head)
		}
		total += n[i]
	}
	if total != len(body) {
		return "", "", "", fmt.Errorf("helper result has %d bytes, header says %d", len(body), total)
	}
	return body[:n[0]], body[n[0] : n[0]+n[1]], body[n[0]+n[1]:], nil
}
