package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"slipway/internal/textutil"
)

// DecodeError is a problem found reading a config or package list: the
// file, the position (1-based line and column, in bytes) and the JSON path
// of the value.
type DecodeError struct {
	File      string
	Line, Col int
	Path      string // e.g. SystemConfigs[0].Users[1].Name; empty for the document
	Msg       string
}

func (e *DecodeError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Path, e.Msg)
}

// maxDecodeErrors bounds how many problems one file reports.
const maxDecodeErrors = 50

// decodeStrict decodes data into v (a pointer to one of this package's
// types), walking the JSON tokens itself so that every problem knows its
// JSON path and position: unknown fields (matched like encoding/json,
// case-insensitively), duplicate fields, values of the wrong type, numbers
// out of range, trailing data, syntax errors. Values that are wrong are
// skipped and the walk goes on, so all such problems are reported at
// once; a syntax error ends it. commentKeys allows object keys starting
// with "_" (package lists' "_comment").
func decodeStrict(name string, data []byte, v any, commentKeys bool) error {
	d := &decoder{name: name, data: data, dec: json.NewDecoder(bytes.NewReader(data)), commentKeys: commentKeys}
	d.dec.UseNumber()
	tok, start, err := d.next()
	if err == io.EOF {
		err = d.problem(0, "", "empty file: expected a JSON object")
	} else if err == nil {
		err = d.value(tok, start, reflect.ValueOf(v).Elem(), "")
		if err == nil {
			if _, start, err2 := d.next(); err2 != io.EOF {
				if err2 == nil {
					d.problem(start, "", "unexpected data after the top-level object")
				} else {
					err = err2
				}
			}
		}
	}
	if err != nil && !errors.Is(err, errTooMany) {
		d.errs = append(d.errs, d.syntaxError(err))
	}
	return errors.Join(d.errs...)
}

type decoder struct {
	name        string
	data        []byte
	dec         *json.Decoder
	commentKeys bool
	errs        []error
}

var errTooMany = errors.New("too many problems")

// next reads a token and returns it with the offset where it starts.
func (d *decoder) next() (json.Token, int64, error) {
	start := d.dec.InputOffset()
	for start < int64(len(d.data)) {
		c := d.data[start]
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ',' && c != ':' {
			break
		}
		start++
	}
	tok, err := d.dec.Token()
	return tok, start, err
}

func (d *decoder) problem(offset int64, path, format string, args ...any) error {
	line, col := position(d.data, offset)
	d.errs = append(d.errs, &DecodeError{File: d.name, Line: line, Col: col, Path: path, Msg: fmt.Sprintf(format, args...)})
	if len(d.errs) >= maxDecodeErrors {
		return errTooMany
	}
	return nil
}

// syntaxError turns an error of the JSON tokenizer into a DecodeError.
func (d *decoder) syntaxError(err error) error {
	offset := int64(len(d.data))
	var se *json.SyntaxError
	if errors.As(err, &se) {
		offset = syntaxOffset(d.data, se)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		msg = "unexpected end of file"
	}
	line, col := position(d.data, offset)
	return &DecodeError{File: d.name, Line: line, Col: col, Msg: "invalid JSON: " + msg}
}

// syntaxOffset finds the offending byte of a syntax error. The decoder's
// Offset is just after it when the scanner found it inside a value, and
// before it (and maybe before white space) when Token found it between
// values.
func syntaxOffset(data []byte, se *json.SyntaxError) int64 {
	o := min(max(se.Offset, 0), int64(len(data)))
	if o > 0 {
		c := data[o-1]
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' && strings.Contains(se.Error(), strconv.QuoteRune(rune(c))) {
			return o - 1
		}
	}
	for o < int64(len(data)) && (data[o] == ' ' || data[o] == '\t' || data[o] == '\n' || data[o] == '\r') {
		o++
	}
	return o
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

var fileTargetsType = reflect.TypeFor[FileTargets]()

