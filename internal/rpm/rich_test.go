package rpm

import (
	"strings"
	"testing"
)

func leaf(s string) *Expr {
	d, err := ParseDep(s)
	if err != nil {
		panic(err)
	}
	return &Expr{Leaf: &d}
}

func group(op RichOp, args ...*Expr) *Expr { return &Expr{Op: op, Args: args} }

var parseExprCases = []struct {
	in   string
	want *Expr
	str  string // canonical String()
}{
	{"foo", leaf("foo"), "foo"},
	{"foo >= 1.0-1", leaf("foo >= 1.0-1"), "foo >= 1.0-1"},
	{"(foo)", leaf("foo"), "foo"},
	{"((foo >= 1))", leaf("foo >= 1"), "foo >= 1"},
	{"(a and b)", group(RichAnd, leaf("a"), leaf("b")), "(a and b)"},
	{"(a or b)", group(RichOr, leaf("a"), leaf("b")), "(a or b)"},
	{"(a if b)", group(RichIf, leaf("a"), leaf("b")), "(a if b)"},
	{"(a unless b)", group(RichUnless, leaf("a"), leaf("b")), "(a unless b)"},
	{"(a with b)", group(RichWith, leaf("a"), leaf("b")), "(a with b)"},
	{"(a without b)", group(RichWithout, leaf("a"), leaf("b")), "(a without b)"},
	{"(a if b else c)", group(RichIf, leaf("a"), leaf("b"), leaf("c")), "(a if b else c)"},
	{"(a unless b else c)", group(RichUnless, leaf("a"), leaf("b"), leaf("c")), "(a unless b else c)"},
	{"(a or b or c or d)", group(RichOr, leaf("a"), leaf("b"), leaf("c"), leaf("d")), "(a or b or c or d)"},
	{"(a and b and c)", group(RichAnd, leaf("a"), leaf("b"), leaf("c")), "(a and b and c)"},
	{"(a with b with c)", group(RichWith, leaf("a"), leaf("b"), leaf("c")), "(a with b with c)"},
	{
		"(a or (b and c >= 2))",
		group(RichOr, leaf("a"), group(RichAnd, leaf("b"), leaf("c >= 2"))),
		"(a or (b and c >= 2))",
	},
	{
		"((a or b) or c)",
		group(RichOr, group(RichOr, leaf("a"), leaf("b")), leaf("c")),
		"((a or b) or c)",
	},
	{
		"  (  pkgconfig(gtk+-3.0) >= 3.24 if\t(gui unless headless) else (tui with ncurses < 6~) )  ",
		group(RichIf,
			leaf("pkgconfig(gtk+-3.0) >= 3.24"),
			group(RichUnless, leaf("gui"), leaf("headless")),
			group(RichWith, leaf("tui"), leaf("ncurses < 6~"))),
		"(pkgconfig(gtk+-3.0) >= 3.24 if (gui unless headless) else (tui with ncurses < 6~))",
	},
	{
		"(foo-libs(x86-64) = 1:2.0-3.fc40 and (bar or (baz if (qux without quux))))",
		group(RichAnd,
			leaf("foo-libs(x86-64) = 1:2.0-3.fc40"),
			group(RichOr, leaf("bar"), group(RichIf, leaf("baz"), group(RichWithout, leaf("qux"), leaf("quux"))))),
		"(foo-libs(x86-64) = 1:2.0-3.fc40 and (bar or (baz if (qux without quux))))",
	},
	// rpm allows or/with/without groups inside with/without operands.
	{"(a with (b or c))", group(RichWith, leaf("a"), group(RichOr, leaf("b"), leaf("c"))), "(a with (b or c))"},
	{"((a with b) without c)", group(RichWithout, group(RichWith, leaf("a"), leaf("b")), leaf("c")), "((a with b) without c)"},
	// Commas are whitespace inside rich deps, as in rpm; "=>" is ">=".
	{"(a => 1,or b)", group(RichOr, leaf("a >= 1"), leaf("b")), "(a >= 1 or b)"},
	// Names may look like operators; versions may be words.
	{"(or or b >= and)", group(RichOr, leaf("or"), leaf("b >= and")), "(or or b >= and)"},
	{"(a(b)c or d)", group(RichOr, leaf("a(b)c"), leaf("d")), "(a(b)c or d)"},
}

func TestParseExpr(t *testing.T) {
	for _, c := range parseExprCases {
		got, err := ParseExpr(c.in)
		if err != nil {
			t.Errorf("ParseExpr(%q): %v", c.in, err)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("ParseExpr(%q) = %s, want %s", c.in, got, c.want)
		}
		s := got.String()
		if s != c.str {
			t.Errorf("ParseExpr(%q).String() = %q, want %q", c.in, s, c.str)
		}
		back, err := ParseExpr(s)
		if err != nil || !back.Equal(got) {
			t.Errorf("ParseExpr(%q) (round trip) = %v, %v; want %s", s, back, err, got)
		}
	}
}

