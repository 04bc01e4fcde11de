package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"slipway/internal/fsutil"
)

// resultFormat versions how slipway reads rpm's answers into an Info:
// change it whenever that reading changes, so cached results are redone.
const resultFormat = "v2"

// SystemConfigDir is where the host's rpm keeps its configuration.
const SystemConfigDir = "/usr/lib/rpm"

// vendorSlot is the directory name rpm loads "<configdir>/<vendor>/macros"
// from. Debian's rpm is built with the vendor "debian"; the slot is where a
// distro's main macros file goes, after rpm's own macros and macros.d.
const vendorSlot = "debian"

// MacroSet is everything that defines the macro environment specs are
// evaluated in, apart from the generated cross-spec version macros.
type MacroSet struct {
	VendorMacros string            // the distro's main "macros" file ("" for none)
	MacroFiles   []string          // macros.* files for macros.d/, by base name
	LuaModules   map[string]string // module path under lua/ ("azl/common.lua") -> file
	Defines      []string          // rpm -D definitions, "name value", in order
}

// Hash is a digest of the set's contents (not its paths), of the host rpm's
// own configuration and of the evaluator, so a change to any of them
// invalidates every cached result.
func (m MacroSet) Hash() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "slipway-spec-eval %s\n%s\n%s\n", resultFormat, SRPMQueryFormat, RPMQueryFormat)
	h.Write(helperSource)
	for _, f := range []string{"macros", "rpmrc"} {
		if err := hashFile(h, "system "+f, filepath.Join(SystemConfigDir, f)); err != nil {
			return "", err
		}
	}
	if m.VendorMacros != "" {
		if err := hashFile(h, "vendor", m.VendorMacros); err != nil {
			return "", err
		}
	}
	for _, f := range m.MacroFiles {
		if err := hashFile(h, "macros.d/"+filepath.Base(f), f); err != nil {
			return "", err
		}
	}
	for _, mod := range slices.Sorted(maps.Keys(m.LuaModules)) {
		if err := hashFile(h, "lua/"+mod, m.LuaModules[mod]); err != nil {
			return "", err
		}
	}
	for _, d := range m.Defines {
		fmt.Fprintf(h, "define %q\n", d)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h io.Writer, label, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("macro set: %w", err)
	}
	fmt.Fprintf(h, "%s %d\n", label, len(data))
	h.Write(data)
	return nil
}

// PrepareConfigDir makes an rpm configuration directory (for RPM_CONFIGDIR)
// under root: links to every file of the host's /usr/lib/rpm, plus the
// distro's macro files in macros.d, its main macros in the vendor slot, its
// Lua modules under lua/, and the generated macros. The directory is named
// by the hash of its inputs and created atomically, so concurrent or
// interrupted runs never see half of one.
func PrepareConfigDir(root string, m MacroSet, generated string) (string, error) {
	base, err := m.Hash()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(base + "\x00" + generated))
	dir := filepath.Join(root, hex.EncodeToString(sum[:])[:16])
	if err := fsutil.MakeDirOnce(dir, func(tmp string) error { return fillConfigDir(tmp, m, generated) }); err != nil {
		return "", err
	}
	return dir, nil
}

func fillConfigDir(dir string, m MacroSet, generated string) error {
	entries, err := os.ReadDir(SystemConfigDir)
	if err != nil {
		return fmt.Errorf("reading the host's rpm configuration: %w", err)
	}
	// Directories slipway adds files to are real directories holding links
	// to the host's entries; everything else is linked as it is.
	own := map[string]bool{"macros.d": true, "lua": true, vendorSlot: true}
	for _, e := range entries {
		if own[e.Name()] {
			if err := linkChildren(filepath.Join(SystemConfigDir, e.Name()), filepath.Join(dir, e.Name())); err != nil {
				return err
			}
			continue
		}
		if err := os.Symlink(filepath.Join(SystemConfigDir, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	for _, f := range m.MacroFiles {
		if err := copyInto(f, filepath.Join(dir, "macros.d", filepath.Base(f))); err != nil {
			return err
		}
	}
	if m.VendorMacros != "" {
		if err := copyInto(m.VendorMacros, filepath.Join(dir, vendorSlot, "macros")); err != nil {
			return err
		}
	}
	for mod, f := range m.LuaModules {
		if err := copyInto(f, filepath.Join(dir, "lua", filepath.FromSlash(mod))); err != nil {
			return err
		}
	}
	if generated != "" {
		return writeFile(filepath.Join(dir, "macros.d", "macros.zz-slipway-generated"), []byte(generated))
	}
	return nil
}

func linkChildren(from, to string) error {
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Symlink(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// copyInto copies a file (a copy, not a link: the config dir must not
// change when the project's files do, its name is their hash).
func copyInto(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	os.Remove(to) // replace a link to the host's file of the same name
	return writeFile(to, data)
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// macroName turns a spec name into the part of a generated macro name that
// stands for it: every character outside [A-Za-z0-9_] becomes '_'.
func macroName(spec string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, spec)
}
