package project

import (
	"errors"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

var (
	nameRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	macroNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	packageRE   = regexp.MustCompile(`^[A-Za-z0-9_+][A-Za-z0-9._+-]*$`)
)

// arches are the supported target architectures.
var arches = []string{"x86_64", "aarch64"}

// validate returns every problem of a config with defaults applied. It
// does not touch the file system and does not change c.
func validate(file string, c Config, lines keyLines) []error {
	v := validator{file: file, lines: lines}

	p := c.Project
	switch {
	case p.Name == "":
		v.errorf(key("project", "name"), "missing: set it in [project], e.g. name = \"mydistro\"")
	case !nameRE.MatchString(p.Name):
		v.errorf(key("project", "name"), "%q is not a valid name: use a-z, 0-9, '.', '_' and '-', starting with a letter or digit", p.Name)
	}
	v.path(key("project", "specs_dir"), p.SpecsDir)
	v.path(key("project", "build_dir"), p.BuildDir)
	v.path(key("project", "out_dir"), p.OutDir)
	v.distinctDirs(p)
	if !slices.Contains(arches, p.Arch) {
		v.errorf(key("project", "arch"), "%q is not supported: use one of %s", p.Arch, strings.Join(arches, ", "))
	}
	if p.Jobs < 0 {
		v.errorf(key("project", "jobs"), "%d is negative: use 0 for the CPU count", p.Jobs)
	}

	r := c.RPM
	if t := r.DistTag; t != "" && (!strings.HasPrefix(t, ".") || len(t) == 1 || strings.ContainsAny(t, " \t\r\n")) {
		v.errorf(key("rpm", "dist_tag"), "%q must be a '.' followed by a word without spaces, e.g. \".azl3\"", t)
	}
	for i, d := range r.Defines {
		v.define(key("rpm", "defines").at(i), d, r.DistTag != "")
	}
	v.path(key("rpm", "vendor_macros"), r.VendorMacros)
	for i, g := range r.MacroFiles {
		k := key("rpm", "macro_files").at(i)
		if g == "" {
			v.errorf(k, "empty pattern")
		} else if err := checkGlob(g); err != nil {
			v.errorf(k, "%q is not a valid glob pattern: %v", g, err)
		}
	}
	for _, mod := range slices.Sorted(maps.Keys(r.LuaModules)) {
		k := key("rpm", "lua_modules", mod)
		if msg := checkLuaModule(mod); msg != "" {
			v.errorf(k, "%s", msg)
		}
		if r.LuaModules[mod] == "" {
			v.errorf(k, "no file given")
		} else {
			v.path(k, r.LuaModules[mod])
		}
	}
	if !macroNameRE.MatchString(r.VersionMacroPrefix) {
		v.errorf(key("rpm", "version_macro_prefix"), "%q must match [A-Za-z_][A-Za-z0-9_]*", r.VersionMacroPrefix)
	}

	t := c.Toolchain
	v.path(key("toolchain", "manifest"), t.Manifest)
	for i, name := range t.Prebuilt {
		if !packageRE.MatchString(name) {
			v.errorf(key("toolchain", "prebuilt").at(i), "%q is not a package name", name)
		}
	}

	v.toolchain(t)
	v.path(key("build", "base_rootfs"), c.Build.BaseRootfs)
	v.path(key("images", "configs_dir"), c.Images.ConfigsDir)
	v.sources(c.Sources)
	v.remote(c.Remote)
	published := len(c.Remote.SRPMURLs) > 0 || len(c.Remote.Repos) > 0 || len(c.Remote.RepoFiles) > 0
	for _, table := range []string{"toolchain", "build"} {
		on := t.DownloadSRPMs
		if table == "build" {
			on = c.Build.DownloadSRPMs
		}
		if on && !published {
			v.errorf(key(table, "download_srpms"), "builds the published source RPMs, but nothing says where they are: set [remote] srpm_urls (or repositories with source packages)")
		}
	}
	return v.errs
}

type validator struct {
	file  string
	lines keyLines
	errs  []error
}

func (v *validator) errorf(r ref, format string, args ...any) {
	v.errs = append(v.errs, v.lines.errorf(v.file, r, format, args...))
}

// path checks a path value that the OS will be given.
func (v *validator) path(r ref, p string) {
	if strings.IndexByte(p, 0) >= 0 {
		v.errorf(r, "path %q contains a NUL byte", p)
	}
}

// distinctDirs checks that cleaning build_dir or out_dir can never delete
// the project or its specs.
func (v *validator) distinctDirs(p ProjectSection) {
	specs := filepath.Clean(p.SpecsDir)
	build := filepath.Clean(p.BuildDir)
	out := filepath.Clean(p.OutDir)
	for _, d := range []struct {
		name, dir string
	}{{"build_dir", build}, {"out_dir", out}} {
		switch d.dir {
		case ".":
			v.errorf(key("project", d.name), "must not be the project directory")
		case specs:
			v.errorf(key("project", d.name), "must not be specs_dir (%s)", p.SpecsDir)
		}
	}
	if build == out && build != "." && build != specs {
		v.errorf(key("project", "out_dir"), "must not be build_dir (%s)", p.BuildDir)
	}
}

// define checks one rpm.defines entry, "name value".
func (v *validator) define(r ref, d string, hasDistTag bool) {
	i := strings.IndexAny(d, " \t")
	if i < 0 || strings.TrimLeft(d[i:], " \t") == "" {
		v.errorf(r, "%q must be \"name value\" (like rpm -D)", d)
		return
	}
	switch name := d[:i]; {
	case !macroNameRE.MatchString(name) || name == "_":
		v.errorf(r, "%q: macro name %q must match [A-Za-z_][A-Za-z0-9_]*", d, name)
	case name == "dist" && hasDistTag:
		v.errorf(r, "defines dist, which rpm.dist_tag already sets")
	}
}

// checkLuaModule returns what is wrong with a module path under rpm's lua
// directory, or "".
func checkLuaModule(mod string) string {
	switch {
	case strings.HasPrefix(mod, "/"):
		return "module path must be relative"
	case slices.Contains(strings.Split(mod, "/"), ".."):
		return `module path must not contain ".."`
	case strings.ContainsRune(mod, '\\') || path.Clean(mod) != mod:
		return `module path must be clean: '/'-separated, without "." or empty elements`
	case !strings.HasSuffix(mod, ".lua") || strings.HasSuffix(mod, "/.lua") || mod == ".lua":
		return "module path must end in <name>.lua"
	}
	return ""
}

// errBadGlob is returned for a malformed glob pattern.
var errBadGlob = errors.New("unterminated or malformed [ ] class or '\\' escape")

// checkGlob checks pattern against the grammar of filepath.Match, which
// itself only reports a malformed pattern when its matching gets that far.
func checkGlob(pattern string) error {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			i++
			if i == len(pattern) {
				return errBadGlob
			}
		case '[':
			n := classLen(pattern[i:])
			if n == 0 {
				return errBadGlob
			}
			i += n - 1
		}
	}
	_, err := filepath.Match(pattern, "")
	return err
}

// classLen returns the length of the character class at the start of s,
// "[" ["^"] range {range} "]" with range = char ["-" char]; 0 if malformed.
func classLen(s string) int {
	i := 1
	if i < len(s) && s[i] == '^' {
		i++
	}
	for ranges := 0; ; ranges++ {
		if i < len(s) && s[i] == ']' && ranges > 0 {
			return i + 1
		}
		n := classChar(s[i:])
		if n == 0 {
			return 0
		}
		i += n
		if i < len(s) && s[i] == '-' {
			if n = classChar(s[i+1:]); n == 0 {
				return 0
			}
			i += 1 + n
		}
	}
}

// classChar returns the length of the (possibly escaped) character at the
// start of s inside a class; 0 if there is none.
func classChar(s string) int {
	esc := 0
	if s == "" || s[0] == '-' || s[0] == ']' {
		return 0
	}
	if s[0] == '\\' {
		esc = 1
	}
	r, n := utf8.DecodeRuneInString(s[esc:])
	if n == 0 || r == utf8.RuneError && n == 1 {
		return 0
	}
	return esc + n
}
