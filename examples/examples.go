// Package examples embeds the bundled example projects, so every slipway
// command has a project to work on even outside one.
package examples

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"slipway/internal/fsutil"
)

// tiny is the bundled example distribution (examples/tiny): its inputs
// only, never a build/ or out/ directory a local run left there.
//
//go:embed tiny/slipway.toml tiny/SPECS tiny/toolchain tiny/imageconfigs
var tiny embed.FS

// DefaultName is the example commands use when no project is given.
const DefaultName = "tiny"

// FS is the bundled example project, its slipway.toml at the root.
func FS() fs.FS {
	sub, err := fs.Sub(tiny, DefaultName)
	if err != nil {
		panic(err) // DefaultName is a valid path
	}
	return sub
}

// Extract writes the example into <root>/<name>-<digest>/ (once: the
// directory is named by the content digest and made atomically) and
// returns its path. Its build/ directory persists there between runs.
func Extract(root string) (string, error) {
	sub := FS()
	digest, err := digestFS(sub)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, DefaultName+"-"+digest[:12])
	if err := fsutil.MakeDirOnce(dir, func(tmp string) error { return os.CopyFS(tmp, sub) }); err != nil {
		return "", err
	}
	return dir, nil
}

func digestFS(fsys fs.FS) (string, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return "", err
		}
		h.Write([]byte(f + "\x00"))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
