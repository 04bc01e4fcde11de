package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"slipway/internal/spec"
)

// formatVersion changes when slipway makes images differently.
const formatVersion = "compose v1"

// inputsKey hashes everything an image is made from: the config's
// directory (the config, package lists, files, scripts), the repositories'
// metadata (which names every RPM by digest), the time and UUID settings.
func (j *job) inputsKey() (string, error) {
	h := sha256.New()
	dirHash, err := spec.HashDir(j.o.Config.Dir())
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "%s\n%s\n%s\n%d\n%s\n", formatVersion, j.o.Config.Path(), dirHash, j.epoch, j.o.Seed)
	for _, r := range j.o.Repos {
		data, err := os.ReadFile(filepath.Join(r, "repodata", "repomd.xml"))
		if err != nil {
			return "", fmt.Errorf("repository %s: %w", r, err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(h, "%s %x\n", r, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// previous returns the last run's result when it was made from the same
// inputs and its artifacts are still there, unchanged in size.
func previous(outDir, key string) *Result {
	data, err := os.ReadFile(filepath.Join(outDir, "manifest.json"))
	if err != nil {
		return nil
	}
	var doc manifestDoc
	if json.Unmarshal(data, &doc) != nil || doc.Inputs != key || len(doc.Artifacts) == 0 {
		return nil
	}
	res := &Result{Packages: doc.Packages, Steps: doc.Steps, Reused: true}
	for _, a := range doc.Artifacts {
		a.Path = filepath.Join(outDir, a.Path)
		if st, err := os.Stat(a.Path); err != nil || st.Size() != a.Size {
			return nil
		}
		res.Artifacts = append(res.Artifacts, a)
	}
	return res
}
