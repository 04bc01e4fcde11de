package scaffold

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"slipway/examples"
	"slipway/internal/project"
	"slipway/internal/source"
	"slipway/internal/toolchain"
)

//go:embed template
var templates embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"q": strconv.Quote,
	"list": func(items []string) string {
		q := make([]string, len(items))
		for i, s := range items {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	},
}).ParseFS(templates, "template/*.tmpl"))

// imagePackages are the packages of the new project's container image.
var imagePackages = []string{"filesystem", "bash", "coreutils", "hello"}

// imageConfig is the path of the new project's image config, relative to
// the project directory.
func imageConfig(name string) string {
	return filepath.Join("imageconfigs", name+"-container.json")
}

// fill writes the new project into dir (an empty directory), taking the
// toolchain and its configuration from the bundled example. It returns the
// spec directories it copied.
func fill(dir, name string) ([]string, error) {
	ex := examples.FS()
	data, err := fs.ReadFile(ex, project.FileName)
	if err != nil {
		return nil, err
	}
	cfg, err := project.Parse("example "+project.FileName, data)
	if err != nil {
		return nil, err
	}

	// The toolchain directory whole, then the spec directories it builds
	// and those holding the macro files.
	if err := copyTree(ex, path.Dir(cfg.Toolchain.BuildOrder), dir); err != nil {
		return nil, err
	}
	steps, err := toolchain.ParseBuildOrder(filepath.Join(dir, cfg.Toolchain.BuildOrder))
	if err != nil {
		return nil, err
	}
	var specs []string
	for _, s := range steps {
		if s.Kind == toolchain.Build && !slices.Contains(specs, s.Spec) {
			specs = append(specs, s.Spec)
		}
	}
	macroSpecs, err := macroSpecDirs(ex, cfg)
	if err != nil {
		return nil, err
	}
	for _, s := range append(specs, macroSpecs...) {
		if err := copyTree(ex, path.Join(cfg.Project.SpecsDir, s), dir); err != nil {
			return nil, err
		}
	}

	var b bytes.Buffer
	vars := struct {
		project.Config
		Name, MacroSpecs, Manifest, ImageConfig, Date string
	}{cfg, name, strings.Join(macroSpecs, ", "), cfg.Toolchain.Manifest, imageConfig(name), time.Now().Format("Mon Jan 02 2006")}
	write := func(rel string, data []byte, perm os.FileMode) error {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, data, perm)
	}
	render := func(rel, tmplName string) error {
		b.Reset()
		if err := tmpl.ExecuteTemplate(&b, tmplName, vars); err != nil {
			return err
		}
		return write(rel, b.Bytes(), 0o644)
	}
	if err := render(project.FileName, "slipway.toml.tmpl"); err != nil {
		return nil, err
	}

	// hello: its source as it is, its spec, its signatures.
	hello := filepath.Join(cfg.Project.SpecsDir, "hello")
	helloC, err := templates.ReadFile("template/hello.c")
	if err != nil {
		return nil, err
	}
	if err := write(filepath.Join(hello, "hello.c"), helloC, 0o644); err != nil {
		return nil, err
	}
	if err := render(filepath.Join(hello, "hello.spec"), "hello.spec.tmpl"); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(helloC)
	if err := source.WriteSignatures(filepath.Join(dir, hello, "hello.signatures.json"),
		map[string]string{"hello.c": hex.EncodeToString(sum[:])}); err != nil {
		return nil, err
	}

	// The container image: its config and package list.
	list, err := jsonFile(struct {
		Comment  string   `json:"_comment"`
		Packages []string `json:"packages"`
	}{"The packages of the " + name + " container image; dnf adds what they require.", imagePackages})
	if err != nil {
		return nil, err
	}
	if err := write(filepath.Join("imageconfigs", "packagelists", name+".json"), list, 0o644); err != nil {
		return nil, err
	}
	type artifact struct{ Name, Type string }
	type system struct {
		Name         string
		PackageLists []string
	}
	config, err := jsonFile(struct {
		Disks         []struct{ Artifacts []artifact }
		SystemConfigs []system
	}{
		Disks:         []struct{ Artifacts []artifact }{{Artifacts: []artifact{{Name: name, Type: "tar.gz"}}}},
		SystemConfigs: []system{{Name: name + " container", PackageLists: []string{"packagelists/" + name + ".json"}}},
	})
	if err != nil {
		return nil, err
	}
	if err := write(imageConfig(name), config, 0o644); err != nil {
		return nil, err
	}
	if err := write(".gitignore", []byte("# slipway's state and results\n/build/\n/out/\n"), 0o644); err != nil {
		return nil, err
	}
	return append(specs, macroSpecs...), nil
}

// macroSpecDirs names the spec directories that hold the example's macro
// files.
func macroSpecDirs(ex fs.FS, cfg project.Config) ([]string, error) {
	var dirs []string
	for _, pattern := range cfg.RPM.MacroFiles {
		matches, err := fs.Glob(ex, pattern)
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			rel, ok := strings.CutPrefix(m, cfg.Project.SpecsDir+"/")
			if !ok {
				return nil, fmt.Errorf("example macro file %s is not in a spec directory", m)
			}
			if d, _, _ := strings.Cut(rel, "/"); !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs, nil
}

// copyTree copies the directory root of fsys to the same path under dir.
// A file starting with "#!" is made executable (embedded files have no
// modes).
func copyTree(fsys fs.FS, root, dir string) error {
	if _, err := fs.Stat(fsys, root); err != nil {
		return fmt.Errorf("the bundled example has no %s: %w", root, err)
	}
	return fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		perm := os.FileMode(0o644)
		if bytes.HasPrefix(data, []byte("#!")) {
			perm = 0o755
		}
		return os.WriteFile(dst, data, perm)
	})
}

// jsonFile is v as an indented JSON file, the way Azure Linux's image
// configs are written.
func jsonFile(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
