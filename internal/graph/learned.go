package graph

import (
	"encoding/json"
	"os"

	"slipway/internal/fsutil"
)

// ReadLearned reads what WriteLearned saved (see Input.Learned); nothing
// if the file is missing or unreadable: learned provides are a hint, the
// next build writes them again.
func ReadLearned(path string) []Prebuilt {
	var learned []Prebuilt
	if data, err := os.ReadFile(path); err == nil {
		if json.Unmarshal(data, &learned) != nil {
			return nil
		}
	}
	return learned
}

// WriteLearned saves what packages were seen to provide in their RPMs.
func WriteLearned(path string, learned []Prebuilt) error {
	data, err := json.Marshal(learned)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, data, 0o644)
}
