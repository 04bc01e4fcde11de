package rpm

import (
	"fmt"
	"strings"
)

// RichOp is the operator of a rich dependency group.
type RichOp uint8

// The rich dependency operators. The zero RichOp marks a leaf.
const (
	RichAnd RichOp = iota + 1
	RichOr
	RichIf
	RichUnless
	RichWith
	RichWithout
)

var richOpNames = [...]string{
	RichAnd:     "and",
	RichOr:      "or",
	RichIf:      "if",
	RichUnless:  "unless",
	RichWith:    "with",
	RichWithout: "without",
}

// String gives the keyword of o.
func (o RichOp) String() string {
	if int(o) < len(richOpNames) && richOpNames[o] != "" {
		return richOpNames[o]
	}
	return fmt.Sprintf("RichOp(%d)", uint8(o))
}

// chains reports whether o may repeat at one level, as in (a or b or c).
func (o RichOp) chains() bool { return o == RichAnd || o == RichOr || o == RichWith }

// Expr is a dependency: a Leaf (Op 0) or a group Op applied to Args.
// And, Or and With have two or more Args; Without has two; If and Unless
// have [then, cond] or, with an else branch, [then, cond, else].
type Expr struct {
	Op   RichOp
	Args []*Expr
	Leaf *Dep
}

// maxDepth bounds the nesting of parentheses.
const maxDepth = 1000

// IsRich reports whether s is a rich dependency: whether it starts with '('
// after leading whitespace.
func IsRich(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) {
			return s[i] == '('
		}
	}
	return false
}

// ParseExpr parses a dependency: a simple one such as "foo >= 1" gives a
// leaf, a rich one such as "(a or (b and c >= 2))" gives a tree. It follows
// rpm's rpmrichParse: lowercase operators; and, or and with may chain but
// different operators never mix at one level; if and unless take an optional
// else and do not chain; operands of with and without may contain only
// leaves and or/with/without groups; commas count as whitespace inside the
// parentheses; whitespace around the whole input is ignored. Unlike rpm it
// rejects "else" without "if" or "unless", a name that is a comparison
// operator, a name or version with an unclosed '(', the version "-", and
// nesting deeper than 1000. Errors are *SyntaxError values.
func ParseExpr(s string) (*Expr, error) {
	p := &parser{s: s}
	p.skipSpace()
	if p.pos == len(s) || s[p.pos] != '(' {
		d, err := p.simple()
		if err != nil {
			return nil, err
		}
		return &Expr{Leaf: &d}, nil
	}
	e, _, err := p.group()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(s) {
		end := max(p.token(p.pos), p.pos+1)
		return nil, p.errAt(p.pos, "unexpected %q after the closing \")\"", s[p.pos:end])
	}
	return e, nil
}

// notWithSafe locates a group that may not appear inside with/without.
type notWithSafe struct {
	pos int // byte offset of its '(' or -1 for none
	op  RichOp
}

