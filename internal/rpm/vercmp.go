// Package rpm implements rpm's version comparison, simple dependencies with
// version constraints, and rich (boolean) dependencies, with the same
// semantics as rpm 4.18: rpmvercmp, parseEVR, rpmdsCompare and rpmrichParse.
package rpm

import "strings"

// EVR is an epoch:version-release triple. An empty Epoch means no epoch was
// given and compares as 0. An empty Release means no release was given.
type EVR struct{ Epoch, Version, Release string }

// ParseEVR splits "[E:]V[-R]" the way rpm's parseEVR does: the epoch is the
// run of leading digits when a ':' follows it (":V" gives epoch "0"), and the
// release is whatever follows the last '-'. It never fails. A trailing '-'
// gives an empty release, which is treated as no release.
func ParseEVR(s string) EVR {
	var e EVR
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	vstart := 0
	if i < len(s) && s[i] == ':' {
		e.Epoch = s[:i]
		if e.Epoch == "" {
			e.Epoch = "0"
		}
		vstart = i + 1
	}
	// The epoch is all digits, so the last '-' is never inside it.
	if d := strings.LastIndexByte(s, '-'); d >= vstart {
		e.Version, e.Release = s[vstart:d], s[d+1:]
	} else {
		e.Version = s[vstart:]
	}
	return e
}

// String renders e as "[E:]V[-R]" so that ParseEVR gives e back for every
// EVR that ParseEVR can produce.
func (e EVR) String() string {
	var b strings.Builder
	if e.Epoch != "" {
		b.WriteString(e.Epoch)
		b.WriteByte(':')
	}
	b.WriteString(e.Version)
	// A version containing '-' needs a separator even with no release,
	// or its own last '-' would be read as the release separator.
	if e.Release != "" || strings.IndexByte(e.Version, '-') >= 0 {
		b.WriteByte('-')
		b.WriteString(e.Release)
	}
	return b.String()
}

// IsZero reports whether e is empty, which means "no version" in a dependency.
func (e EVR) IsZero() bool { return e == EVR{} }

// CompareEVR compares a and b by epoch (missing is 0), then version, then
// release, each with Vercmp. A missing release sorts before any release, as
// in rpm's rpmverCmp (rpm.ver in rpm's Lua).
func CompareEVR(a, b EVR) int {
	if c := Vercmp(epochOrZero(a.Epoch), epochOrZero(b.Epoch)); c != 0 {
		return c
	}
	if c := Vercmp(a.Version, b.Version); c != 0 {
		return c
	}
	switch {
	case a.Release == "" && b.Release == "":
		return 0
	case a.Release == "":
		return -1
	case b.Release == "":
		return 1
	}
	return Vercmp(a.Release, b.Release)
}

func epochOrZero(e string) string {
	if e == "" {
		return "0"
	}
	return e
}

// Vercmp compares two version (or release) strings exactly like rpm's
// rpmvercmp and returns -1, 0 or 1. Strings are split into runs of ASCII
// digits and ASCII letters; everything else separates runs and is otherwise
// ignored, except '~' (sorts before anything, even the end of the string) and
// '^' (sorts after the end of the string but before anything else). Numeric
// runs compare as numbers (leading zeros ignored) and are newer than
// alphabetic runs. Like rpm, which sees C strings, Vercmp stops at a NUL byte.
func Vercmp(a, b string) int {
	a, b = cString(a), cString(b)
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		i, j = skipSeparators(a, i), skipSeparators(b, j)
		ca, cb := byteAt(a, i), byteAt(b, j)

		// '~' sorts before everything, including the end of the string.
		if ca == '~' || cb == '~' {
			if ca != '~' {
				return 1
			}
			if cb != '~' {
				return -1
			}
			i, j = i+1, j+1
			continue
		}
		// '^' sorts after the end of the string, before anything else.
		if ca == '^' || cb == '^' {
			if i == len(a) {
				return -1
			}
			if j == len(b) {
				return 1
			}
			if ca != '^' {
				return 1
			}
			if cb != '^' {
				return -1
			}
			i, j = i+1, j+1
			continue
		}
		if i == len(a) || j == len(b) {
			break
		}

		class := isAlpha
		numeric := isDigit(ca)
		if numeric {
			class = isDigit
		}
		ea, eb := span(a, i, class), span(b, j, class)
		if eb == j {
			// Different kinds of run: a number is newer than letters.
			if numeric {
				return 1
			}
			return -1
		}
		sa, sb := a[i:ea], b[j:eb]
		if numeric {
			sa, sb = strings.TrimLeft(sa, "0"), strings.TrimLeft(sb, "0")
			if len(sa) != len(sb) {
				return sign(len(sa) - len(sb))
			}
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
		i, j = ea, eb
	}
	switch {
	case i == len(a) && j == len(b):
		return 0
	case i == len(a):
		return -1
	default:
		return 1
	}
}

func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

func skipSeparators(s string, i int) int {
	for i < len(s) && !isAlnum(s[i]) && s[i] != '~' && s[i] != '^' {
		i++
	}
	return i
}

func span(s string, i int, class func(byte) bool) int {
	for i < len(s) && class(s[i]) {
		i++
	}
	return i
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
