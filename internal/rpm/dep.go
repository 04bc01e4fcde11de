package rpm

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Op is a version comparison as a set of the bits LT, GT and EQ, so that
// LE is LT|EQ and GE is GT|EQ. The zero Op means no version constraint.
type Op uint8

// The comparison bits.
const (
	LT Op = 1 << iota
	GT
	EQ
)

// The combined comparisons.
const (
	LE = LT | EQ
	GE = GT | EQ
)

// opMask holds the bits that mean something; rpm calls it the sense mask.
const opMask = LT | GT | EQ

// ParseOp parses a comparison operator as rpm does: "<", "<=", "=<", "=",
// "==", ">=", "=>" or ">".
func ParseOp(s string) (Op, error) {
	if op, ok := lookupOp(s); ok {
		return op, nil
	}
	return 0, fmt.Errorf("bad comparison operator %q (want <, <=, =, >= or >)", s)
}

func lookupOp(s string) (Op, bool) {
	switch s {
	case "<":
		return LT, true
	case "<=", "=<":
		return LE, true
	case "=", "==":
		return EQ, true
	case ">=", "=>":
		return GE, true
	case ">":
		return GT, true
	}
	return 0, false
}

// String gives the canonical spelling of o ("" for no constraint).
func (o Op) String() string {
	switch o {
	case 0:
		return ""
	case LT:
		return "<"
	case LE:
		return "<="
	case EQ:
		return "="
	case GE:
		return ">="
	case GT:
		return ">"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Dep is one simple capability with an optional version constraint, as in
// "name" or "name >= 1.2-3". With Op 0 the EVR is ignored.
type Dep struct {
	Name string
	Op   Op
	EVR  EVR
}

// String renders d as "name" or "name op evr".
func (d Dep) String() string {
	if d.Op == 0 {
		return d.Name
	}
	return d.Name + " " + d.Op.String() + " " + d.EVR.String()
}

// versioned reports whether d constrains the version at all.
func (d Dep) versioned() bool { return d.Op&opMask != 0 && !d.EVR.IsZero() }

// ParseDep parses one simple (non-rich) dependency, "name" or
// "name op evr", with the parts separated by whitespace. Errors are
// *SyntaxError values.
func ParseDep(s string) (Dep, error) {
	p := &parser{s: s}
	p.skipSpace()
	if p.pos < len(s) && s[p.pos] == '(' {
		return Dep{}, p.errAt(p.pos, "ParseDep takes a simple dependency; use ParseExpr for rich ones")
	}
	return p.simple()
}

// Satisfies reports whether the provide p satisfies the requirement r, with
// rpm's rules (rpmdsCompare and rpmverOverlap): the names must be equal and
// the version ranges must overlap. A side without a version matches any
// version; a missing epoch is 0; when only one side has a release, releases
// are not compared, and then an EQ on the side without a release matches.
// The test is symmetric: Satisfies(p, r) == Satisfies(r, p).
func Satisfies(p, r Dep) bool {
	if p.Name != r.Name {
		return false
	}
	if !p.versioned() || !r.versioned() {
		return true
	}
	return overlap(p.EVR, p.Op, r.EVR, r.Op)
}

// overlap reports whether the ranges (a fa) and (b fb) have a common point.
func overlap(a EVR, fa Op, b EVR, fb Op) bool {
	sense := 0
	switch {
	case a.Epoch != "" && b.Epoch != "":
		sense = Vercmp(a.Epoch, b.Epoch)
	case a.Epoch != "" && atolPositive(a.Epoch):
		sense = 1
	case b.Epoch != "" && atolPositive(b.Epoch):
		sense = -1
	}
	if sense == 0 {
		sense = Vercmp(a.Version, b.Version)
	}
	if sense == 0 {
		if a.Release != "" && b.Release != "" {
			sense = Vercmp(a.Release, b.Release)
		} else if a.Release != "" && fb&EQ != 0 || b.Release != "" && fa&EQ != 0 {
			// The side without a release includes every release.
			return true
		}
	}
	switch {
	case sense < 0:
		return fa&GT != 0 || fb&LT != 0
	case sense > 0:
		return fa&LT != 0 || fb&GT != 0
	}
	return fa&fb&opMask != 0
}

// atolPositive reports whether C's atol(s) would be greater than zero.
func atolPositive(s string) bool {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	if s != "" && (s[0] == '+' || s[0] == '-') {
		if s[0] == '-' {
			return false
		}
		s = s[1:]
	}
	for i := 0; i < len(s) && isDigit(s[i]); i++ {
		if s[i] != '0' {
			return true
		}
	}
	return false
}

// Constraint is one version condition on a capability.
type Constraint struct {
	Op  Op
	EVR EVR
}

// Capability is a name with any number of constraints that must all hold,
// such as foo >= 1.0 together with foo < 2.0.
type Capability struct {
	Name        string
	Constraints []Constraint
}

// Matches reports whether the provide p satisfies every constraint of c.
// A provide without a version satisfies them all, as in rpm.
func (c Capability) Matches(p Dep) bool {
	if p.Name != c.Name {
		return false
	}
	for _, k := range c.Constraints {
		if !Satisfies(p, Dep{Name: c.Name, Op: k.Op, EVR: k.EVR}) {
			return false
		}
	}
	return true
}

// String renders c as its constraints joined by ", ", or just the name.
func (c Capability) String() string {
	if len(c.Constraints) == 0 {
		return c.Name
	}
	parts := make([]string, len(c.Constraints))
	for i, k := range c.Constraints {
		parts[i] = Dep{Name: c.Name, Op: k.Op, EVR: k.EVR}.String()
	}
	return strings.Join(parts, ", ")
}

// SyntaxError is a dependency that does not parse. Column is the 1-based
// byte column of the problem in Input (len(Input)+1 for its end).
type SyntaxError struct {
	Input  string
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	kind := "dependency"
	if IsRich(e.Input) {
		kind = "rich dependency"
	}
	return fmt.Sprintf("%s %q: column %d: %s", kind, e.Input, e.Column, e.Msg)
}

// Caret returns the input and, on the line below, a '^' under Column.
// It assumes a single-line input of single-width characters.
func (e *SyntaxError) Caret() string {
	var b strings.Builder
	b.WriteString(e.Input)
	b.WriteByte('\n')
	end := min(max(e.Column-1, 0), len(e.Input))
	// A column inside a multi-byte character points at that character.
	for end > 0 && end < len(e.Input) && !utf8.RuneStart(e.Input[end]) {
		end--
	}
	for _, r := range e.Input[:end] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte('^')
	return b.String()
}

// parser holds the state shared by the simple and rich dependency parsers.
type parser struct {
	s     string
	pos   int
	depth int
}

func (p *parser) errAt(pos int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Input: p.s, Column: pos + 1, Msg: fmt.Sprintf(format, args...)}
}

// isSpace is C's isspace in the "C" locale, which rpm uses.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

// skipSeparators skips whitespace and commas, as rpm does inside rich deps.
func (p *parser) skipSeparators() {
	for p.pos < len(p.s) && (isSpace(p.s[p.pos]) || p.s[p.pos] == ',') {
		p.pos++
	}
}

// token returns the end of the name or version token starting at i: it ends
// at whitespace, a comma, or a ')' that does not close a '(' of the token
// (so "pkgconfig(foo)" is one token).
func (p *parser) token(i int) int {
	depth := 0
	for ; i < len(p.s); i++ {
		c := p.s[i]
		if isSpace(c) || c == ',' || c == ')' && depth == 0 {
			break
		}
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		}
	}
	return i
}