// value decodes the value that starts with tok (at offset start) into v.
func (d *decoder) value(tok json.Token, start int64, v reflect.Value, path string) error {
	if tok == nil { // null: leave the zero value, as encoding/json does
		return nil
	}
	t := v.Type()
	if t == fileTargetsType {
		return d.fileTargets(tok, start, v, path)
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := reflect.New(t.Elem())
		if err := d.value(tok, start, elem.Elem(), path); err != nil {
			return err
		}
		v.Set(elem)
		return nil
	case reflect.Struct:
		if tok != json.Delim('{') {
			return d.mismatch(tok, start, path, "an object")
		}
		return d.object(v, path)
	case reflect.Slice:
		if tok != json.Delim('[') {
			return d.mismatch(tok, start, path, "a list")
		}
		for i := 0; d.dec.More(); i++ {
			tok, start, err := d.next()
			if err != nil {
				return err
			}
			elem := reflect.New(t.Elem()).Elem()
			if err := d.value(tok, start, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
			v.Set(reflect.Append(v, elem))
		}
		_, _, err := d.next() // ]
		return err
	case reflect.Map:
		if tok != json.Delim('{') {
			return d.mismatch(tok, start, path, "an object")
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
		for d.dec.More() {
			ktok, kstart, err := d.next()
			if err != nil {
				return err
			}
			key, _ := ktok.(string)
			kpath := keyPath(path, key)
			vtok, vstart, err := d.next()
			if err != nil {
				return err
			}
			if v.MapIndex(reflect.ValueOf(key)).IsValid() {
				if err := d.problem(kstart, kpath, "duplicate key"); err != nil {
					return err
				}
			}
			elem := reflect.New(t.Elem()).Elem()
			if err := d.value(vtok, vstart, elem, kpath); err != nil {
				return err
			}
			v.SetMapIndex(reflect.ValueOf(key), elem)
		}
		_, _, err := d.next() // }
		return err
	case reflect.String:
		s, ok := tok.(string)
		if !ok {
			return d.mismatch(tok, start, path, "a string")
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := tok.(bool)
		if !ok {
			return d.mismatch(tok, start, path, "true or false")
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := tok.(json.Number)
		if !ok {
			return d.mismatch(tok, start, path, "a whole number")
		}
		i, err := strconv.ParseInt(string(n), 10, t.Bits())
		if err != nil {
			return d.problem(start, path, "%s is not a whole number from %d to %d", n, int64(-1)<<(t.Bits()-1), int64(1)<<(t.Bits()-1)-1)
		}
		v.SetInt(i)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := tok.(json.Number)
		if !ok {
			return d.mismatch(tok, start, path, "a whole number")
		}
		u, err := strconv.ParseUint(string(n), 10, t.Bits())
		if err != nil {
			return d.problem(start, path, "%s is not a whole number from 0 to %d", n, ^uint64(0)>>(64-t.Bits()))
		}
		v.SetUint(u)
		return nil
	}
	return fmt.Errorf("image: cannot decode into %s", t) // a bug in this package's types
}

// object decodes the members of an object (after its '{') into struct v.
func (d *decoder) object(v reflect.Value, path string) error {
	t := v.Type()
	seen := map[int]bool{}
	for d.dec.More() {
		ktok, kstart, err := d.next()
		if err != nil {
			return err
		}
		key, _ := ktok.(string)
		field, name := fieldFor(t, key)
		vtok, vstart, err := d.next()
		if err != nil {
			return err
		}
		switch {
		case field < 0 && d.commentKeys && strings.HasPrefix(key, "_"):
			err = d.skip(vtok)
		case field < 0:
			msg := "unknown field"
			if near := nearestField(t, key); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			if err = d.problem(kstart, keyPath(path, key), "%s", msg); err == nil {
				err = d.skip(vtok)
			}
		default:
			fpath := keyPath(path, name)
			if seen[field] {
				err = d.problem(kstart, fpath, "duplicate field")
			}
			seen[field] = true
			if err == nil {
				err = d.value(vtok, vstart, v.Field(field), fpath)
			}
		}
		if err != nil {
			return err
		}
	}
	_, _, err := d.next() // }
	return err
}

// fileTargets decodes an AdditionalFiles value: a path, an object, or a
// list of paths and objects.
func (d *decoder) fileTargets(tok json.Token, start int64, v reflect.Value, path string) error {
	one := func(tok json.Token, start int64, path string) (FileTarget, error) {
		var ft FileTarget
		if s, ok := tok.(string); ok {
			ft.Path = s
			return ft, nil
		}
		if tok != json.Delim('{') {
			return ft, d.mismatch(tok, start, path, `a destination path or {"Path", "Permissions"}`)
		}
		return ft, d.object(reflect.ValueOf(&ft).Elem(), path)
	}
	var list FileTargets
	if tok == json.Delim('[') {
		for i := 0; d.dec.More(); i++ {
			tok, start, err := d.next()
			if err != nil {
				return err
			}
			ft, err := one(tok, start, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return err
			}
			list = append(list, ft)
		}
		if _, _, err := d.next(); err != nil { // ]
			return err
		}
	} else {
		ft, err := one(tok, start, path)
		if err != nil {
			return err
		}
		list = FileTargets{ft}
	}
	v.Set(reflect.ValueOf(list))
	return nil
}

// mismatch reports a value of the wrong type and skips it.
func (d *decoder) mismatch(tok json.Token, start int64, path, want string) error {
	if err := d.problem(start, path, "expected %s, found %s", want, describe(tok)); err != nil {
		return err
	}
	return d.skip(tok)
}

// skip consumes the rest of the value that starts with tok.
func (d *decoder) skip(tok json.Token) error {
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, _, err := d.next()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

func describe(tok json.Token) string {
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '{' {
			return "an object"
		}
		return "a list"
	case string:
		return strconv.Quote(tok)
	case json.Number:
		return "the number " + string(tok)
	case bool:
		return strconv.FormatBool(tok)
	}
	return "null"
}

// keyPath appends an object key to a JSON path.
func keyPath(path, key string) string {
	plain := key != ""
	for _, c := range key {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			plain = false
			break
		}
	}
	switch {
	case !plain:
		return path + "[" + strconv.Quote(key) + "]"
	case path == "":
		return key
	}
	return path + "." + key
}

// fieldFor finds the struct field a JSON key names, as encoding/json
// does: the exact name, else a case-insensitive match. It returns the
// field index and its JSON name, or -1.
func fieldFor(t reflect.Type, key string) (int, string) {
	fold := -1
	for i := range t.NumField() {
		name := jsonName(t.Field(i))
		if name == "" {
			continue
		}
		if name == key {
			return i, name
		}
		if fold < 0 && strings.EqualFold(name, key) {
			fold = i
		}
	}
	if fold < 0 {
		return -1, ""
	}
	return fold, jsonName(t.Field(fold))
}

func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// nearestField suggests the field a misspelt key probably meant.
func nearestField(t reflect.Type, key string) string {
	best, bestDist := "", 4
	for i := range t.NumField() {
		name := jsonName(t.Field(i))
		if name == "" {
			continue
		}
		if dist := textutil.EditDistance(strings.ToLower(key), strings.ToLower(name)); dist < bestDist && dist < len(name) {
			best, bestDist = name, dist
		}
	}
	return best
}
