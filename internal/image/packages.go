package image

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// Packages returns the sorted, de-duplicated package names an image config
// installs: the Packages of each system config, the contents of its
// PackageLists (relative to the config file's directory) and the kernel
// packages its KernelOptions name.
func Packages(configPath string) ([]string, error) {
	cfg, err := Load(configPath)
	if err != nil {
		return nil, err
	}
	return cfg.Packages()
}

// Packages is Packages of a loaded config.
func (cfg *Config) Packages() ([]string, error) {
	configPath := cfg.Path()
	if len(cfg.SystemConfigs) == 0 {
		return nil, fmt.Errorf("%s: no SystemConfigs", configPath)
	}
	seen := map[string]bool{}
	for i, sc := range cfg.SystemConfigs {
		for _, n := range sc.Packages {
			seen[n] = true
		}
		for _, k := range kernels(sc.KernelOptions) {
			seen[k] = true
		}
		for j, l := range sc.PackageLists {
			list, err := LoadPackageList(cfg.resolve(l))
			if err != nil {
				return nil, fmt.Errorf("%s: SystemConfigs[%d].PackageLists[%d]: %w", configPath, i, j, err)
			}
			for _, n := range list.Packages {
				seen[n] = true
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// kernels returns the kernel packages of KernelOptions, sorted by option;
// keys starting with "_" are comments.
func kernels(opts map[string]string) []string {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		if !strings.HasPrefix(k, "_") && strings.TrimSpace(opts[k]) != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = opts[k]
	}
	return out
}

// resolve turns a path of the config (relative to its directory) into one
// usable from the current directory.
func (c *Config) resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir(), p)
}