// unclosed returns the offset of the first '(' in s[start:end] that is not
// closed there, or -1. rpm accepts such tokens ("foo(" ends at a space), but
// they cannot be printed back unambiguously: "(a or foo( )" would become
// "(a or foo()".
func (p *parser) unclosed(start, end int) int {
	var open []int
	for i := start; i < end; i++ {
		switch p.s[i] {
		case '(':
			open = append(open, i)
		case ')':
			open = open[:len(open)-1] // token never ends a ')' at depth 0
		}
	}
	if len(open) == 0 {
		return -1
	}
	return open[0]
}

// cmpChars are the characters comparison operators are made of.
const cmpChars = "<>=!"

// badComparison explains a token that starts like a comparison operator but
// is not a valid one, or returns "" when tok does not look like one.
func badComparison(tok string) string {
	n := 0
	for n < len(tok) && strings.IndexByte(cmpChars, tok[n]) >= 0 {
		n++
	}
	switch {
	case n == 0:
		return ""
	case n == len(tok):
		return fmt.Sprintf("bad comparison operator %q", tok)
	}
	if _, ok := lookupOp(tok[:n]); ok {
		return fmt.Sprintf("missing space between %q and %q", tok[:n], tok[n:])
	}
	return fmt.Sprintf("bad comparison operator %q", tok[:n])
}

