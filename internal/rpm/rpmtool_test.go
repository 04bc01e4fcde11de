package rpm

// Tool-backed tests: they ask the installed rpm (its Lua, its Python
// bindings, and librpm through ctypes) and compare with this package. Each
// asks rpm once, in one process, about every case.

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"slipway/internal/testutil"
)

// runTool runs argv and returns its stdout, failing the test on error.
func runTool(t *testing.T, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv[:min(len(argv), 2)], " "), err, stderr.String())
	}
	return stdout.String()
}

func writeLines(t *testing.T, name string, lines []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// randVersion makes a version string from digits, letters, '.', '~', '^',
// '_' and '+', weighted towards digits so that segments often line up.
func randVersion(r *rand.Rand) string {
	const (
		digits  = "0123456789"
		letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	)
	n := 1 + r.IntN(10)
	b := make([]byte, n)
	for i := range b {
		switch k := r.IntN(100); {
		case k < 40:
			b[i] = digits[r.IntN(3+r.IntN(8))] // mostly small digits, some zeros
		case k < 62:
			b[i] = letters[r.IntN(4+r.IntN(len(letters)-4))]
		case k < 78:
			b[i] = '.'
		case k < 86:
			b[i] = '~'
		case k < 94:
			b[i] = '^'
		case k < 97:
			b[i] = '_'
		default:
			b[i] = '+'
		}
	}
	return string(b)
}

// TestVercmpAgainstRPM compares Vercmp with rpm.vercmp for every ordered pair
// of a few hundred random versions and rpm's own test cases, and CompareEVR
// with rpm.vercmp on full EVRs (rpm 4.18's rpm.vercmp parses "E:V-R").
func TestVercmpAgainstRPM(t *testing.T) {
	testutil.RequireTools(t, "rpm")
	r := rand.New(rand.NewPCG(1, 2))
	var versions []string
	seen := map[string]bool{}
	for len(versions) < 300 {
		if v := randVersion(r); !seen[v] {
			seen[v] = true
			versions = append(versions, v)
		}
	}
	type pair struct {
		a, b string
		evr  bool // compare as EVRs
	}
	var pairs []pair
	for _, a := range versions {
		for _, b := range versions {
			pairs = append(pairs, pair{a, b, false})
		}
	}
	for _, c := range vercmpCases {
		// rpm.vercmp rejects "" and reads ':' and '-' as EVR separators.
		if c.a != "" && c.b != "" && !strings.ContainsAny(c.a+c.b, ":-\x00") {
			pairs = append(pairs, pair{c.a, c.b, false}, pair{c.b, c.a, false})
		}
	}
	randEVR := func() string {
		s := ""
		if r.IntN(3) == 0 {
			s = strconv.Itoa(r.IntN(3)) + ":"
		}
		s += versions[r.IntN(20)]
		if r.IntN(3) > 0 {
			s += "-" + versions[r.IntN(20)]
		}
		return s
	}
	for range 3000 {
		pairs = append(pairs, pair{randEVR(), randEVR(), true})
	}

	lines := make([]string, len(pairs))
	for i, p := range pairs {
		lines[i] = p.a + "\t" + p.b
	}
	path := writeLines(t, "pairs", lines)
	lua := fmt.Sprintf(`%%{lua:
local out = {}
for line in io.lines(%q) do
  local a, b = line:match("^([^\t]*)\t([^\t]*)$")
  out[#out + 1] = tostring(rpm.vercmp(a, b))
end
print(table.concat(out, "\n"))
}`, path)
	got := strings.Fields(runTool(t, "rpm", "--eval", lua))
	if len(got) != len(pairs) {
		t.Fatalf("rpm gave %d results for %d pairs", len(got), len(pairs))
	}
	bad := 0
	for i, p := range pairs {
		want, err := strconv.Atoi(got[i])
		if err != nil {
			t.Fatalf("rpm result %q: %v", got[i], err)
		}
		var mine int
		if p.evr {
			mine = CompareEVR(ParseEVR(p.a), ParseEVR(p.b))
		} else {
			mine = Vercmp(p.a, p.b)
		}
		if mine != want {
			if bad++; bad <= 20 {
				t.Errorf("compare(%q, %q) evr=%v: got %d, rpm says %d", p.a, p.b, p.evr, mine, want)
			}
		}
	}
	t.Logf("%d pairs compared with rpm, %d differ", len(pairs), bad)
}

// rpmPython returns a Python interpreter that can import rpm's bindings
// (Debian's python3-rpm, which dnf pulls in), trying /usr/bin/python3 when
// the python3 in PATH cannot.
func rpmPython(t *testing.T) string {
	t.Helper()
	testutil.RequireTools(t, "python3")
	candidates := []string{"python3", "/usr/bin/python3"}
	for _, p := range candidates {
		if exec.Command(p, "-c", "import rpm, ctypes").Run() == nil {
			return p
		}
	}
	if os.Getenv("SLIPWAY_REQUIRE_TOOLS") != "" {
		t.Fatal("python3-rpm is required (SLIPWAY_REQUIRE_TOOLS is set) but no python3 can import rpm")
	}
	t.Skip("no python3 with rpm's bindings (python3-rpm)")
	return ""
}

const satisfiesPy = `
import sys, rpm
for line in open(sys.argv[1]):
    pf, pe, rf, re = line.rstrip("\n").split("\t")
    p = rpm.ds(("foo", int(pf), pe), rpm.RPMTAG_PROVIDENAME)
    r = rpm.ds(("foo", int(rf), re), rpm.RPMTAG_REQUIRENAME)
    print(1 if p.Compare(r) else 0)
`

// rpmSense converts an Op to rpm's RPMSENSE_* bits.
func rpmSense(o Op) int {
	s := 0
	if o&LT != 0 {
		s |= 2
	}
	if o&GT != 0 {
		s |= 4
	}
	if o&EQ != 0 {
		s |= 8
	}
	return s
}

// TestSatisfiesAgainstRPM compares Satisfies with rpmdsCompare (through
// rpm's Python bindings) on the hand-made cases and random pairs.
func TestSatisfiesAgainstRPM(t *testing.T) {
	py := rpmPython(t)
	var pairs [][2]Dep
	for _, c := range satisfiesCases {
		p, _ := ParseDep(c.p)
		q, _ := ParseDep(c.r)
		if p.Name == q.Name {
			pairs = append(pairs, [2]Dep{p, q})
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	ops := []Op{0, LT, LE, EQ, GE, GT}
	epochs := []string{"", "", "0", "1", "2"}
	versions := []string{"1", "1.0", "1.0~rc1", "1.0^git1", "1.01", "2", "2.0", "10"}
	releases := []string{"", "", "1", "2", "1.fc40", "1~", "10"}
	randDep := func() Dep {
		evr := EVR{epochs[r.IntN(len(epochs))], versions[r.IntN(len(versions))], releases[r.IntN(len(releases))]}
		return Dep{Name: "foo", Op: ops[r.IntN(len(ops))], EVR: evr}
	}
	for range 1500 {
		pairs = append(pairs, [2]Dep{randDep(), randDep()})
	}
	lines := make([]string, len(pairs))
	for i, p := range pairs {
		lines[i] = fmt.Sprintf("%d\t%s\t%d\t%s", rpmSense(p[0].Op), p[0].EVR, rpmSense(p[1].Op), p[1].EVR)
	}
	script := writeLines(t, "satisfies.py", []string{satisfiesPy})
	got := strings.Fields(runTool(t, py, script, writeLines(t, "pairs", lines)))
	if len(got) != len(pairs) {
		t.Fatalf("rpm gave %d results for %d pairs", len(got), len(pairs))
	}
	bad := 0
	for i, p := range pairs {
		want := got[i] == "1"
		if mine := Satisfies(p[0], p[1]); mine != want {
			if bad++; bad <= 20 {
				t.Errorf("Satisfies(%q, %q) = %v, rpm says %v", p[0], p[1], mine, want)
			}
		}
	}
	t.Logf("%d pairs checked with rpmdsCompare, %d differ", len(pairs), bad)
}

// richPy parses each line with librpm's rpmrichParse and prints "ok" and the
// tree in the canonical form of Expr.String (with each EVR as rpm read it,
// between \x01 and \x02), or "err" and rpm's message.
const richPy = `
import sys, ctypes, ctypes.util
lib = ctypes.CDLL(ctypes.util.find_library("rpm") or "librpm.so.9")
CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                      ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32, ctypes.c_int, ctypes.c_void_p)
lib.rpmrichParse.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p), CB, ctypes.c_void_p]
OPS = {2: "and", 3: "or", 4: "if", 5: "else", 6: "with", 7: "without", 8: "unless"}
SENSE = {2: "<", 10: "<=", 8: "=", 12: ">=", 4: ">"}
for line in open(sys.argv[1], "rb"):
    s = line.rstrip(b"\n")
    stack, result = [], []
    def cb(data, typ, n, nl, e, el, sense, op, emsg):
        if typ == 2:
            stack.append(([], []))
        elif typ == 1:
            text = ctypes.string_at(n, nl).decode()
            if sense:
                text += " " + SENSE.get(sense, "?") + " \x01" + ctypes.string_at(e, el).decode() + "\x02"
            stack[-1][0].append(text)
        elif typ == 4:
            stack[-1][1].append(OPS[op])
        elif typ == 3:
            args, ops = stack.pop()
            text = args[0]
            if len(args) > 1:
                text = "(" + args[0] + "".join(" %s %s" % x for x in zip(ops, args[1:])) + ")"
            (stack[-1][0] if stack else result).append(text)
        return 0
    buf = ctypes.create_string_buffer(s)
    p = ctypes.c_char_p(ctypes.addressof(buf))
    emsg = ctypes.c_char_p()
    rc = lib.rpmrichParse(ctypes.byref(p), ctypes.byref(emsg), CB(cb), None)
    rest = s[ctypes.cast(p, ctypes.c_void_p).value - ctypes.addressof(buf):]
    if rc != 0:
        print("err\t" + emsg.value.decode())
    elif rest.strip():
        print("err\tjunk after rich dependency")
    else:
        print("ok\t" + result[0])
`

// randRich makes a rich dependency, often valid, sometimes mangled.
func randRich(r *rand.Rand) string {
	names := []string{"a", "b", "foo-devel", "pkgconfig(gtk+-3.0)", "perl(Foo::Bar)", "/usr/bin/sh", "or", "else"}
	cmps := []string{"<", "<=", "=<", "=", "==", ">=", "=>", ">"}
	evrs := []string{"1", "1.0-1", "2:3.4~rc1-5.fc40", "1^git2", "0:1"}
	var gen func(depth int) string
	gen = func(depth int) string {
		if depth > 3 || r.IntN(10) < 4 {
			s := names[r.IntN(len(names))]
			if r.IntN(2) == 0 {
				s += " " + cmps[r.IntN(len(cmps))] + " " + evrs[r.IntN(len(evrs))]
			}
			if r.IntN(8) == 0 {
				s = "(" + s + ")"
			}
			return s
		}
		op := []string{"and", "or", "if", "unless", "with", "without"}[r.IntN(6)]
		n := 2
		switch op {
		case "and", "or", "with":
			n += r.IntN(3)
		}
		var b strings.Builder
		b.WriteString("(")
		for i := range n {
			if i > 0 {
				b.WriteString(" " + op + " ")
			}
			b.WriteString(gen(depth + 1))
		}
		if (op == "if" || op == "unless") && r.IntN(2) == 0 {
			b.WriteString(" else " + gen(depth+1))
		}
		b.WriteString(")")
		return b.String()
	}
	s := gen(0)
	if !strings.HasPrefix(s, "(") {
		s = "(" + s + ")"
	}
	junk := []string{"(", ")", " and ", " or ", " else ", " if ", " with ", ",", " >= ", " >> ", "x", " ", "AND"}
	for range r.IntN(3) {
		i := 1 + r.IntN(len(s)-1)
		switch r.IntN(3) {
		case 0:
			s = s[:i] + s[i+1:]
		default:
			s = s[:i] + junk[r.IntN(len(junk))] + s[i:]
		}
	}
	return s
}

// TestParseExprAgainstRPM parses the hand-made rich cases and a few thousand
// random ones with librpm's rpmrichParse and with ParseExpr: both must
// accept and reject the same inputs (but for the documented deviations) and
// give the same tree.
func TestParseExprAgainstRPM(t *testing.T) {
	py := rpmPython(t)
	var inputs []string
	for _, s := range richInputs() {
		if strings.HasPrefix(s, "(") && !strings.ContainsAny(s, "\n") {
			inputs = append(inputs, s)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 4000 {
		inputs = append(inputs, randRich(r))
	}
	script := writeLines(t, "rich.py", []string{richPy})
	out := strings.Split(strings.TrimSuffix(runTool(t, py, script, writeLines(t, "exprs", inputs)), "\n"), "\n")
	if len(out) != len(inputs) {
		t.Fatalf("rpm gave %d results for %d inputs", len(out), len(inputs))
	}
	var accepted, rejected, deviations, bad int
	for i, in := range inputs {
		status, rpmText, _ := strings.Cut(out[i], "\t")
		rpmText = normalizeEVRs(rpmText)
		e, err := ParseExpr(in)
		switch {
		case status == "ok" && err == nil:
			accepted++
			if e.String() != rpmText {
				bad++
				t.Errorf("ParseExpr(%q) = %s, rpm parses %s", in, e, rpmText)
			}
		case status == "err" && err != nil:
			rejected++
		case status == "ok" && isKnownDeviation(err):
			deviations++
		default:
			bad++
			t.Errorf("ParseExpr(%q): error %v; rpm says %s %s", in, err, status, rpmText)
		}
		if bad > 20 {
			t.Fatal("too many differences")
		}
	}
	t.Logf("%d inputs: %d accepted and %d rejected by both, %d known deviations", len(inputs), accepted, rejected, deviations)
}

// normalizeEVRs replaces each "\x01evr\x02" by ParseEVR(evr).String().
func normalizeEVRs(s string) string {
	var b strings.Builder
	for {
		before, rest, ok := strings.Cut(s, "\x01")
		b.WriteString(before)
		if !ok {
			return b.String()
		}
		evr, after, _ := strings.Cut(rest, "\x02")
		b.WriteString(ParseEVR(evr).String())
		s = after
	}
}

// isKnownDeviation reports whether err is one of the inputs ParseExpr
// rejects on purpose although rpm's parser lets them through.
func isKnownDeviation(err error) bool {
	se, ok := err.(*SyntaxError)
	if !ok {
		return false
	}
	for _, prefix := range []string{
		`"else" without `, "missing name before ", "empty version ", "parentheses nested deeper ", `unbalanced "("`,
	} {
		if strings.HasPrefix(se.Msg, prefix) {
			return true
		}
	}
	return false
}

// richInputs gathers the rich inputs of the parser tests.
func richInputs() []string {
	out := []string{
		"(a or b)", "(a with (b or c))", "(a with (b and c))", "((a and b) with c)", "(a unless b)",
		"(a if b)", "(a else b)", "(a, b)", "(a)", "(a >= 1 or b)", "(a >> 1)", "(a or b) c",
		"(a if b else c)", "(a or b or c)", "(a with b with c)", "(pkgconfig(foo or b)", "(a => 1)",
		"(a with (b if c))", "(a without (b or c))", "((a))", "(a or else)", "(else or b)",
	}
	for _, c := range parseExprCases {
		out = append(out, c.in)
	}
	for _, c := range parseExprErrorCases {
		out = append(out, c.in)
	}
	return out
}
