package build

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"slipway/internal/fsutil"
	"slipway/internal/repo"
)

// why is what the package stage last decided for a spec and the named
// inputs of its key, kept in build/why/<spec>.json for `slipway why`.
type why struct {
	Key      string            `json:"key"`
	Inputs   map[string]string `json:"inputs"`
	Decision Decision          `json:"decision"`
	Reason   string            `json:"reason"`
	Duration time.Duration     `json:"duration"`
}

func (s *stage) whyPath(name string) string {
	return filepath.Join(s.opts.BuildDir, "why", name+".json")
}

func (s *stage) readWhy(name string) why {
	var w why
	if data, err := os.ReadFile(s.whyPath(name)); err == nil {
		json.Unmarshal(data, &w)
	}
	return w
}

func (s *stage) writeWhy(name string, w why) {
	data, _ := json.MarshalIndent(w, "", "  ")
	fsutil.WriteFileAtomic(s.whyPath(name), data, 0o644)
}

// Why reads what the last package stage run decided for a spec.
func Why(buildDir, specName string) (decision Decision, reason string, err error) {
	data, err := os.ReadFile(filepath.Join(buildDir, "why", specName+".json"))
	if os.IsNotExist(err) {
		return "", "", fmt.Errorf("no package stage run has considered %s yet (run slipway build)", specName)
	}
	if err != nil {
		return "", "", err
	}
	var w why
	if err := json.Unmarshal(data, &w); err != nil {
		return "", "", err
	}
	return w.Decision, w.Reason, nil
}

// explain says in words which inputs differ from the last build's.
func explain(prev, cur map[string]string) string {
	if prev == nil {
		return "never built before"
	}
	var changed []string
	for _, k := range slices.Sorted(maps.Keys(cur)) {
		old, ok := prev[k]
		switch {
		case !ok && strings.HasPrefix(k, "root:"):
			changed = append(changed, strings.TrimPrefix(k, "root:")+" is new in the build root")
		case !ok:
			changed = append(changed, k+" is a new input")
		case old != cur[k]:
			changed = append(changed, describeChange(k, old, cur[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(prev)) {
		if _, ok := cur[k]; !ok && strings.HasPrefix(k, "root:") {
			changed = append(changed, strings.TrimPrefix(k, "root:")+" left the build root")
		}
	}
	if len(changed) == 0 {
		return "inputs unchanged, but the outputs are not in the store"
	}
	return strings.Join(changed, "; ")
}

func describeChange(k, old, cur string) string {
	switch {
	case k == "spec":
		return "the spec or a file beside it (a patch, a local source) changed"
	case k == "sources":
		return "a source changed"
	case k == "macros":
		return "the macro files or defines changed"
	case k == "generated":
		return "the version macros it uses changed"
	case k == "base":
		return "the toolchain changed"
	case k == "builder":
		return "how rpmbuild runs changed ([build] skip_check, or a new slipway)"
	case strings.HasPrefix(k, "root:"):
		pkg, was, now := strings.TrimPrefix(k, "root:"), strings.Fields(old), strings.Fields(cur)
		if len(was) == 2 && len(now) == 2 && was[0] == now[0] {
			return fmt.Sprintf("%s in the build root changed: rebuilt with different contents (%s, sha256 %.12s -> %.12s)", pkg, now[0], was[1], now[1])
		}
		return fmt.Sprintf("%s in the build root changed (%s -> %s)", pkg, strings.Fields(old)[0], strings.Fields(cur)[0])
	}
	return k + " changed"
}

func createRepo(ctx context.Context, dir string) error { return repo.Create(ctx, dir) }
