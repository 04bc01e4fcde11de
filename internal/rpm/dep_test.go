package rpm

import (
	"errors"
	"testing"
)

func TestParseOp(t *testing.T) {
	for in, want := range map[string]Op{
		"<": LT, "<=": LE, "=<": LE, "=": EQ, "==": EQ, ">=": GE, "=>": GE, ">": GT,
	} {
		got, err := ParseOp(in)
		if err != nil || got != want {
			t.Errorf("ParseOp(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "!=", "<>", ">>", "===", "eq", " >="} {
		if _, err := ParseOp(in); err == nil {
			t.Errorf("ParseOp(%q) succeeded", in)
		}
	}
	for op, want := range map[Op]string{0: "", LT: "<", LE: "<=", EQ: "=", GE: ">=", GT: ">", LT | GT: "Op(3)"} {
		if got := op.String(); got != want {
			t.Errorf("Op(%d).String() = %q, want %q", uint8(op), got, want)
		}
	}
}

func TestParseDep(t *testing.T) {
	cases := []struct {
		in   string
		want Dep
		str  string
	}{
		{"foo", Dep{Name: "foo"}, "foo"},
		{"  foo\t", Dep{Name: "foo"}, "foo"},
		{"foo >= 1.2-3", Dep{"foo", GE, EVR{"", "1.2", "3"}}, "foo >= 1.2-3"},
		{"foo => 1.2", Dep{"foo", GE, EVR{"", "1.2", ""}}, "foo >= 1.2"},
		{"foo == 2:1", Dep{"foo", EQ, EVR{"2", "1", ""}}, "foo = 2:1"},
		{"pkgconfig(glib-2.0) < 3", Dep{"pkgconfig(glib-2.0)", LT, EVR{"", "3", ""}}, "pkgconfig(glib-2.0) < 3"},
		{"perl(Foo::Bar)\t=\t1.0", Dep{"perl(Foo::Bar)", EQ, EVR{"", "1.0", ""}}, "perl(Foo::Bar) = 1.0"},
		{"/usr/bin/sh", Dep{Name: "/usr/bin/sh"}, "/usr/bin/sh"},
		{"libc.so.6(GLIBC_2.34)(64bit)", Dep{Name: "libc.so.6(GLIBC_2.34)(64bit)"}, "libc.so.6(GLIBC_2.34)(64bit)"},
	}
	for _, c := range cases {
		got, err := ParseDep(c.in)
		if err != nil {
			t.Errorf("ParseDep(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseDep(%q) = %#v, want %#v", c.in, got, c.want)
		}
		if s := got.String(); s != c.str {
			t.Errorf("ParseDep(%q).String() = %q, want %q", c.in, s, c.str)
		}
	}

	errs := []struct {
		in  string
		col int
		msg string
	}{
		{"", 1, "empty dependency"},
		{"   ", 4, "empty dependency"},
		{"(a or b)", 1, "ParseDep takes a simple dependency; use ParseExpr for rich ones"},
		{"foo >=", 7, `missing version after ">="`},
		{"foo >= ", 8, `missing version after ">="`},
		{"foo >> 1", 5, `bad comparison operator ">>"`},
		{"foo != 1", 5, `bad comparison operator "!="`},
		{"foo >=1", 5, `missing space between ">=" and "1"`},
		{"foo bar", 5, `expected a comparison operator, got "bar"`},
		{"foo >= 1 2", 10, `unexpected "2" after dependency`},
		{"foo, bar", 4, `unexpected ","`},
		{"foo)", 4, `unexpected ")"`},
		{")", 1, `unexpected ")"`},
		{">= 1", 1, `missing name before ">="`},
		{"foo = -", 7, `empty version "-"`},
		{"foo(bar", 4, `unbalanced "(" in name "foo(bar"`},
	}
	for _, c := range errs {
		_, err := ParseDep(c.in)
		checkSyntaxError(t, "ParseDep", c.in, err, c.col, c.msg)
	}
}

func checkSyntaxError(t *testing.T, fn, in string, err error, col int, msg string) {
	t.Helper()
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Errorf("%s(%q): error %v, want a *SyntaxError", fn, in, err)
		return
	}
	if se.Input != in || se.Column != col || se.Msg != msg {
		t.Errorf("%s(%q): got column %d %q, want column %d %q", fn, in, se.Column, se.Msg, col, msg)
	}
}

// satisfiesCases are provide/require pairs with rpm's answer (rpmdsCompare);
// the tool-backed test asks rpm about them too.
var satisfiesCases = []struct {
	p, r string
	want bool
}{
	{"foo", "foo", true},
	{"foo", "bar", false},
	{"foo", "foo >= 2", true}, // unversioned provide matches anything
	{"foo = 1", "foo", true},  // unversioned require too
	{"foo = 1.0-1", "foo >= 1.0", true},
	{"foo = 1.0-1", "foo > 1.0", false}, // no release on one side: equal
	{"foo = 1.0-1", "foo < 1.0", false},
	{"foo = 1.0-1", "foo = 1.0", true},
	{"foo = 1.0", "foo >= 1.0-1", true}, // the side without release has EQ
	{"foo = 1.0", "foo < 1.0-1", true},
	{"foo = 1.0", "foo > 1.0-1", true},
	{"foo = 1.0", "foo = 1.0-1", true},
	{"foo > 1.0", "foo = 1.0-1", false},
	{"foo < 1.0", "foo > 1.0-1", false},
	{"foo = 1.0-2", "foo >= 1.0-3", false},
	{"foo = 1.0-3", "foo >= 1.0-3", true},
	{"foo = 1.0-3", "foo > 1.0-3", false},
	{"foo = 1.0-3", "foo <= 1.0-3", true},
	{"foo = 2.0", "foo < 2.0", false},
	{"foo = 1.9", "foo < 2.0", true},
	{"foo = 1:1.0", "foo >= 2.0", true}, // epoch 1 beats missing epoch
	{"foo = 1.0", "foo >= 1:0.1", false},
	{"foo = 0:1.0", "foo = 1.0", true}, // missing epoch is 0
	{"foo = 1:1.0", "foo = 1.0", false},
	{"foo = 1:1.0", "foo = 01:1.0", true},
	{"foo = 1.0~rc1", "foo >= 1.0", false},
	{"foo = 1.0^git1", "foo > 1.0", true},
	{"foo >= 2", "foo < 3", true}, // ranges overlap
	{"foo >= 3", "foo < 3", false},
	{"foo > 3", "foo > 4", true},
	{"foo < 3", "foo < 1", true},
	{"foo <= 3", "foo >= 3", true},
	{"foo < 3", "foo >= 3", false},
	{"foo = 1.0-1.fc40", "foo = 1.0-1.fc41", false},
	{"foo = 1.0-", "foo > 1.0-1", true}, // an empty release is no release
}

func TestSatisfies(t *testing.T) {
	for _, c := range satisfiesCases {
		p, err := ParseDep(c.p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseDep(c.r)
		if err != nil {
			t.Fatal(err)
		}
		if got := Satisfies(p, r); got != c.want {
			t.Errorf("Satisfies(%q, %q) = %v, want %v", c.p, c.r, got, c.want)
		}
		if got := Satisfies(r, p); got != c.want {
			t.Errorf("Satisfies(%q, %q) = %v, want %v (symmetry)", c.r, c.p, got, c.want)
		}
	}
}

func TestCapabilityMatches(t *testing.T) {
	c := Capability{Name: "foo", Constraints: []Constraint{
		{GE, ParseEVR("1.0")},
		{LT, ParseEVR("2.0")},
	}}
	if s := c.String(); s != "foo >= 1.0, foo < 2.0" {
		t.Errorf("String() = %q", s)
	}
	for in, want := range map[string]bool{
		"foo = 1.0-1":     true,
		"foo = 1.5":       true,
		"foo = 1.99~rc1":  true,
		"foo = 2.0~rc1-1": true,
		"foo = 2.0-1":     false,
		"foo = 0.9":       false,
		"foo = 1:0.9":     false, // epoch 1 is newer than any 2.0
		"foo":             true,  // an unversioned provide matches
		"bar = 1.5":       false,
	} {
		p, err := ParseDep(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Matches(p); got != want {
			t.Errorf("Matches(%q) = %v, want %v", in, got, want)
		}
	}
	if !(Capability{Name: "foo"}).Matches(Dep{Name: "foo", Op: EQ, EVR: ParseEVR("1")}) {
		t.Error("a capability without constraints should match any version")
	}
}
