package project

import (
	"fmt"
	"slices"
	"sort"

	"github.com/pelletier/go-toml/v2/unstable"
)

// ref names a key of the config, an element of an array value, or a key
// in an element of an array of tables ([[remote.repos]]).
type ref struct {
	parts []string
	elem  int      // index into the array at parts; -1 for the key itself
	sub   []string // with elem: a key inside that element (a table)
}

// key returns a ref to the key made of parts.
func key(parts ...string) ref { return ref{parts: parts, elem: -1} }

// at returns a ref to element i of the array at r.
func (r ref) at(i int) ref { return ref{parts: r.parts, elem: i} }

// field returns a ref to key sub of r, an element of an array of tables.
func (r ref) field(sub ...string) ref { return ref{parts: r.parts, elem: r.elem, sub: sub} }

// child returns a ref to key name in the table r names.
func (r ref) child(name string) ref {
	if r.elem >= 0 {
		return r.field(append(slices.Clone(r.sub), name)...)
	}
	return key(append(slices.Clone(r.parts), name)...)
}

func (r ref) String() string {
	if r.elem < 0 {
		return joinKey(r.parts)
	}
	s := fmt.Sprintf("%s[%d]", joinKey(r.parts), r.elem)
	if len(r.sub) > 0 {
		s += "." + joinKey(r.sub)
	}
	return s
}

// keyLines maps the keys of a document (as ref.String writes them) to the
// line where each first appears.
type keyLines map[string]int

// line returns the line of r, else of the nearest enclosing key found in
// the document, else 0.
func (k keyLines) line(r ref) int {
	if l, ok := k[r.String()]; ok {
		return l
	}
	if len(r.sub) > 0 {
		if l, ok := k[r.at(r.elem).String()]; ok {
			return l
		}
	}
	for n := len(r.parts); n > 0; n-- {
		if l, ok := k[joinKey(r.parts[:n])]; ok {
			return l
		}
	}
	return 0
}

// errorf returns the *Error "file:line: key: msg" for a problem with r.
func (k keyLines) errorf(file string, r ref, format string, args ...any) *Error {
	name := r.String()
	return &Error{
		File: file,
		Line: k.line(r),
		Key:  name,
		Msg:  name + ": " + fmt.Sprintf(format, args...),
	}
}

// scanKeys records the line of every key of a document the decoder has
// accepted, and reports the keys it accepted only by ignoring case.
func scanKeys(file string, data []byte) (keyLines, []error) {
	s := scanner{file: file, lines: keyLines{}}
	for i, c := range data {
		if c == '\n' {
			s.starts = append(s.starts, i+1)
		}
	}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	elements := map[string]int{} // array of tables -> elements so far
	var array []string           // the array of tables of the last [[...]]
	var element ref              // and its element
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.ArrayTable:
			table = s.key(nil, e.Key())
			array = table
			element = key(table...).at(elements[joinKey(table)])
			elements[joinKey(table)]++
			s.record(element.String(), s.keyLine)
			s.inElement = element
		case unstable.Table:
			table = s.key(nil, e.Key())
			s.inElement = ref{}
			if len(array) > 0 && len(table) > len(array) && slices.Equal(table[:len(array)], array) {
				s.inElement = element.field(table[len(array):]...)
				s.record(s.inElement.String(), s.keyLine)
			}
		case unstable.KeyValue:
			s.keyValue(table, e)
		}
	}
	return s.lines, s.errs
}

type scanner struct {
	file   string
	starts []int // offsets where lines 2, 3, ... start
	lines  keyLines
	errs   []error
	// keyLine is the line of the last key part read; inElement is the
	// element of an array of tables the current table is (in), if any.
	keyLine   int
	inElement ref
}

// position returns the 1-based line and column of a byte offset.
func (s *scanner) position(offset uint32) (line, col int) {
	off := int(offset)
	n := sort.SearchInts(s.starts, off+1) // lines starting at or before off
	start := 0
	if n > 0 {
		start = s.starts[n-1]
	}
	return n + 1, off - start + 1
}

func (s *scanner) record(k string, line int) {
	if _, ok := s.lines[k]; !ok {
		s.lines[k] = line
	}
}

func (s *scanner) keyValue(table []string, kv *unstable.Node) {
	k := s.key(table, kv.Key())
	if s.inElement.parts != nil {
		e := s.inElement
		s.record(e.field(append(slices.Clone(e.sub), k[len(table):]...)...).String(), s.keyLine)
	}
	v := kv.Value()
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			s.keyValue(k, it.Node())
		}
	case unstable.Array:
		it := v.Children()
		for i := 0; it.Next(); i++ {
			if n := it.Node(); n.Raw.Length > 0 {
				line, _ := s.position(n.Raw.Offset)
				s.record(key(k...).at(i).String(), line)
			}
		}
	}
}

// key records the key made of prefix and the parts it iterates over, and
// checks its parts after prefix against the schema. It returns the key.
func (s *scanner) key(prefix []string, parts unstable.Iterator) []string {
	k := slices.Clone(prefix)
	var lines, cols []int
	for parts.Next() {
		n := parts.Node()
		k = append(k, string(n.Data))
		line, col := s.position(n.Raw.Offset)
		lines, cols = append(lines, line), append(cols, col)
		s.record(joinKey(k), line)
		s.keyLine = line
	}
	if bad, _ := configSchema.unknownPart(k); bad >= len(prefix) {
		i := bad - len(prefix)
		s.errs = append(s.errs, unknownKey(s.file, lines[i], cols[i], k))
	}
	return k
}
