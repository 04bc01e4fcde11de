// Package scaffold makes a new slipway project that builds as it is: the
// bundled example's toolchain (its specs, build order, manifest and
// bootstrap root), with a package and a container image of its own.
package scaffold

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"slipway/internal/project"
)

// NameRule says what a project name may be made of.
const NameRule = "a-z, 0-9, '.', '_' and '-', starting with a letter"

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9._-]*$`)

var (
	// ErrBadName is returned (wrapped) for a name that breaks NameRule.
	ErrBadName = errors.New("invalid project name")
	// ErrExists is returned (wrapped) when the directory already holds a
	// project, a non-empty SPECS/ or a file Init would write.
	ErrExists = errors.New("not writing over existing files")
)

// Options are the choices of a new project.
type Options struct {
	// Name is the project's name; "" means the directory's base name.
	Name string
}

// Result is what Init made.
type Result struct {
	Dir         string   // the project directory, absolute
	Name        string   // the project's name
	Files       []string // the files written, relative to Dir, sorted
	Specs       []string // the spec directories taken from the example, in build order
	ImageConfig string   // the image config, relative to Dir
}

// Init makes a new project in dir, which may exist. It refuses a directory
// holding a slipway.toml, a non-empty SPECS/ or any file it would write,
// and then changes nothing. The project is first written into a temporary
// directory, then moved into place, so a failure leaves none of it behind.
func Init(dir string, o Options) (*Result, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	name := o.Name
	if name == "" {
		name = filepath.Base(abs)
		if !nameRE.MatchString(name) {
			return nil, fmt.Errorf("%w %q (the directory's name): use %s", ErrBadName, name, NameRule)
		}
	} else if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("%w %q: use %s", ErrBadName, name, NameRule)
	}

	fi, err := os.Stat(abs)
	exists := err == nil
	switch {
	case exists && !fi.IsDir():
		return nil, fmt.Errorf("%w: %s is not a directory", ErrExists, dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if exists {
		if err := checkProject(dir); err != nil {
			return nil, err
		}
	}

	// The temporary directory is in dir when it exists (it may be the
	// only place writable), else beside it.
	stageIn := abs
	if !exists {
		stageIn = filepath.Dir(abs)
		if err := os.MkdirAll(stageIn, 0o755); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp(stageIn, ".slipway-init-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // nothing left once moved
	specs, err := fill(tmp, name)
	if err != nil {
		return nil, fmt.Errorf("writing the project: %w", err)
	}
	files, err := listFiles(tmp)
	if err != nil {
		return nil, err
	}
	if exists {
		if err := checkFiles(dir, files); err != nil {
			return nil, err
		}
		err = moveInto(tmp, abs)
	} else if err = os.Chmod(tmp, 0o755); err == nil {
		err = os.Rename(tmp, abs)
	}
	if err != nil {
		return nil, err
	}
	return &Result{Dir: abs, Name: name, Files: files, Specs: specs, ImageConfig: imageConfig(name)}, nil
}

// checkProject refuses a directory that already is a project, or has specs.
func checkProject(dir string) error {
	toml := filepath.Join(dir, project.FileName)
	if _, err := os.Lstat(toml); err == nil {
		return fmt.Errorf("%w: %s exists (%s is a slipway project already)", ErrExists, toml, dir)
	}
	specs := filepath.Join(dir, "SPECS")
	entries, err := os.ReadDir(specs)
	if err == nil && len(entries) > 0 {
		return fmt.Errorf("%w: %s is not empty", ErrExists, specs)
	}
	return nil
}

// checkFiles refuses files (relative to dir) that exist, or whose place
// is taken by something that is not a directory.
func checkFiles(dir string, files []string) error {
	var taken []string
	for _, f := range files {
		for p := f; p != "."; p = filepath.Dir(p) {
			fi, err := os.Lstat(filepath.Join(dir, p))
			if err == nil && (p == f || !fi.IsDir()) {
				if q := filepath.Join(dir, p); !slices.Contains(taken, q) {
					taken = append(taken, q)
				}
				break
			}
		}
	}
	switch len(taken) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w: %s exists", ErrExists, taken[0])
	}
	const shown = 5
	more := ""
	if len(taken) > shown {
		more = fmt.Sprintf(" and %d more", len(taken)-shown)
		taken = taken[:shown]
	}
	return fmt.Errorf("%w: %q%s exist", ErrExists, taken, more)
}

// listFiles lists the files under root, relative to it, sorted.
func listFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		files = append(files, rel)
		return err
	})
	slices.Sort(files)
	return files, err
}

// moveInto moves what src holds into dst: an entry dst lacks is renamed
// whole, a directory dst has already is merged into. On failure what was
// moved is removed again.
func moveInto(src, dst string) error {
	var moved []string
	err := move(src, dst, &moved)
	if err != nil {
		for _, p := range slices.Backward(moved) {
			os.RemoveAll(p)
		}
	}
	return err
}

func move(src, dst string, moved *[]string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		fi, err := os.Lstat(d)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Rename(s, d); err != nil {
				return err
			}
			*moved = append(*moved, d)
		case err != nil:
			return err
		case e.IsDir() && fi.IsDir():
			if err := move(s, d, moved); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: %s exists", ErrExists, d)
		}
	}
	return nil
}
