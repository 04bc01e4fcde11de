package project

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// azureLinux is a config for an Azure Linux 3.0 checkout.
const azureLinux = `# Azure Linux 3.0 as a slipway project
[project]
name = "azurelinux"
arch = "aarch64"
jobs = 8

[rpm]
dist_tag = ".azl3"
defines = ["azl 3", "with_check	1"]
vendor_macros = "SPECS/azurelinux-rpm-macros/macros"
macro_files = ["SPECS/azurelinux-rpm-macros/macros.*", "SPECS/perl/macros.[a-z]*"]

[rpm.lua_modules]
"azl/common.lua" = "SPECS/azurelinux-rpm-macros/common.lua"
"azl/srpm/python.lua" = "SPECS/azurelinux-rpm-macros/python.lua"

[toolchain]
manifest = "toolkit/resources/manifests/package/toolchain_aarch64.txt"
prebuilt = ["filesystem", "libstdc++-devel"]

[images]
configs_dir = "toolkit/imageconfigs"
`

func TestParse(t *testing.T) {
	defaults := func(name string) Config {
		return Config{
			Project: ProjectSection{Name: name, SpecsDir: "SPECS", BuildDir: "build", OutDir: "out", Arch: "x86_64"},
			RPM:     RPMSection{VersionMacroPrefix: "azl"},
			Toolchain: ToolchainSection{Mode: "rebuild",
				Bootstrap: BootstrapSection{Suite: "bookworm", Mirror: "http://deb.debian.org/debian"}},
			Images: ImagesSection{ConfigsDir: "imageconfigs"},
		}
	}
	tests := []struct {
		name string
		doc  string
		want func() Config
	}{{
		name: "minimal",
		doc:  "[project]\nname = \"hello\"\n",
		want: func() Config { return defaults("hello") },
	}, {
		name: "empty strings mean defaults",
		doc:  "[project]\nname = \"a.b_c-1\"\nspecs_dir = \"\"\narch = \"\"\n[rpm]\nversion_macro_prefix = \"\"\ndist_tag = \"\"\n",
		want: func() Config { return defaults("a.b_c-1") },
	}, {
		name: "dotted keys and inline tables",
		doc:  "project.name = \"x\"\nproject.out_dir = \"/srv/out\"\nrpm = { defines = [\"a b\"], lua_modules = { \"m.lua\" = \"m.lua\" } }\n",
		want: func() Config {
			c := defaults("x")
			c.Project.OutDir = "/srv/out"
			c.RPM.Defines = []string{"a b"}
			c.RPM.LuaModules = map[string]string{"m.lua": "m.lua"}
			return c
		},
	}, {
		name: "byte order mark and CRLF",
		doc:  "\uFEFF[project]\r\nname = \"x\"\r\n",
		want: func() Config { return defaults("x") },
	}, {
		name: "azure linux",
		doc:  azureLinux,
		want: func() Config {
			c := defaults("azurelinux")
			c.Project.Arch, c.Project.Jobs = "aarch64", 8
			c.RPM = RPMSection{
				DistTag:      ".azl3",
				Defines:      []string{"azl 3", "with_check\t1"},
				VendorMacros: "SPECS/azurelinux-rpm-macros/macros",
				MacroFiles:   []string{"SPECS/azurelinux-rpm-macros/macros.*", "SPECS/perl/macros.[a-z]*"},
				LuaModules: map[string]string{
					"azl/common.lua":      "SPECS/azurelinux-rpm-macros/common.lua",
					"azl/srpm/python.lua": "SPECS/azurelinux-rpm-macros/python.lua",
				},
				VersionMacroPrefix: "azl",
			}
			c.Toolchain.Manifest = "toolkit/resources/manifests/package/toolchain_aarch64.txt"
			c.Toolchain.Prebuilt = []string{"filesystem", "libstdc++-devel"}
			c.Images.ConfigsDir = "toolkit/imageconfigs"
			return c
		},
	}, {
		name: "sources",
		doc: "[project]\nname = \"x\"\n[sources]\n" +
			"urls = [\"https://azurelinuxsrcstorage.blob.core.windows.net/sources/core\", \"https://mirror.example/src/?sv=1&sig=abc\", \"file:///srv/sources\"]\n" +
			"allow_upstream = true\ncache_dir = \"/var/cache/slipway\"\n" +
			"[sources.auth]\nusername = \"builder\"\npassword = \"env:SRC_PASS\"\n" +
			"client_cert = \"certs/client.pem\"\nclient_key = \"file:/run/secrets/client.key\"\nca_cert = \"-----BEGIN CERTIFICATE-----\\n...\"\n",
		want: func() Config {
			c := defaults("x")
			c.Sources = SourcesSection{
				URLs: []string{
					"https://azurelinuxsrcstorage.blob.core.windows.net/sources/core",
					"https://mirror.example/src/?sv=1&sig=abc",
					"file:///srv/sources",
				},
				AllowUpstream: true,
				CacheDir:      "/var/cache/slipway",
				Auth: AuthSection{Username: "builder", Password: "env:SRC_PASS", ClientCert: "certs/client.pem",
					ClientKey: "file:/run/secrets/client.key", CACert: "-----BEGIN CERTIFICATE-----\n..."},
			}
			return c
		},
	}, {
		name: "sources token",
		doc:  "[project]\nname = \"x\"\n[sources]\nauth = { token = \"file:token.txt\" }\n",
		want: func() Config {
			c := defaults("x")
			c.Sources.Auth.Token = "file:token.txt"
			return c
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(FileName, []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want(); !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const p = "[project]\nname = \"x\"\n" // lines 1-2
	tests := []struct {
		name string
		doc  string
		want []string // the lines of the error, in order
	}{{
		name: "unknown key with suggestion",
		doc:  p + "jobs = 2\n\n\n\nspec_dir = \"SPECS\"\n",
		want: []string{`slipway.toml:7:1: unknown key "project.spec_dir" (did you mean "specs_dir"?)`},
	}, {
		name: "unknown key without suggestion",
		doc:  p + "colour = \"red\"\n",
		want: []string{`slipway.toml:3:1: unknown key "project.colour"`},
	}, {
		name: "nested unknown key",
		doc:  p + "[rpm]\nlua_module = { \"azl/common.lua\" = \"common.lua\" }\n",
		want: []string{`slipway.toml:4:1: unknown key "rpm.lua_module" (did you mean "lua_modules"?)`},
	}, {
		name: "unknown tables, all reported",
		doc:  p + "[rpms]\ndist_tag = \".x\"\n[rpm.lua_modulez]\n[toolchain]\nmanifests = \"m\"\n",
		want: []string{
			`slipway.toml:3:2: unknown key "rpms" (did you mean "rpm"?)`,
			`slipway.toml:5:2: unknown key "rpm.lua_modulez" (did you mean "lua_modules"?)`,
			`slipway.toml:7:1: unknown key "toolchain.manifests" (did you mean "manifest"?)`,
		},
	}, {
		name: "unknown part of a dotted key",
		doc:  "images.config_dir.x = 1\n" + p,
		want: []string{`slipway.toml:1:1: unknown key "images.config_dir" (did you mean "configs_dir"?)`},
	}, {
		name: "key in the wrong case",
		doc:  "[Project]\nname = \"x\"\n",
		want: []string{`slipway.toml:1:2: unknown key "Project" (did you mean "project"?)`},
	}, {
		name: "key in the wrong case in an inline table",
		doc:  "project = { name = \"x\", Jobs = 2 }\n",
		want: []string{`slipway.toml:1:25: unknown key "project.Jobs" (did you mean "jobs"?)`},
	}, {
		name: "string for integer",
		doc:  p + "jobs = \"4\"\n",
		want: []string{`slipway.toml:3:8: project.jobs: expected an integer, got TOML string`},
	}, {
		name: "string for array",
		doc:  p + "[rpm]\ndefines = \"azl 3\"\n",
		want: []string{`slipway.toml:4:11: rpm.defines: expected an array of strings, got TOML string`},
	}, {
		name: "integer in array",
		doc:  p + "[rpm]\ndefines = [\n  \"azl 3\",\n  3,\n]\n",
		want: []string{`slipway.toml:6:3: rpm.defines: expected a string, got TOML integer`},
	}, {
		name: "value for table",
		doc:  "rpm = \".azl3\"\n",
		want: []string{`slipway.toml:1:7: rpm: expected a table, got TOML string`},
	}, {
		name: "table for array",
		doc:  p + "[rpm.defines]\n",
		want: []string{`slipway.toml:3:2: rpm.defines: cannot store a table in a string`},
	}, {
		name: "syntax error",
		doc:  p + "arch = x86_64\n",
		want: []string{`slipway.toml:3:8: unexpected character U+0078 'x' at start of value`},
	}, {
		name: "duplicate key",
		doc:  p + "name = \"y\"\n",
		want: []string{`slipway.toml:3:1: key name is already defined`},
	}, {
		name: "missing name",
		doc:  "\n[project]\njobs = 1\n",
		want: []string{`slipway.toml:2: project.name: missing: set it in [project], e.g. name = "mydistro"`},
	}, {
		name: "missing name, no table",
		doc:  "",
		want: []string{`slipway.toml: project.name: missing: set it in [project], e.g. name = "mydistro"`},
	}, {
		name: "invalid name",
		doc:  "[project]\nname = \"My Distro\"\n",
		want: []string{`slipway.toml:2: project.name: "My Distro" is not a valid name: use a-z, 0-9, '.', '_' and '-', starting with a letter or digit`},
	}, {
		name: "negative jobs",
		doc:  p + "jobs = -2\n",
		want: []string{`slipway.toml:3: project.jobs: -2 is negative: use 0 for the CPU count`},
	}, {
		name: "unsupported arch",
		doc:  p + "arch = \"i686\"\n",
		want: []string{`slipway.toml:3: project.arch: "i686" is not supported: use one of x86_64, aarch64`},
	}, {
		name: "dangerous dirs",
		doc:  p + "build_dir = \"./\"\nout_dir = \"SPECS/\"\n",
		want: []string{
			`slipway.toml:3: project.build_dir: must not be the project directory`,
			`slipway.toml:4: project.out_dir: must not be specs_dir (SPECS)`,
		},
	}, {
		name: "same build and out dir",
		doc:  p + "build_dir = \"b\"\nout_dir = \"b/\"\n",
		want: []string{`slipway.toml:4: project.out_dir: must not be build_dir (b)`},
	}, {
		name: "bad dist tag",
		doc:  p + "[rpm]\ndist_tag = \"azl3\"\n",
		want: []string{`slipway.toml:4: rpm.dist_tag: "azl3" must be a '.' followed by a word without spaces, e.g. ".azl3"`},
	}, {
		name: "bad defines",
		doc:  p + "[rpm]\ndist_tag = \".azl3\"\ndefines = [\n\"azl 3\",\n\"azl\",\n\"azl \",\n\"3azl 3\",\n\"_ x\",\n\"dist .x\",\n]\n",
		want: []string{
			`slipway.toml:7: rpm.defines[1]: "azl" must be "name value" (like rpm -D)`,
			`slipway.toml:8: rpm.defines[2]: "azl " must be "name value" (like rpm -D)`,
			`slipway.toml:9: rpm.defines[3]: "3azl 3": macro name "3azl" must match [A-Za-z_][A-Za-z0-9_]*`,
			`slipway.toml:10: rpm.defines[4]: "_ x": macro name "_" must match [A-Za-z_][A-Za-z0-9_]*`,
			`slipway.toml:11: rpm.defines[5]: defines dist, which rpm.dist_tag already sets`,
		},
	}, {
		name: "bad macro file globs",
		doc:  p + "[rpm]\nmacro_files = [\"macros.*\", \"macros.[a-\", \"x*[z\", \"a\\\\\", \"\"]\n",
		want: []string{
			`slipway.toml:4: rpm.macro_files[1]: "macros.[a-" is not a valid glob pattern: unterminated or malformed [ ] class or '\' escape`,
			`slipway.toml:4: rpm.macro_files[2]: "x*[z" is not a valid glob pattern: unterminated or malformed [ ] class or '\' escape`,
			`slipway.toml:4: rpm.macro_files[3]: "a\\" is not a valid glob pattern: unterminated or malformed [ ] class or '\' escape`,
			`slipway.toml:4: rpm.macro_files[4]: empty pattern`,
		},
	}, {
		name: "bad lua module keys",
		doc: p + "[rpm.lua_modules]\n\"/azl/common.lua\" = \"a.lua\"\n\"azl/../x.lua\" = \"a.lua\"\n" +
			"\"azl//common.lua\" = \"a.lua\"\n\"azl/common\" = \"a.lua\"\n\"azl/.lua\" = \"\"\n",
		want: []string{
			`slipway.toml:4: rpm.lua_modules."/azl/common.lua": module path must be relative`,
			`slipway.toml:5: rpm.lua_modules."azl/../x.lua": module path must not contain ".."`,
			`slipway.toml:8: rpm.lua_modules."azl/.lua": module path must end in <name>.lua`,
			`slipway.toml:8: rpm.lua_modules."azl/.lua": no file given`,
			`slipway.toml:6: rpm.lua_modules."azl//common.lua": module path must be clean: '/'-separated, without "." or empty elements`,
			`slipway.toml:7: rpm.lua_modules."azl/common": module path must end in <name>.lua`,
		},
	}, {
		name: "bad version macro prefix and prebuilt names",
		doc:  p + "[rpm]\nversion_macro_prefix = \"azl-3\"\n[toolchain]\nprebuilt = [\"gcc\", \"gcc 12\", \"\"]\n",
		want: []string{
			`slipway.toml:4: rpm.version_macro_prefix: "azl-3" must match [A-Za-z_][A-Za-z0-9_]*`,
			`slipway.toml:6: toolchain.prebuilt[1]: "gcc 12" is not a package name`,
			`slipway.toml:6: toolchain.prebuilt[2]: "" is not a package name`,
		},
	}, {
		name: "unknown sources keys",
		doc:  p + "[sources]\nurl = \"https://x\"\n[sources.auth]\npasword = \"x\"\n",
		want: []string{
			`slipway.toml:4:1: unknown key "sources.url" (did you mean "urls"?)`,
			`slipway.toml:6:1: unknown key "sources.auth.pasword" (did you mean "password"?)`,
		},
	}, {
		name: "sources types",
		doc:  p + "[sources]\nallow_upstream = \"yes\"\n",
		want: []string{`slipway.toml:4:18: sources.allow_upstream: expected a boolean, got TOML string`},
	}, {
		name: "bad source urls",
		doc: p + "[sources]\nurls = [\n\"https://ok.example/src\",\n\"ftp://old.example/src\",\n\"https://user:hunter2@private.example/src\",\n" +
			"\"/srv/sources\",\n\"https://ok.example/src\",\n\"http://bad host/\",\n\"file://server/share\",\n\"https://x.example/#frag\",\n\"\",\n]\n",
		want: []string{
			`slipway.toml:6: sources.urls[1]: "ftp://old.example/src" is not supported: use an http, https or file URL`,
			`slipway.toml:7: sources.urls[2]: "https://REDACTED@private.example/src" has credentials in it: put them in [sources.auth], e.g. password = "env:SOURCES_PASSWORD"`,
			`slipway.toml:8: sources.urls[3]: "/srv/sources" is not supported: use an http, https or file URL`,
			`slipway.toml:9: sources.urls[4]: "https://ok.example/src" is listed twice (also urls[0])`,
			`slipway.toml:10: sources.urls[5]: "http://bad host/" is not a valid URL: invalid character " " in host name`,
			`slipway.toml:11: sources.urls[6]: "file://server/share" must be file:///absolute/path`,
			`slipway.toml:12: sources.urls[7]: "https://x.example/#frag" must not end in '#...' or '?'`,
			`slipway.toml:13: sources.urls[8]: "" is empty`,
		},
	}, {
		name: "bad sources auth",
		doc: p + "[sources]\ncache_dir = \"a\\u0000\"\n[sources.auth]\nusername = \"env:\"\ntoken = \"t\"\npassword = \"file:\"\n" +
			"client_key = \"env:KEY-FILE\"\n",
		want: []string{
			`slipway.toml:4: sources.cache_dir: path "a\x00" contains a NUL byte`,
			`slipway.toml:6: sources.auth.username: "": env: must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)`,
			`slipway.toml:8: sources.auth.password: file: must be followed by a path`,
			`slipway.toml:9: sources.auth.client_key: "KEY-FILE": env: must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)`,
			`slipway.toml:7: sources.auth.token: set either token or username and password, not both`,
			`slipway.toml:9: sources.auth.client_key: needs client_cert`,
		},
	}, {
		name: "sources auth halves",
		doc:  p + "[sources.auth]\nusername = \"u\"\nclient_cert = \"c.pem\"\n",
		want: []string{
			`slipway.toml:4: sources.auth.username: needs a password, e.g. password = "env:SOURCES_PASSWORD"`,
			`slipway.toml:5: sources.auth.client_cert: needs client_key`,
		},
	}, {
		name: "bad remote repos",
		doc: p + "[[remote.repos]]\nbaseurls = [\"ftp://x\"]\n[[remote.repos]]\nid = \"base\"\n[[remote.repos]]\nid = \"base\"\nbaseurls = [\"https://x\"]\npriority = -1\n" +
			"[remote.repos.auth]\nusername = \"u\"\n",
		want: []string{
			`slipway.toml:3: remote.repos[0].id: missing: give it one, e.g. id = "base"`,
			`slipway.toml:4: remote.repos[0].baseurls: "ftp://x" is not supported: use an http, https or file URL`,
			`slipway.toml:5: remote.repos[1].baseurls: missing: give at least one URL`,
			`slipway.toml:8: remote.repos[2].id: "base" is used twice`,
			`slipway.toml:10: remote.repos[2].priority: -1 is negative`,
			`slipway.toml:12: remote.repos[2].auth.username: needs a password, e.g. password = "env:SOURCES_PASSWORD"`,
		},
	}, {
		name: "NUL in a path",
		doc:  p + "[images]\nconfigs_dir = \"a\\u0000b\"\n",
		want: []string{`slipway.toml:4: images.configs_dir: path "a\x00b" contains a NUL byte`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(FileName, []byte(tt.doc))
			if err == nil {
				t.Fatal("no error")
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", err, strings.Join(tt.want, "\n"))
			}
			for _, e := range leaves(err) {
				var pe *Error
				if !errors.As(e, &pe) || pe.File != FileName {
					t.Errorf("%v: not an *Error for %s", e, FileName)
				}
			}
		})
	}
}

// leaves returns the errors joined in err.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

func TestDefaultsAndValidateDoNotMutate(t *testing.T) {
	mk := func() Config {
		return Config{
			Project: ProjectSection{Name: "x", Jobs: -1},
			RPM:     RPMSection{Defines: []string{"a"}, LuaModules: map[string]string{"../m.lua": ""}},
		}
	}
	c := mk()
	d := withDefaults(c)
	if !reflect.DeepEqual(c, mk()) {
		t.Errorf("withDefaults changed its argument: %+v", c)
	}
	if d.Project.SpecsDir != "SPECS" {
		t.Errorf("defaults not applied: %+v", d)
	}
	before := withDefaults(mk())
	if errs := validate(FileName, d, keyLines{}); len(errs) != 4 {
		t.Errorf("got %d errors, want 4: %v", len(errs), errs)
	}
	if !reflect.DeepEqual(d, before) {
		t.Errorf("validate changed the config: %+v", d)
	}
}

// writeTree writes files (path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		FileName:                                                    azureLinux,
		"SPECS/azurelinux-rpm-macros/macros":                        "%azl 3\n",
		"SPECS/azurelinux-rpm-macros/common.lua":                    "",
		"SPECS/azurelinux-rpm-macros/python.lua":                    "",
		"SPECS/azurelinux-rpm-macros/macros.check":                  "",
		"SPECS/perl/macros.perl":                                    "",
		"toolkit/resources/manifests/package/toolchain_aarch64.txt": "zlib-1.3.1-1.azl3.aarch64.rpm\n",
	})
	for _, path := range []string{dir, filepath.Join(dir, FileName)} {
		p, err := Load(path)
		if err != nil {
			t.Fatalf("Load(%s): %v", path, err)
		}
		if p.Dir != dir || p.File != filepath.Join(dir, FileName) {
			t.Errorf("Load(%s): Dir %s, File %s", path, p.Dir, p.File)
		}
		if got := p.Path("SPECS"); got != filepath.Join(dir, "SPECS") {
			t.Errorf("Path(SPECS) = %s", got)
		}
		if got := p.Path("/srv/out/"); got != "/srv/out" {
			t.Errorf("Path(/srv/out/) = %s", got)
		}
		want := []string{"dist .azl3", "azl 3", "with_check\t1"}
		if got := p.Defines(); !reflect.DeepEqual(got, want) {
			t.Errorf("Defines() = %q, want %q", got, want)
		}
	}
}

func TestLoadRelative(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"p/" + FileName: "[project]\nname = \"x\"\n"})
	t.Chdir(dir)
	p, err := Load("p")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(p.Dir) || p.Dir != filepath.Join(dir, "p") {
		t.Errorf("Dir = %s, want %s", p.Dir, filepath.Join(dir, "p"))
	}
	if got := p.Defines(); len(got) != 0 {
		t.Errorf("Defines() = %q, want none", got)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("no config", func(t *testing.T) {
		_, err := Load(t.TempDir())
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("got %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("missing files", func(t *testing.T) {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{
			FileName: "[project]\nname = \"x\"\nout_dir = \"build\"\n[rpm]\nvendor_macros = \"SPECS/x/macros\"\n" +
				"[rpm.lua_modules]\n\"azl/common.lua\" = \"SPECS/x/common.lua\"\n\"azl/forge.lua\" = \"lua\"\n" +
				"[toolchain]\nmanifest = \"toolchain.txt\"\n",
			"lua/f": "",
		})
		t.Chdir(dir)
		_, err := Load(".")
		want := []string{
			// validation and file checks are reported together
			`slipway.toml:3: project.out_dir: must not be build_dir (build)`,
			`slipway.toml:5: rpm.vendor_macros: file SPECS/x/macros does not exist`,
			`slipway.toml:7: rpm.lua_modules."azl/common.lua": file SPECS/x/common.lua does not exist`,
			`slipway.toml:8: rpm.lua_modules."azl/forge.lua": lua is a directory, not a file`,
			`slipway.toml:10: toolchain.manifest: file toolchain.txt does not exist`,
		}
		if err == nil {
			t.Fatal("no error")
		}
		if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, want) {
			t.Errorf("got\n%v\nwant\n%s", err, strings.Join(want, "\n"))
		}
		if errors.Is(err, fs.ErrNotExist) {
			t.Error("a missing referenced file must not look like a missing config")
		}
	})
	t.Run("decode error names the file as given", func(t *testing.T) {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{FileName: "[project\n"})
		_, err := Load(dir)
		if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, FileName)+":1:") {
			t.Errorf("got %v", err)
		}
	})
}

