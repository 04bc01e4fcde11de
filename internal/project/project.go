// Package project loads and validates a slipway project's config file,
// slipway.toml.
//
// Decoding is strict: an unknown key, a wrongly typed value or a TOML syntax
// error is reported with the file, line and column. Defaults are applied to
// the decoded config, then the result is validated as a whole, and every
// problem found is reported at once.
package project

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/pelletier/go-toml/v2"
)

// FileName is the name of a project's config file.
const FileName = "slipway.toml"

// Config is the content of slipway.toml, with defaults applied.
// An empty string or zero value in the file means "use the default".
type Config struct {
	Project   ProjectSection   `toml:"project"`
	RPM       RPMSection       `toml:"rpm"`
	Toolchain ToolchainSection `toml:"toolchain"`
	Images    ImagesSection    `toml:"images"`
	Build     BuildSection     `toml:"build"`
	Sources   SourcesSection   `toml:"sources"`
	Remote    RemoteSection    `toml:"remote"`
}

// ProjectSection is the [project] table: the project's name and layout.
// Paths are relative to the project directory unless absolute.
type ProjectSection struct {
	Name     string `toml:"name"`      // required; [a-z0-9][a-z0-9._-]*
	SpecsDir string `toml:"specs_dir"` // default "SPECS"
	BuildDir string `toml:"build_dir"` // default "build"
	OutDir   string `toml:"out_dir"`   // default "out"
	Arch     string `toml:"arch"`      // default "x86_64"; or "aarch64"
	Jobs     int    `toml:"jobs"`      // parallel builds; 0 (default) means the CPU count
}

// RPMSection is the [rpm] table: the macro set specs are evaluated with.
type RPMSection struct {
	// DistTag, e.g. ".azl3", becomes the define "dist .azl3". Optional.
	DistTag string `toml:"dist_tag"`
	// Defines are "name value" pairs, passed like rpm -D, in order.
	Defines []string `toml:"defines"`
	// VendorMacros is the distro's main macros file. Optional.
	VendorMacros string `toml:"vendor_macros"`
	// MacroFiles are glob patterns (filepath.Match syntax) of extra macro
	// files, relative to the project directory.
	MacroFiles []string `toml:"macro_files"`
	// LuaModules maps a module path under rpm's lua directory
	// (e.g. "azl/common.lua") to a file relative to the project directory.
	LuaModules map[string]string `toml:"lua_modules"`
	// VersionMacroPrefix names the generated %<prefix>_<spec>_version,
	// _release and _epoch macros. Default "azl".
	VersionMacroPrefix string `toml:"version_macro_prefix"`
}

// ToolchainSection is the [toolchain] table: how the toolchain is made,
// and the packages that count as built in the package stage.
type ToolchainSection struct {
	// Manifest is a file listing toolchain RPM file names, one per line
	// (e.g. "zlib-devel-1.3.1-1.azl3.x86_64.rpm"). Optional; required to
	// run the toolchain stage, whose result must match it exactly.
	Manifest string `toml:"manifest"`
	// Prebuilt are extra package names that count as already built.
	Prebuilt []string `toml:"prebuilt"`
	// Mode is how the toolchain stage gets the RPMs: "rebuild" (build the
	// toolchain specs in BuildOrder in a bootstrap root), "download" (from
	// URLs) or "archive" (from a tarball). Default "rebuild".
	Mode string `toml:"mode"`
	// BuildOrder is the build order file, Azure Linux's
	// toolchain_build_order.txt format (rebuild mode).
	BuildOrder string `toml:"build_order"`
	// Archive is a tarball holding the toolchain RPMs (archive mode).
	Archive string `toml:"archive"`
	// URLs are base URLs the manifest's RPMs are downloaded from, tried in
	// order (download mode); Auth is sent to their hosts.
	URLs []string    `toml:"urls"`
	Auth AuthSection `toml:"auth"`
	// DownloadSRPMs, in rebuild mode, has BUILD steps rebuild the specs'
	// published source RPMs (found as [remote] says: srpm_urls, and the
	// repositories' source packages) instead of packing the specs (Azure
	// Linux's DOWNLOAD_SRPMS=y, its final toolchain phase).
	DownloadSRPMs bool `toml:"download_srpms"`
	// GPGKeys are public key files: downloaded or archived RPMs must carry
	// a valid signature by one of them. Empty: digests are checked only.
	GPGKeys []string `toml:"gpg_keys"`
	// Bootstrap is the root the rebuild mode builds in.
	Bootstrap BootstrapSection `toml:"bootstrap"`
}

