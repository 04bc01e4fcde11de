package rpm

import "testing"

// vercmpCases are rpm's own cases from tests/rpmvercmp.at (rpm 4.18), the
// "oddities" it documents, and a few more on '~', '^' and separators. Each
// case is checked both ways.
var vercmpCases = []struct {
	a, b string
	want int
}{
	{"1.0", "1.0", 0},
	{"1.0", "2.0", -1},
	{"2.0.1", "2.0.1", 0},
	{"2.0", "2.0.1", -1},
	{"2.0.1a", "2.0.1a", 0},
	{"2.0.1a", "2.0.1", 1},
	{"5.5p1", "5.5p1", 0},
	{"5.5p1", "5.5p2", -1},
	{"5.5p10", "5.5p10", 0},
	{"5.5p1", "5.5p10", -1},
	{"10xyz", "10.1xyz", -1},
	{"xyz10", "xyz10", 0},
	{"xyz10", "xyz10.1", -1},
	{"xyz.4", "xyz.4", 0},
	{"xyz.4", "8", -1},
	{"xyz.4", "2", -1},
	{"5.5p2", "5.6p1", -1},
	{"5.6p1", "6.5p1", -1},
	{"6.0.rc1", "6.0", 1},
	{"10b2", "10a1", 1},
	{"10a2", "10b2", -1},
	{"1.0aa", "1.0aa", 0},
	{"1.0a", "1.0aa", -1},
	{"10.0001", "10.0001", 0},
	{"10.0001", "10.1", 0},
	{"10.0001", "10.0039", -1},
	{"4.999.9", "5.0", -1},
	{"20101121", "20101121", 0},
	{"20101121", "20101122", -1},
	{"2_0", "2_0", 0},
	{"2.0", "2_0", 0},
	// RhBug:178798: separators are all alike.
	{"a", "a", 0},
	{"a+", "a+", 0},
	{"a+", "a_", 0},
	{"+a", "+a", 0},
	{"+a", "_a", 0},
	{"+_", "+_", 0},
	{"_+", "+_", 0},
	{"_+", "_+", 0},
	{"+", "_", 0},
	// Tilde sorts before everything.
	{"1.0~rc1", "1.0~rc1", 0},
	{"1.0~rc1", "1.0", -1},
	{"1.0~rc1", "1.0~rc2", -1},
	{"1.0~rc1~git123", "1.0~rc1~git123", 0},
	{"1.0~rc1~git123", "1.0~rc1", -1},
	// Caret sorts after the end of the string, before anything else.
	{"1.0^", "1.0^", 0},
	{"1.0^", "1.0", 1},
	{"1.0^git1", "1.0^git1", 0},
	{"1.0^git1", "1.0", 1},
	{"1.0^git1", "1.0^git2", -1},
	{"1.0^git1", "1.01", -1},
	{"1.0^20160101", "1.0^20160101", 0},
	{"1.0^20160101", "1.0.1", -1},
	{"1.0^20160101^git1", "1.0^20160101^git1", 0},
	{"1.0^20160102", "1.0^20160101^git1", 1},
	// Tilde and caret together.
	{"1.0~rc1^git1", "1.0~rc1^git1", 0},
	{"1.0~rc1^git1", "1.0~rc1", 1},
	{"1.0^git1~pre", "1.0^git1~pre", 0},
	{"1.0^git1", "1.0^git1~pre", 1},
	// Oddities rpm documents (RhBug:811992, non-ASCII bytes are separators).
	{"1b.fc17", "1b.fc17", 0},
	{"1b.fc17", "1.fc17", -1},
	{"1g.fc17", "1g.fc17", 0},
	{"1g.fc17", "1.fc17", 1},
	{"1.1.α", "1.1.α", 0},
	{"1.1.α", "1.1.β", 0},
	{"1.1.αα", "1.1.α", 0},
	{"1.1.α", "1.1.ββ", 0},
	{"1.1.ββ", "1.1.αα", 0},
	// More, checked against rpm 4.18.
	{"~~", "~", -1},
	{"1.0~~", "1.0~", -1},
	{"1.0~", "1.0", -1},
	{"1.0^", "1.0~", 1},
	{"1.0^~", "1.0^", -1},
	{"1.0^^", "1.0^", 1},
	{"1.0^rc1", "1.0~rc1", 1},
	{"1~rc1^git", "1~rc1", 1},
	{"1.0", "1.0.", 0},
	{"1.0", "1.0_", 0},
	{"a", "1", -1},
	{"1.0a", "1.0.1", -1},
	{"1.0", "1.0a", -1},
	{"0001", "1", 0},
	{"007", "7", 0},
	{"99999999999999999999", "100000000000000000000", -1},
	{"", "", 0},
	{"", "0", -1},
	{"", "~", 1},
	{"", "^", -1},
	{"", ".", 0},
	{"1.0\x00a", "1.0", 0}, // rpm sees C strings
}