// leafOp parses the optional "op evr" after a name ending at p.pos. If the
// next token is not a comparison, p.pos is left after the name.
func (p *parser) leafOp(d *Dep, separators bool) error {
	nameEnd := p.pos
	p.skipSpace()
	if separators {
		p.skipSeparators()
	}
	start := p.pos
	end := p.token(start)
	tok := p.s[start:end]
	op, ok := lookupOp(tok)
	if !ok {
		if msg := badComparison(tok); msg != "" {
			return p.errAt(start, "%s", msg)
		}
		p.pos = nameEnd
		return nil
	}
	p.pos = end
	p.skipSpace()
	if separators {
		p.skipSeparators()
	}
	vstart := p.pos
	vend := p.token(vstart)
	if vend == vstart {
		return p.errAt(vstart, "missing version after %q", tok)
	}
	if i := p.unclosed(vstart, vend); i >= 0 {
		return p.errAt(i, "unbalanced \"(\" in version %q", p.s[vstart:vend])
	}
	evr := ParseEVR(p.s[vstart:vend])
	if evr.IsZero() {
		return p.errAt(vstart, "empty version %q", p.s[vstart:vend])
	}
	d.Op, d.EVR = op, evr
	p.pos = vend
	return nil
}

// name parses the name token at p.pos.
func (p *parser) name() (string, error) {
	start := p.pos
	end := p.token(start)
	if end == start {
		return "", p.errAt(start, "missing dependency name")
	}
	name := p.s[start:end]
	if i := p.unclosed(start, end); i >= 0 {
		return "", p.errAt(i, "unbalanced \"(\" in name %q", name)
	}
	if _, ok := lookupOp(name); ok {
		return "", p.errAt(start, "missing name before %q", name)
	}
	p.pos = end
	return name, nil
}

// simple parses a whole input that is one simple dependency.
func (p *parser) simple() (Dep, error) {
	p.skipSpace()
	if p.pos == len(p.s) {
		return Dep{}, p.errAt(p.pos, "empty dependency")
	}
	if c := p.s[p.pos]; c == ')' || c == ',' {
		return Dep{}, p.errAt(p.pos, "unexpected %q", string(c))
	}
	var d Dep
	var err error
	if d.Name, err = p.name(); err != nil {
		return Dep{}, err
	}
	if err := p.leafOp(&d, false); err != nil {
		return Dep{}, err
	}
	p.skipSpace()
	if p.pos == len(p.s) {
		return d, nil
	}
	end := p.token(p.pos)
	switch {
	case end == p.pos: // a ')' or ','
		return Dep{}, p.errAt(p.pos, "unexpected %q", p.s[p.pos:p.pos+1])
	case d.Op == 0:
		return Dep{}, p.errAt(p.pos, "expected a comparison operator, got %q", p.s[p.pos:end])
	}
	return Dep{}, p.errAt(p.pos, "unexpected %q after dependency", p.s[p.pos:end])
}