var parseExprErrorCases = []struct {
	in  string
	col int
	msg string
}{
	{"(a or b", 8, `missing ")"`},
	{"((a or b)", 10, `missing ")"`},
	{"(a or (b and c)", 16, `missing ")"`},
	{"(", 2, `missing ")"`},
	{"(a or b))", 9, `unexpected ")" after the closing ")"`},
	{"(a or b) c", 10, `unexpected "c" after the closing ")"`},
	{"(a or b) (c)", 10, `unexpected "(c)" after the closing ")"`},
	{"()", 2, "empty rich dependency"},
	{"( , )", 5, "empty rich dependency"},
	{"(a or )", 7, `missing operand after "or"`},
	{"(a or", 6, `missing operand after "or"`},
	{"(a if b else)", 13, `missing operand after "else"`},
	{"(a xor b)", 4, `unknown operator "xor"`},
	{"(a AND b)", 4, `unknown operator "AND" (operators are lowercase)`},
	{"(a b)", 4, `unknown operator "b"`},
	{"(a or(b))", 4, `unknown operator "or(b"`},
	{"(a and b or c)", 10, `cannot mix "and" and "or" without parentheses`},
	{"(a or b with c)", 9, `cannot mix "or" and "with" without parentheses`},
	{"(a if b or c)", 9, `cannot mix "if" and "or" without parentheses`},
	{"(a if b if c)", 9, `"if" cannot be chained; use parentheses`},
	{"(a unless b unless c)", 13, `"unless" cannot be chained; use parentheses`},
	{"(a without b without c)", 14, `"without" cannot be chained; use parentheses`},
	{"(a if b else c else d)", 16, `"else" cannot be chained; use parentheses`},
	{"(a if b else c or d)", 16, `cannot mix "else" and "or" without parentheses`},
	{"(a else b)", 4, `"else" without "if" or "unless"`},
	{"(a and b else c)", 10, `"else" without "if" or "unless"`},
	{"(a with (b and c))", 9, `"and" group not allowed inside "with"`},
	{"((a if b) without c)", 2, `"if" group not allowed inside "without"`},
	{"(a with (b or (c unless d)))", 15, `"unless" group not allowed inside "with"`},
	{"(a with (b if c else d))", 9, `"if" group not allowed inside "with"`},
	{"(a >> 1)", 4, `bad comparison operator ">>"`},
	{"(a != 1 or b)", 4, `bad comparison operator "!="`},
	{"(a =! 1)", 4, `bad comparison operator "=!"`},
	{"(a >=1)", 4, `missing space between ">=" and "1"`},
	{"(a >= )", 7, `missing version after ">="`},
	{"(a >=", 6, `missing version after ">="`},
	{"(>= 1)", 2, `missing name before ">="`},
	{"(a = - or b)", 6, `empty version "-"`},
	{"", 1, "empty dependency"},
	{"a b", 3, `expected a comparison operator, got "b"`},
	{strings.Repeat("(", maxDepth+1) + "a" + strings.Repeat(")", maxDepth+1), maxDepth + 1,
		"parentheses nested deeper than 1000"},
}

func TestParseExprErrors(t *testing.T) {
	for _, c := range parseExprErrorCases {
		_, err := ParseExpr(c.in)
		checkSyntaxError(t, "ParseExpr", c.in, err, c.col, c.msg)
	}
}

func TestSyntaxErrorText(t *testing.T) {
	_, err := ParseExpr("(a or b")
	if got, want := err.Error(), `rich dependency "(a or b": column 8: missing ")"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	se := err.(*SyntaxError)
	if got, want := se.Caret(), "(a or b\n       ^"; got != want {
		t.Errorf("Caret() = %q, want %q", got, want)
	}

	_, err = ParseExpr("(a\tand b or c)")
	if got, want := err.(*SyntaxError).Caret(), "(a\tand b or c)\n  \t      ^"; got != want {
		t.Errorf("Caret() with a tab = %q, want %q", got, want)
	}

	multi := &SyntaxError{Input: "(αβ x)", Column: 5}
	if got, want := multi.Caret(), "(αβ x)\n  ^"; got != want {
		t.Errorf("Caret() inside a multi-byte character = %q, want %q", got, want)
	}

	_, err = ParseDep("foo >> 1")
	if got, want := err.Error(), `dependency "foo >> 1": column 5: bad comparison operator ">>"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestIsRich(t *testing.T) {
	for in, want := range map[string]bool{
		"(a or b)": true, "  (a": true, "a": false, "": false, " ": false, "a (b)": false,
	} {
		if got := IsRich(in); got != want {
			t.Errorf("IsRich(%q) = %v", in, got)
		}
	}
}

func TestExprDeps(t *testing.T) {
	e, err := ParseExpr("(a >= 1 or (b if c else d))")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range e.Deps() {
		names = append(names, d.String())
	}
	if got := strings.Join(names, "|"); got != "a >= 1|b|c|d" {
		t.Errorf("Deps() = %q", got)
	}
}

func TestRichOpString(t *testing.T) {
	want := map[RichOp]string{RichAnd: "and", RichOr: "or", RichIf: "if", RichUnless: "unless",
		RichWith: "with", RichWithout: "without", 0: "RichOp(0)", 42: "RichOp(42)"}
	for op, s := range want {
		if op.String() != s {
			t.Errorf("RichOp(%d).String() = %q, want %q", uint8(op), op.String(), s)
		}
	}
}