// group parses "(...)" at p.pos. It also returns the first group, itself or
// nested, whose operator is not allowed inside a with/without operand.
func (p *parser) group() (*Expr, notWithSafe, error) {
	none := notWithSafe{pos: -1}
	open := p.pos
	if p.depth++; p.depth > maxDepth {
		return nil, none, p.errAt(open, "parentheses nested deeper than %d", maxDepth)
	}
	defer func() { p.depth-- }()
	p.pos++

	var (
		args     []*Expr
		bad      = none // first offending group among the operands
		ops      []RichOp
		sawElse  bool
		lastWord string
	)
	for {
		// An operand.
		p.skipSeparators()
		switch {
		case p.pos == len(p.s) && len(ops) == 0:
			return nil, none, p.errAt(p.pos, "missing \")\"")
		case p.pos == len(p.s) || p.s[p.pos] == ')':
			if len(args) == 0 {
				return nil, none, p.errAt(p.pos, "empty rich dependency")
			}
			return nil, none, p.errAt(p.pos, "missing operand after %q", lastWord)
		case p.s[p.pos] == '(':
			sub, subBad, err := p.group()
			if err != nil {
				return nil, none, err
			}
			if bad.pos < 0 {
				bad = subBad
			}
			args = append(args, sub)
		default:
			d, err := p.leaf()
			if err != nil {
				return nil, none, err
			}
			args = append(args, &Expr{Leaf: &d})
		}

		// A ')' or an operator.
		p.skipSeparators()
		if p.pos == len(p.s) {
			return nil, none, p.errAt(p.pos, "missing \")\"")
		}
		if p.s[p.pos] == ')' {
			p.pos++
			break
		}
		start := p.pos
		for p.pos < len(p.s) && !isSpace(p.s[p.pos]) && p.s[p.pos] != ')' {
			p.pos++
		}
		word := p.s[start:p.pos]
		lastWord = word
		if word == "else" {
			if len(ops) != 1 || (ops[0] != RichIf && ops[0] != RichUnless) || sawElse {
				if sawElse {
					return nil, none, p.errAt(start, "\"else\" cannot be chained; use parentheses")
				}
				return nil, none, p.errAt(start, "\"else\" without \"if\" or \"unless\"")
			}
			sawElse = true
			continue
		}
		op, ok := parseRichOp(word)
		if !ok {
			switch {
			case badComparison(word) != "":
				return nil, none, p.errAt(start, "%s", badComparison(word))
			case isRichOpWord(strings.ToLower(word)):
				return nil, none, p.errAt(start, "unknown operator %q (operators are lowercase)", word)
			}
			return nil, none, p.errAt(start, "unknown operator %q", word)
		}
		if len(ops) > 0 {
			first := ops[0]
			switch {
			case op != first || sawElse:
				prev := first.String()
				if sawElse {
					prev = "else"
				}
				return nil, none, p.errAt(start, "cannot mix %q and %q without parentheses", prev, word)
			case !op.chains():
				return nil, none, p.errAt(start, "%q cannot be chained; use parentheses", word)
			}
		}
		ops = append(ops, op)
	}

	if len(args) == 1 {
		// "(a)" is the same as "a".
		return args[0], bad, nil
	}
	e := &Expr{Op: ops[0], Args: args}
	if (e.Op == RichWith || e.Op == RichWithout) && bad.pos >= 0 {
		return nil, none, p.errAt(bad.pos, "%q group not allowed inside %q", bad.op.String(), e.Op.String())
	}
	if bad.pos < 0 && e.Op != RichOr && e.Op != RichWith && e.Op != RichWithout {
		bad = notWithSafe{pos: open, op: e.Op}
	}
	return e, bad, nil
}

// leaf parses "name [op evr]" inside a rich dependency.
func (p *parser) leaf() (Dep, error) {
	var d Dep
	var err error
	if d.Name, err = p.name(); err != nil {
		return Dep{}, err
	}
	if err := p.leafOp(&d, true); err != nil {
		return Dep{}, err
	}
	return d, nil
}

func parseRichOp(word string) (RichOp, bool) {
	for op, name := range richOpNames {
		if name != "" && name == word {
			return RichOp(op), true
		}
	}
	return 0, false
}

func isRichOpWord(w string) bool {
	_, ok := parseRichOp(w)
	return ok || w == "else"
}

// String renders e as canonical text that ParseExpr parses back to an equal
// tree: single spaces, "name op evr" leaves, parentheses around every group.
func (e *Expr) String() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

func (e *Expr) write(b *strings.Builder) {
	switch {
	case e == nil:
		return
	case e.Op == 0:
		if e.Leaf != nil {
			b.WriteString(e.Leaf.String())
		}
		return
	}
	b.WriteByte('(')
	for i, a := range e.Args {
		if i > 0 {
			b.WriteByte(' ')
			if i == 2 && (e.Op == RichIf || e.Op == RichUnless) {
				b.WriteString("else")
			} else {
				b.WriteString(e.Op.String())
			}
			b.WriteByte(' ')
		}
		a.write(b)
	}
	b.WriteByte(')')
}

// Equal reports whether e and f are the same tree.
func (e *Expr) Equal(f *Expr) bool {
	if e == nil || f == nil {
		return e == f
	}
	if e.Op != f.Op || len(e.Args) != len(f.Args) || (e.Leaf == nil) != (f.Leaf == nil) {
		return false
	}
	if e.Leaf != nil && *e.Leaf != *f.Leaf {
		return false
	}
	for i := range e.Args {
		if !e.Args[i].Equal(f.Args[i]) {
			return false
		}
	}
	return true
}

// Deps returns the leaves of e from left to right.
func (e *Expr) Deps() []Dep {
	var out []Dep
	var walk func(*Expr)
	walk = func(x *Expr) {
		if x == nil {
			return
		}
		if x.Op == 0 {
			if x.Leaf != nil {
				out = append(out, *x.Leaf)
			}
			return
		}
		for _, a := range x.Args {
			walk(a)
		}
	}
	walk(e)
	return out
}