func TestCheckGlob(t *testing.T) {
	for _, g := range []string{"macros.*", "a?b", "[a-z]*", "[^a]", `[\]]`, `[\-a]`, `\*`, "[é-ü]", "]x"} {
		if err := checkGlob(g); err != nil {
			t.Errorf("checkGlob(%q) = %v, want nil", g, err)
		}
	}
	for _, g := range []string{"[", "[]", "[]a]", "[^]", "[a-]", "[-a]", "[a", `\`, `[\`, "x*[z", "[\xff]"} {
		if err := checkGlob(g); err == nil {
			t.Errorf("checkGlob(%q) = nil, want an error", g)
		}
	}
}

// FuzzCheckGlob checks that checkGlob accepts no pattern filepath.Match
// would reject.
func FuzzCheckGlob(f *testing.F) {
	for _, s := range []string{"macros.*", "[a-z]", "x*[z", `\`, "[^]", "[a-]"} {
		f.Add(s, "macros.x")
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if _, err := filepath.Match(pattern, name); err != nil && checkGlob(pattern) == nil {
			t.Errorf("checkGlob(%q) = nil, but filepath.Match says %v", pattern, err)
		}
	})
}

func TestToolchainSection(t *testing.T) {
	cfg, err := Parse("slipway.toml", []byte("[project]\nname = \"t\"\n[toolchain]\nbuild_order = \"order.txt\"\n[toolchain.bootstrap]\npackages = [\"rpm\", \"gcc\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tc := cfg.Toolchain; tc.Mode != "rebuild" || tc.Bootstrap.Suite != "bookworm" || tc.Bootstrap.Mirror != "http://deb.debian.org/debian" {
		t.Errorf("defaults: %+v", tc)
	}
	_, err = Parse("slipway.toml", []byte("[project]\nname = \"t\"\n[toolchain]\nmode = \"fetch\"\nurls = [\"ftp://x\"]\n[toolchain.bootstrap]\nrootfs = \"r\"\ncommand = \"./mk\"\npackages = [\"bad name\"]\n"))
	for _, want := range []string{
		`slipway.toml:4: toolchain.mode: "fetch": want rebuild, download or archive`,
		`toolchain.urls: only used in download mode`,
		`toolchain.urls[0]: "ftp://x" is not supported`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	_, err = Parse("slipway.toml", []byte("[project]\nname = \"t\"\n[toolchain.bootstrap]\nrootfs = \"r\"\ncommand = \"./mk\"\npackages = [\"bad name\"]\n"))
	for _, want := range []string{"give one of rootfs, command or packages", `toolchain.bootstrap.packages[0]: "bad name" is not a package name`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
