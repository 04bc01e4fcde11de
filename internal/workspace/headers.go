package workspace

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"slipway/internal/fsutil"
	"slipway/internal/graph"
	"slipway/internal/project"
	"slipway/internal/rpm"
)

// ToolchainRepoDir is where the toolchain stage puts the toolchain's RPMs
// (a repository the package stage installs from).
func ToolchainRepoDir(buildDir string) string { return filepath.Join(buildDir, "toolchain", "RPMS") }

// LearnedPath is where the package stage saves what its RPMs provide
// (graph.Input.Learned).
func LearnedPath(buildDir string) string { return filepath.Join(buildDir, "learned-provides.json") }

// cachedHeader is a header with the file state it was read at.
type cachedHeader struct {
	Size    int64       `json:"size"`
	ModTime int64       `json:"mtime"`
	Header  *rpm.Header `json:"header"`
}

// toolchainHeaders reads the headers of the RPMs in the toolchain
// repository, in file name order; none if there is no repository yet.
// Headers are cached (by file size and modification time) beside it.
func toolchainHeaders(p *project.Project) ([]*rpm.Header, error) {
	buildDir := p.Path(p.Config.Project.BuildDir)
	return readHeaders(ToolchainRepoDir(buildDir), filepath.Join(buildDir, "toolchain", "headers.json"))
}

// readHeaders reads the headers of dir's *.rpm files, using and updating
// the cache file.
func readHeaders(dir, cacheFile string) ([]*rpm.Header, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.rpm"))
	if err != nil || len(files) == 0 {
		return nil, err
	}
	cache := map[string]cachedHeader{}
	if data, err := os.ReadFile(cacheFile); err == nil {
		json.Unmarshal(data, &cache) // a bad cache is rebuilt
	}
	fresh := map[string]cachedHeader{}
	var out []*rpm.Header
	changed := false
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(f)
		c, ok := cache[name]
		if !ok || c.Size != st.Size() || c.ModTime != st.ModTime().UnixNano() || c.Header == nil {
			h, err := rpm.ReadHeader(f)
			if err != nil {
				return nil, err
			}
			c, changed = cachedHeader{Size: st.Size(), ModTime: st.ModTime().UnixNano(), Header: h}, true
		}
		fresh[name] = c
		out = append(out, c.Header)
	}
	if changed || len(fresh) != len(cache) {
		data, err := json.Marshal(fresh)
		if err == nil {
			err = fsutil.WriteCacheFile(cacheFile, data, 0o644)
		}
		if err != nil {
			return nil, fmt.Errorf("caching RPM headers: %w", err)
		}
	}
	return out, nil
}

// withHeaders completes the manifest's packages with what the toolchain
// repository's RPM headers say they provide and hold.
func withHeaders(pre []graph.Prebuilt, headers []*rpm.Header) []graph.Prebuilt {
	byFile := map[string]*rpm.Header{}
	for _, h := range headers {
		byFile[h.FileName()] = h
	}
	out := slices.Clone(pre)
	for i, p := range out {
		if h := byFile[p.Name+"-"+p.EVR+"."+p.Arch+".rpm"]; h != nil {
			out[i] = graph.PrebuiltFromHeader(h)
		}
	}
	return out
}