// BootstrapSection is [toolchain.bootstrap]: the root toolchain specs are
// built in. One of Rootfs (a directory or tarball), Command (a script that
// writes a rootfs into $SLIPWAY_ROOTFS), or Packages (a Debian root made
// with mmdebstrap from Suite and Mirror, with these packages).
type BootstrapSection struct {
	Rootfs   string   `toml:"rootfs"`
	Command  string   `toml:"command"`
	Packages []string `toml:"packages"`
	Suite    string   `toml:"suite"`  // default "bookworm"
	Mirror   string   `toml:"mirror"` // default "http://deb.debian.org/debian"
}

// BuildSection is the [build] table: the package stage.
type BuildSection struct {
	// BaseRootfs is a root directory every package build starts from,
	// instead of a root made of the toolchain repository (like Azure
	// Linux's worker chroot). Optional.
	BaseRootfs string `toml:"base_rootfs"`
	// AllowToolchainRebuild lets the package stage build a spec that makes
	// an RPM the toolchain manifest owns (an error otherwise).
	AllowToolchainRebuild bool `toml:"allow_toolchain_rebuild"`
	// SkipCheck runs rpmbuild with --nocheck: no %check section runs
	// (Azure Linux's RUN_CHECK=n). Default: every %check runs.
	SkipCheck bool `toml:"skip_check"`
	// DownloadSRPMs builds the specs' published source RPMs (found as
	// [remote] says) instead of packing the specs (DOWNLOAD_SRPMS=y).
	DownloadSRPMs bool `toml:"download_srpms"`
}

// ImagesSection is the [images] table.
type ImagesSection struct {
	ConfigsDir string `toml:"configs_dir"` // default "imageconfigs"
}

// Project is a loaded project: its directory and its config.
type Project struct {
	Dir    string // absolute directory paths in Config are relative to
	File   string // absolute path of the config file
	Config Config
	// Offline is set for a run that must not use the network (--offline):
	// sources and packages come only from the caches.
	Offline bool
}

// Load reads, validates and checks the project config at path, which is
// either a config file or a directory containing slipway.toml.
// Besides what Parse checks, Load checks that the files the config refers
// to (rpm.vendor_macros, rpm.lua_modules, toolchain.manifest) exist and
// that every rpm.macro_files pattern matches at least one file.
//
// Errors name the config file as path was given. errors.Is(err,
// fs.ErrNotExist) reports whether the config file itself is missing.
func Load(path string) (*Project, error) {
	file := path
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		file = filepath.Join(path, FileName)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("load project: %w", err)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("load project: %w", err)
	}
	doc, err := decode(file, data)
	if err != nil {
		return nil, err
	}
	p := &Project{Dir: filepath.Dir(abs), File: abs, Config: doc.cfg}
	errs := validate(file, doc.cfg, doc.keys)
	errs = append(errs, p.checkFiles(file, doc.keys)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// Parse decodes a config strictly, applies defaults and validates the
// result. It does not touch the file system; file is only used in messages.
// All validation problems are reported together (see errors.Join); each is
// an *Error.
func Parse(file string, data []byte) (Config, error) {
	doc, err := decode(file, data)
	if err != nil {
		return Config{}, err
	}
	if errs := validate(file, doc.cfg, doc.keys); len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return doc.cfg, nil
}

// Path resolves a path from the config against the project directory.
// Absolute paths are returned cleaned but otherwise unchanged.
func (p *Project) Path(rel string) string {
	if filepath.IsAbs(rel) {
		return filepath.Clean(rel)
	}
	return filepath.Join(p.Dir, rel)
}

// Defines returns the macro definitions specs are evaluated with, each as
// "name value": "dist <tag>" first when a dist tag is set, then
// rpm.defines in order. The slice is a fresh copy.
func (p *Project) Defines() []string {
	defs := make([]string, 0, len(p.Config.RPM.Defines)+1)
	if p.Config.RPM.DistTag != "" {
		defs = append(defs, "dist "+p.Config.RPM.DistTag)
	}
	return append(defs, p.Config.RPM.Defines...)
}

// document is a decoded config with defaults applied and the lines its keys
// were found on.
type document struct {
	cfg  Config
	keys keyLines
}

// decode decodes data strictly into a Config and applies defaults.
func decode(file string, data []byte) (document, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF")) // editors on Windows add a BOM
	var cfg Config
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return document{}, decodeError(file, err)
	}
	keys, unknown := scanKeys(file, data)
	if len(unknown) > 0 {
		return document{}, errors.Join(unknown...)
	}
	return document{cfg: withDefaults(cfg), keys: keys}, nil
}

