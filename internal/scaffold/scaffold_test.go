package scaffold

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"slipway/examples"
	"slipway/internal/image"
	"slipway/internal/project"
	"slipway/internal/source"
	"slipway/internal/testutil"
	"slipway/internal/workspace"
)

func TestInitMakesAProjectThatLoads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "acme")
	res, err := Init(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "acme" || res.Dir != dir || res.ImageConfig != "imageconfigs/acme-container.json" {
		t.Errorf("result %+v", res)
	}
	want := []string{"slipway.toml", ".gitignore", "SPECS/hello/hello.c", "SPECS/hello/hello.spec", "SPECS/hello/hello.signatures.json",
		"SPECS/tiny-rpm-macros/macros.tiny", "SPECS/tiny-rpm-config/tiny-rpm-config.spec", "SPECS/bzip2/bzip2.signatures.json",
		"toolchain/toolchain_build_order.txt", "toolchain/toolchain_x86_64.txt", "toolchain/bootstrap.toml", "toolchain/README.md",
		"imageconfigs/acme-container.json", "imageconfigs/packagelists/acme.json"}
	for _, f := range want {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil || !slices.Contains(res.Files, f) {
			t.Errorf("%s: %v (listed: %v)", f, err, slices.Contains(res.Files, f))
		}
	}
	if len(res.Specs) != 16 || res.Specs[0] != "tiny-rpm-config" || res.Specs[15] != "tiny-rpm-macros" {
		t.Errorf("specs %v", res.Specs)
	}
	if fi, err := os.Stat(filepath.Join(dir, "SPECS/tiny-rpm-config/debrepack")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("debrepack: %v %v", fi.Mode(), err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
		t.Errorf("%s has mode %v", dir, fi.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".slipway-init-*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}

	// The example's spec directories are copied whole.
	for _, s := range res.Specs {
		fs.WalkDir(examples.FS(), "SPECS/"+s, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			want, _ := fs.ReadFile(examples.FS(), p)
			if got, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(got) != string(want) {
				t.Errorf("%s: %v, or not the example's", p, err)
			}
			return nil
		})
	}

	// Every signature of every spec directory is its file's SHA-256.
	sigFiles, _ := filepath.Glob(filepath.Join(dir, "SPECS", "*", "*.signatures.json"))
	if len(sigFiles) < 2 || !slices.Contains(sigFiles, filepath.Join(dir, "SPECS/hello/hello.signatures.json")) {
		t.Errorf("signatures files: %v", sigFiles)
	}
	for _, f := range sigFiles {
		sigs, err := source.ReadSignatures(f)
		if err != nil {
			t.Fatal(err)
		}
		for name, sum := range sigs {
			data, err := os.ReadFile(filepath.Join(filepath.Dir(f), name))
			if got := sha256.Sum256(data); err != nil || hex.EncodeToString(got[:]) != sum {
				t.Errorf("%s: %s: %v, sha256 differs", f, name, err)
			}
		}
	}
	spec, _ := os.ReadFile(filepath.Join(dir, "SPECS/hello/hello.spec"))
	if !strings.Contains(string(spec), "%global distro_name acme\n") {
		t.Errorf("hello.spec:\n%s", spec)
	}

	p, err := project.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The example's settings, but the name.
	data, _ := fs.ReadFile(examples.FS(), project.FileName)
	ex, err := project.Parse("example", data)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Config
	if c.Project.Name != "acme" || !reflect.DeepEqual(c.RPM, ex.RPM) || !reflect.DeepEqual(c.Toolchain, ex.Toolchain) ||
		!reflect.DeepEqual(c.Sources, ex.Sources) || !reflect.DeepEqual(c.Images, ex.Images) {
		t.Errorf("config %+v, the example's %+v", c, ex)
	}

	// The tree evaluates, hello is a build of the package stage, and the
	// image config is valid, every package known.
	testutil.RequireSpecEval(t)
	tree, err := workspace.Load(context.Background(), p, workspace.Options{})
	if err != nil || len(tree.Eval.Errors) > 0 {
		t.Fatalf("%v %v", err, tree.Eval.Errors)
	}
	i, ok := tree.Graph.Lookup("hello")
	if !ok || tree.Graph.Nodes[i].Prebuilt {
		t.Fatalf("hello in the graph: %v %+v", ok, tree.Graph.Nodes[i])
	}
	if _, ok := tree.Graph.Lookup("gcc"); !ok {
		t.Error("no gcc in the graph")
	}
	cfg, err := image.Load(filepath.Join(dir, res.ImageConfig))
	if err != nil {
		t.Fatal(err)
	}
	known := func(name string) bool { _, ok := tree.Graph.Lookup(name); return ok }
	if problems := image.Validate(cfg, image.Options{KnownPackage: known}); len(problems) > 0 {
		t.Errorf("image config: %v", problems)
	}
}

func TestInitIntoAnEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "SPECS"), 0o755)
	os.WriteFile(filepath.Join(dir, "NOTES"), []byte("mine\n"), 0o644)
	res, err := Init(dir, Options{Name: "my-distro.2"})
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "NOTES")); string(data) != "mine\n" {
		t.Error("NOTES changed")
	}
	if _, err := os.Stat(filepath.Join(dir, "SPECS/hello/hello.spec")); err != nil {
		t.Error(err)
	}
	if _, err := project.Load(dir); err != nil {
		t.Error(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".slipway-init-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	if res.ImageConfig != "imageconfigs/my-distro.2-container.json" {
		t.Errorf("image config %s", res.ImageConfig)
	}
}

func TestInitRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"project", map[string]string{"slipway.toml": "[project]\n"}, "slipway.toml exists"},
		{"specs", map[string]string{"SPECS/foo/foo.spec": ""}, "SPECS is not empty"},
		{"file", map[string]string{".gitignore": "x\n", "imageconfigs/a.json": "{}"}, ".gitignore exists"},
		{"not a directory", map[string]string{"toolchain": "x\n"}, "toolchain exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for f, data := range tc.files {
				os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
				os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644)
			}
			before := snapshot(t, dir)
			_, err := Init(dir, Options{Name: "acme"})
			if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), filepath.Join(dir, tc.want)) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
			if after := snapshot(t, dir); !slices.Equal(before, after) {
				t.Errorf("changed:\n%v\n%v", before, after)
			}
		})
	}
}

func TestInitRefusesABadName(t *testing.T) {
	parent := t.TempDir()
	for _, name := range []string{"Acme", "9lives", "a b", "a/b", "-x", "acme+"} {
		if _, err := Init(filepath.Join(parent, "x"), Options{Name: name}); !errors.Is(err, ErrBadName) || !strings.Contains(err.Error(), NameRule) {
			t.Errorf("%q: %v", name, err)
		}
	}
	// The directory's name, when no name is given.
	if _, err := Init(filepath.Join(parent, "My Distro"), Options{}); !errors.Is(err, ErrBadName) || !strings.Contains(err.Error(), "directory's name") {
		t.Errorf("directory name: %v", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("made %v", entries)
	}
}

// snapshot lists the files under dir with their contents.
func snapshot(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(p)
		out = append(out, p+"="+string(data))
		return nil
	})
	return out
}
