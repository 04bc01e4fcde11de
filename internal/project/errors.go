package project

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"slipway/internal/textutil"
)

// Error is one problem found in a config file.
type Error struct {
	File   string
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based; 0 when unknown
	Key    string // full dotted key the problem is about; "" when unknown
	Msg    string // the problem, without the position
}

// Error returns "file:line:column: msg", leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// decodeError turns an error of the TOML decoder into *Errors.
func decodeError(file string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		errs := make([]error, 0, len(strict.Errors))
		for _, e := range strict.Errors {
			line, col := e.Position()
			errs = append(errs, unknownKey(file, line, col, e.Key()))
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		key := "" // de.Key() is partial for syntax errors: leave it out
		if strings.HasPrefix(msg, "cannot ") && len(de.Key()) > 0 {
			key = joinKey(de.Key())
			if m := mismatchRE.FindStringSubmatch(msg); m != nil && describeType(m[2]) != "" {
				msg = fmt.Sprintf("expected %s, got TOML %s", describeType(m[2]), m[1])
			}
			msg = key + ": " + msg
		}
		return &Error{File: file, Line: line, Column: col, Key: key, Msg: msg}
	}
	return &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

// mismatchRE matches the decoder's type mismatch messages.
var mismatchRE = regexp.MustCompile(`^cannot decode TOML (.+?) into (?:struct field \S+ of type )?(\S+)$`)

// describeType names a Go type of the config schema the way a user of the
// TOML file thinks of it; "" for a type it does not know.
func describeType(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "int":
		return "an integer"
	case "bool":
		return "a boolean"
	case "[]string":
		return "an array of strings"
	case "map[string]string":
		return "a table of strings"
	}
	if configSchema.tables[goType] {
		return "a table"
	}
	return ""
}

// unknownKey reports key, which names no field, with the nearest known
// field as a suggestion.
func unknownKey(file string, line, col int, key []string) *Error {
	bad, hint := configSchema.unknownPart(key)
	if bad >= 0 {
		key = key[:bad+1]
	}
	name := joinKey(key)
	msg := fmt.Sprintf("unknown key %q", name)
	if hint != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", hint)
	}
	return &Error{File: file, Line: line, Column: col, Key: name, Msg: msg}
}

// joinKey writes a key path the way TOML does, quoting parts that are not
// bare keys.
func joinKey(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		if isBareKey(p) {
			b.WriteString(p)
		} else {
			b.WriteString(strconv.Quote(p))
		}
	}
	return b.String()
}

func isBareKey(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// schema describes the keys a Config accepts.
type schema struct {
	names  []string           // a table's keys, in declaration order
	fields map[string]*schema // a table's keys; nil for other values
	elem   *schema            // a map's values; nil for other values
	tables map[string]bool    // shared by all nodes: Go names of the struct types
}

var configSchema = newSchema(reflect.TypeFor[Config](), map[string]bool{})

func newSchema(t reflect.Type, tables map[string]bool) *schema {
	s := &schema{tables: tables}
	switch t.Kind() {
	case reflect.Struct:
		tables[t.String()] = true
		s.fields = map[string]*schema{}
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			s.names = append(s.names, name)
			s.fields[name] = newSchema(f.Type, tables)
		}
	case reflect.Map:
		s.elem = newSchema(t.Elem(), tables)
	}
	return s
}

// unknownPart returns the index of the first part of key that is not a
// known key, with the known key closest to it ("" if none is close);
// -1 when key is known or goes below a value that is not a table.
func (s *schema) unknownPart(key []string) (int, string) {
	for i, part := range key {
		switch {
		case s.fields != nil:
			next, ok := s.fields[part]
			if !ok {
				return i, closest(part, s.names)
			}
			s = next
		case s.elem != nil:
			s = s.elem
		default:
			return -1, ""
		}
	}
	return -1, ""
}

// closest returns the candidate that equals s but for case, else the one
// nearest to s within edit distance 2, else "".
func closest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if strings.EqualFold(s, c) {
			return c
		}
		if d := textutil.EditDistance(s, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
