package rpm

import (
	"errors"
	"testing"
)

// The seed corpora are in testdata/fuzz/FuzzParseExpr and testdata/fuzz/FuzzEVR.

// FuzzParseExpr checks that ParseExpr never panics, that its errors are
// *SyntaxError values with a column inside the input, and that a parsed tree
// prints as text that parses back to the same tree.
func FuzzParseExpr(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpr(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseExpr(%q): %T %v, want *SyntaxError", s, err, err)
			}
			if se.Input != s || se.Column < 1 || se.Column > len(s)+1 {
				t.Fatalf("ParseExpr(%q): bad error %+v", s, se)
			}
			_ = se.Caret()
			return
		}
		checkShape(t, s, e)
		text := e.String()
		back, err := ParseExpr(text)
		if err != nil {
			t.Fatalf("ParseExpr(%q) printed as %q, which does not parse: %v", s, text, err)
		}
		if !back.Equal(e) {
			t.Fatalf("ParseExpr(%q) printed as %q, which parses to %s", s, text, back)
		}
		if again := back.String(); again != text {
			t.Fatalf("String is not canonical: %q then %q", text, again)
		}
		if !IsRich(s) {
			d, err := ParseDep(s)
			if err != nil || e.Leaf == nil || d != *e.Leaf {
				t.Fatalf("ParseDep(%q) = %v, %v; ParseExpr gave %s", s, d, err, e)
			}
		}
	})
}

// checkShape fails unless e is a well-formed tree.
func checkShape(t *testing.T, in string, e *Expr) {
	t.Helper()
	if e.Op == 0 {
		if e.Leaf == nil || e.Args != nil || e.Leaf.Name == "" {
			t.Fatalf("ParseExpr(%q): bad leaf %#v", in, e)
		}
		return
	}
	n := len(e.Args)
	ok := e.Leaf == nil
	switch e.Op {
	case RichAnd, RichOr, RichWith:
		ok = ok && n >= 2
	case RichWithout:
		ok = ok && n == 2
	case RichIf, RichUnless:
		ok = ok && (n == 2 || n == 3)
	default:
		ok = false
	}
	if !ok {
		t.Fatalf("ParseExpr(%q): bad %v group with %d args", in, e.Op, n)
	}
	for _, a := range e.Args {
		checkShape(t, in, a)
	}
}

// FuzzEVR checks ParseEVR/String round trips and that the comparisons are
// reflexive and antisymmetric, and Satisfies symmetric.
func FuzzEVR(f *testing.F) {
	f.Fuzz(func(t *testing.T, a, b string, ops byte) {
		ea, eb := ParseEVR(a), ParseEVR(b)
		if back := ParseEVR(ea.String()); back != ea {
			t.Fatalf("ParseEVR(%q) = %#v prints as %q, which parses to %#v", a, ea, ea.String(), back)
		}
		if s := ea.String(); ParseEVR(s).String() != s {
			t.Fatalf("EVR.String not canonical for %q", s)
		}

		for _, v := range []string{a, b} {
			if c := Vercmp(v, v); c != 0 {
				t.Fatalf("Vercmp(%q, itself) = %d", v, c)
			}
		}
		ab, ba := Vercmp(a, b), Vercmp(b, a)
		if ab < -1 || ab > 1 || ab != -ba {
			t.Fatalf("Vercmp(%q, %q) = %d but Vercmp(%q, %q) = %d", a, b, ab, b, a, ba)
		}
		if c := CompareEVR(ea, ea); c != 0 {
			t.Fatalf("CompareEVR(%q, itself) = %d", a, c)
		}
		if ab, ba := CompareEVR(ea, eb), CompareEVR(eb, ea); ab != -ba {
			t.Fatalf("CompareEVR(%q, %q) = %d but reversed %d", a, b, ab, ba)
		}

		p := Dep{Name: "x", Op: Op(ops) & opMask, EVR: ea}
		r := Dep{Name: "x", Op: Op(ops>>3) & opMask, EVR: eb}
		if Satisfies(p, r) != Satisfies(r, p) {
			t.Fatalf("Satisfies(%v, %v) is not symmetric", p, r)
		}
		if !Satisfies(p, p) {
			t.Fatalf("Satisfies(%v, itself) = false", p)
		}
	})
}