func TestVercmp(t *testing.T) {
	for _, c := range vercmpCases {
		if got := Vercmp(c.a, c.b); got != c.want {
			t.Errorf("Vercmp(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Vercmp(c.b, c.a); got != -c.want {
			t.Errorf("Vercmp(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestParseEVR(t *testing.T) {
	cases := []struct {
		in   string
		want EVR
		str  string // String() of the result
	}{
		{"1.0", EVR{"", "1.0", ""}, "1.0"},
		{"1.0-3", EVR{"", "1.0", "3"}, "1.0-3"},
		{"1:2.0-3", EVR{"1", "2.0", "3"}, "1:2.0-3"},
		{"1:2.0", EVR{"1", "2.0", ""}, "1:2.0"},
		{"0:2.0-3.fc40", EVR{"0", "2.0", "3.fc40"}, "0:2.0-3.fc40"},
		{"2.0-rc1-3", EVR{"", "2.0-rc1", "3"}, "2.0-rc1-3"},
		{":1.0", EVR{"0", "1.0", ""}, "0:1.0"},
		{"a:1.0", EVR{"", "a:1.0", ""}, "a:1.0"},
		{"1a:1.0", EVR{"", "1a:1.0", ""}, "1a:1.0"},
		{"1:2:3-4", EVR{"1", "2:3", "4"}, "1:2:3-4"},
		{"1.0-", EVR{"", "1.0", ""}, "1.0"},
		{"-1", EVR{"", "", "1"}, "-1"},
		{"--", EVR{"", "-", ""}, "--"},
		{"1-2-", EVR{"", "1-2", ""}, "1-2-"},
		{"12:", EVR{"12", "", ""}, "12:"},
		{"", EVR{}, ""},
		{"2.0~rc1^git3-0.1", EVR{"", "2.0~rc1^git3", "0.1"}, "2.0~rc1^git3-0.1"},
	}
	for _, c := range cases {
		got := ParseEVR(c.in)
		if got != c.want {
			t.Errorf("ParseEVR(%q) = %#v, want %#v", c.in, got, c.want)
		}
		if s := got.String(); s != c.str {
			t.Errorf("ParseEVR(%q).String() = %q, want %q", c.in, s, c.str)
		}
		if back := ParseEVR(got.String()); back != got {
			t.Errorf("ParseEVR(%q) round trip: %#v, want %#v", got.String(), back, got)
		}
	}
}

func TestCompareEVR(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.0-1", "1.0-1", 0},
		{"1.0-1", "1.0-2", -1},
		{"1.0-10", "1.0-9", 1},
		{"1:1.0-1", "2.0-1", 1},
		{"0:1.0-1", "1.0-1", 0},
		{"00:1.0-1", "1.0-1", 0},
		{"1.0", "1.0-1", -1}, // a missing release sorts first
		{"1.0", "1.0", 0},
		{"2:1", "10:1", -1},
		{"1.0~rc1-5", "1.0-1", -1},
		{"1.0^git1-1", "1.0-9", 1},
		{"1.0-1", "1.0-1~", 1},
	}
	for _, c := range cases {
		a, b := ParseEVR(c.a), ParseEVR(c.b)
		if got := CompareEVR(a, b); got != c.want {
			t.Errorf("CompareEVR(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := CompareEVR(b, a); got != -c.want {
			t.Errorf("CompareEVR(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}
