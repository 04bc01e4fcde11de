package source

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"

	"slipway/internal/fsutil"
	"slipway/internal/spec"
)

// SRPMDigests are the SHA-256 digests of the files a source RPM of the
// spec carries (the spec, its Sources and its Patches), by file name, as
// they are now, without downloading anything: files in specDir are
// hashed, the other Sources are known by their signatures. Compared with
// a published source RPM's payload digests (rpm.PayloadDigests) they say
// whether it was packed from the same files.
func SRPMDigests(info *spec.Info, specDir string) (map[string]string, error) {
	specFile := filepath.Base(info.Path)
	out := map[string]string{}
	local := func(name string) (bool, error) {
		sum, err := fsutil.SHA256File(filepath.Join(specDir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		out[name] = sum
		return true, nil
	}
	if _, err := local(specFile); err != nil {
		return nil, err
	}
	for _, p := range info.Patches {
		name, err := FileName(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", info.Path, err)
		}
		if ok, err := local(name); err != nil || !ok {
			return nil, fmt.Errorf("%s: patch %s is not in %s", info.Path, name, specDir)
		}
	}
	names, err := sourceNames(info)
	if err != nil || len(names) == 0 {
		return out, err
	}
	sigPath := SignaturesPath(info, specDir)
	sigs, err := ReadSignatures(sigPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, name := range names {
		ok, err := local(name)
		if err != nil {
			return nil, err
		}
		if ok {
			continue
		}
		sum, signed := sigs[name]
		if !signed {
			return nil, &MissingSignatureError{Signatures: sigPath, File: name, Spec: specFile}
		}
		out[name] = sum
	}
	return out, nil
}

// DiffDigests names the first difference between the files of a source
// RPM (want) and the files the local spec would pack (have): "" when the
// two sets are the same.
func DiffDigests(want, have map[string]string) string {
	for _, name := range slices.Sorted(maps.Keys(have)) {
		switch w, ok := want[name]; {
		case !ok:
			return name + " is not in it"
		case w != have[name]:
			return name + " differs"
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if _, ok := have[name]; !ok {
			return name + " is only in it"
		}
	}
	return ""
}
