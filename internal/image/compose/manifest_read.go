package compose

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// ManifestFile is the name of the manifest Build writes beside the
// artifacts.
const ManifestFile = "manifest.json"

// Manifest is a manifest.json read back: what the last Build into its
// directory made.
type Manifest struct {
	Config string // the config's path
	Inputs string // the key of the inputs the image was made from
	Result        // Artifacts' Paths are in the manifest's directory
}

// ReadManifest reads outDir's manifest.json. An error wraps
// fs.ErrNotExist when there is none.
func ReadManifest(outDir string) (*Manifest, error) {
	path := filepath.Join(outDir, ManifestFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc manifestDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m := &Manifest{Config: doc.Config, Inputs: doc.Inputs, Result: Result{Packages: doc.Packages, Steps: doc.Steps}}
	for _, a := range doc.Artifacts {
		a.Path = filepath.Join(outDir, a.Path)
		m.Artifacts = append(m.Artifacts, a)
	}
	return m, nil
}
