// Package image reads Azure Linux image configs. For now it knows what the
// package stage needs from them: the packages an image installs.
package image

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// configPackages is the part of an image config that names packages.
type configPackages struct {
	SystemConfigs []struct {
		Name          string            `json:"Name"`
		PackageLists  []string          `json:"PackageLists"`
		Packages      []string          `json:"Packages"`
		KernelOptions map[string]string `json:"KernelOptions"`
	} `json:"SystemConfigs"`
}

// packageList is a package list file: {"packages": ["name", ...]}.
type packageList struct {
	Packages []string `json:"packages"`
}

// Packages returns the sorted, de-duplicated package names an image config
// installs: the Packages of each system config, the contents of its
// PackageLists (relative to the config file's directory) and the kernel
// packages its KernelOptions name.
func Packages(configPath string) ([]string, error) {
	var cfg configPackages
	if err := readJSON(configPath, &cfg); err != nil {
		return nil, err
	}
	if len(cfg.SystemConfigs) == 0 {
		return nil, fmt.Errorf("%s: no SystemConfigs", configPath)
	}
	seen := map[string]bool{}
	add := func(names []string) {
		for _, n := range names {
			seen[n] = true
		}
	}
	for i, sc := range cfg.SystemConfigs {
		add(sc.Packages)
		for _, k := range sc.KernelOptions {
			if k != "" {
				add([]string{k})
			}
		}
		for j, l := range sc.PackageLists {
			var list packageList
			path := filepath.Join(filepath.Dir(configPath), l)
			if err := readJSON(path, &list); err != nil {
				return nil, fmt.Errorf("%s: SystemConfigs[%d].PackageLists[%d]: %w", configPath, i, j, err)
			}
			add(list.Packages)
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		if se, ok := err.(*json.SyntaxError); ok {
			line, col := lineCol(data, se.Offset)
			return fmt.Errorf("%s:%d:%d: %v", path, line, col, err)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(data []byte, offset int64) (int, int) {
	line, col := 1, 1
	for i := int64(0); i < offset-1 && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