// withDefaults returns c with every unset field that has a default set.
func withDefaults(c Config) Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Project.SpecsDir, "SPECS")
	def(&c.Project.BuildDir, "build")
	def(&c.Project.OutDir, "out")
	def(&c.Project.Arch, "x86_64")
	def(&c.RPM.VersionMacroPrefix, "azl")
	def(&c.Images.ConfigsDir, "imageconfigs")
	def(&c.Toolchain.Mode, "rebuild")
	def(&c.Toolchain.Bootstrap.Suite, "bookworm")
	def(&c.Toolchain.Bootstrap.Mirror, "http://deb.debian.org/debian")
	return c
}

// checkFiles reports each file the config refers to that does not exist.
func (p *Project) checkFiles(file string, keys keyLines) []error {
	var errs []error
	check := func(r ref, rel string) {
		if rel == "" {
			return
		}
		fi, err := os.Stat(p.Path(rel))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			errs = append(errs, keys.errorf(file, r, "file %s does not exist", rel))
		case err != nil:
			errs = append(errs, keys.errorf(file, r, "%v", err))
		case fi.IsDir():
			errs = append(errs, keys.errorf(file, r, "%s is a directory, not a file", rel))
		}
	}
	rpm := p.Config.RPM
	check(key("rpm", "vendor_macros"), rpm.VendorMacros)
	for _, mod := range slices.Sorted(maps.Keys(rpm.LuaModules)) {
		check(key("rpm", "lua_modules", mod), rpm.LuaModules[mod])
	}
	check(key("toolchain", "manifest"), p.Config.Toolchain.Manifest)
	check(key("toolchain", "build_order"), p.Config.Toolchain.BuildOrder)
	check(key("toolchain", "archive"), p.Config.Toolchain.Archive)
	for i, k := range p.Config.Toolchain.GPGKeys {
		check(key("toolchain", "gpg_keys").at(i), k)
	}
	for i, k := range p.Config.Remote.SRPMKeys {
		check(key("remote", "srpm_gpg_keys").at(i), k)
	}
	for _, r := range p.Config.Remote.Repos {
		for _, k := range r.GPGKeys {
			check(key("remote", "repos"), k)
		}
	}
	if rootfs := p.Config.Build.BaseRootfs; rootfs != "" {
		if st, err := os.Stat(p.Path(rootfs)); err != nil || !st.IsDir() {
			errs = append(errs, keys.errorf(file, key("build", "base_rootfs"), "%s is not a directory", rootfs))
		}
	}
	if rootfs := p.Config.Toolchain.Bootstrap.Rootfs; rootfs != "" {
		if _, err := os.Stat(p.Path(rootfs)); err != nil {
			errs = append(errs, keys.errorf(file, key("toolchain", "bootstrap", "rootfs"), "%s does not exist", rootfs))
		}
	}
	for i, pattern := range rpm.MacroFiles {
		if matches, err := filepath.Glob(p.Path(pattern)); err == nil && len(matches) == 0 {
			errs = append(errs, keys.errorf(file, key("rpm", "macro_files").at(i), "%q matches no file", pattern))
		}
	}
	return errs
}
