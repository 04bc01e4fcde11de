// Package source gets a spec's sources: it reads and writes Azure Linux's
// <spec>.signatures.json, finds every Source file in the spec directory,
// the machine-wide content-addressed source cache, or on the configured
// source servers (and, when allowed, at the spec's own URL), verifies each
// against its SHA-256 signature, and packs source RPMs reproducibly.
package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"slipway/internal/fsutil"
	"slipway/internal/spec"
)

// SignaturesPath is the signatures file of a spec in specDir:
// <specDir>/<spec name>.signatures.json.
func SignaturesPath(info *spec.Info, specDir string) string {
	return filepath.Join(specDir, info.Name+".signatures.json")
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// signaturesFile is the JSON layout of a signatures file.
type signaturesFile struct {
	Signatures map[string]string `json:"Signatures"`
}

// ReadSignatures reads a signatures file: source file name -> SHA-256 in
// lowercase hex. Unknown keys and malformed hashes are errors naming the
// file.
func ReadSignatures(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f signaturesFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w (want {\"Signatures\": {\"<file>\": \"<sha256>\"}})", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: data after the JSON object", path)
	}
	if f.Signatures == nil {
		f.Signatures = map[string]string{}
	}
	for _, name := range slices.Sorted(maps.Keys(f.Signatures)) {
		if !sha256RE.MatchString(f.Signatures[name]) {
			return nil, fmt.Errorf("%s: %s: %q is not a SHA-256 (64 lowercase hex digits)", path, name, f.Signatures[name])
		}
	}
	return f.Signatures, nil
}

// WriteSignatures writes a signatures file atomically, in Azure Linux's
// layout: keys sorted, indented by one space per level, a final newline.
func WriteSignatures(path string, sigs map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(sigs)) {
		if name == "" || !sha256RE.MatchString(sigs[name]) {
			return fmt.Errorf("writing %s: %q: %q is not a SHA-256 (64 lowercase hex digits)", path, name, sigs[name])
		}
	}
	if sigs == nil {
		sigs = map[string]string{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(signaturesFile{Signatures: sigs}); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := fsutil.WriteFileAtomic(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
