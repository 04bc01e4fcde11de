// Command repo measures reading rpm-md metadata with internal/repo: a
// synthetic repository of -n packages (10 provides, 15 requires and 3
// files each) is loaded cold (empty cache: copy, decompress, parse,
// snapshot) and warm (repomd.xml, then the snapshot), and for a baseline
// the same primary.xml is decoded whole with encoding/xml's Unmarshal.
// Each measurement runs in a process of its own, so that peak RSS is its
// own.
//
//	go run ./bench/repo [-n 20000]
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"slipway/internal/repo"
	"slipway/internal/repo/repotest"
)

// result is what one measuring process reports.
type result struct {
	Seconds  float64
	Packages int
	HeapMB   float64 // live heap after the load and a GC
	PeakRSS  float64 // MB, VmHWM
}

func main() {
	n := flag.Int("n", 20000, "packages in the synthetic repository")
	phase := flag.String("phase", "", "internal: the measurement this process makes")
	dir := flag.String("dir", "", "internal: the repository")
	cache := flag.String("cache", "", "internal: the cache directory")
	flag.Parse()
	if *phase != "" {
		res, err := measure(*phase, *dir, *cache)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	if err := run(*n); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(n int) error {
	work, err := os.MkdirTemp("", "slipway-bench-repo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	dir, cache := filepath.Join(work, "repo"), filepath.Join(work, "cache")
	primary := repotest.Primary(n)
	paths, err := repotest.WriteRepodata(dir, "gz", "sha256", repotest.File{Type: "primary", XML: primary})
	if err != nil {
		return err
	}
	st, err := os.Stat(paths["primary"])
	if err != nil {
		return err
	}
	fmt.Printf("synthetic repository: %d packages, primary.xml %.1f MB (%.1f MB gzip), %s, %d CPUs\n",
		n, mb(len(primary)), mb(int(st.Size())), runtime.Version(), runtime.NumCPU())

	self, err := os.Executable()
	if err != nil {
		return err
	}
	measureIn := func(phase string) (result, error) {
		var res result
		out, err := exec.Command(self, "-phase", phase, "-dir", dir, "-cache", cache).Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return res, fmt.Errorf("%s: %v: %s", phase, err, ee.Stderr)
			}
			return res, err
		}
		return res, json.Unmarshal(out, &res)
	}
	results := map[string]result{}
	for _, phase := range []string{"unmarshal", "stream", "cold", "warm", "warm2", "warm3"} {
		res, err := measureIn(phase)
		if err != nil {
			return err
		}
		if res.Packages != n {
			return fmt.Errorf("%s: %d packages, want %d", phase, res.Packages, n)
		}
		results[phase] = res
	}
	snaps, _ := filepath.Glob(filepath.Join(cache, "repos", "*", "*.snap"))
	if len(snaps) == 1 {
		if st, err := os.Stat(snaps[0]); err == nil {
			fmt.Printf("snapshot: %.1f MB\n", mb(int(st.Size())))
		}
	}
	base := results["unmarshal"].Seconds
	fmt.Printf("\n%-52s %9s %8s %9s %9s\n", "", "time", "vs base", "heap MB", "peak RSS")
	for _, row := range []struct{ phase, what string }{
		{"unmarshal", "baseline: gunzip + xml.Unmarshal of whole primary"},
		{"stream", "repo.ParsePrimary (gunzip + token stream)"},
		{"cold", "repo.Load, cold (copy, verify, parse, snapshot)"},
		{"warm", "repo.Load, warm (repomd.xml + snapshot)"},
		{"warm2", "repo.Load, warm, again"},
		{"warm3", "repo.Load, warm, again"},
	} {
		r := results[row.phase]
		fmt.Printf("%-52s %8.3fs %7.2fx %9.1f %8.1fMB\n", row.what, r.Seconds, r.Seconds/base, r.HeapMB, r.PeakRSS)
	}
	return nil
}

// measure makes one measurement in this process.
func measure(phase, dir, cache string) (result, error) {
	var (
		res  result
		keep any // what the phase loaded, live for the heap figure
		err  error
	)
	start := time.Now()
	switch phase {
	case "unmarshal":
		var md fullMetadata
		err = decodeGzip(dir, func(r io.Reader) error {
			data, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			return xml.Unmarshal(data, &md)
		})
		res.Packages, keep = len(md.Packages), &md
	case "stream":
		var pkgs []repo.Package
		err = decodeGzip(dir, func(r io.Reader) (err error) {
			pkgs, err = repo.ParsePrimary(r)
			return err
		})
		res.Packages, keep = len(pkgs), pkgs
	default: // cold, warm
		var r *repo.Repo
		r, err = repo.Load(context.Background(), repo.RepoConfig{ID: "bench", BaseURLs: []string{dir}}, repo.Options{CacheDir: cache})
		if err == nil {
			res.Packages, keep = len(r.Packages), r
		}
	}
	res.Seconds = time.Since(start).Seconds()
	if err != nil {
		return res, err
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapMB = mb(int(ms.HeapAlloc))
	runtime.KeepAlive(keep)
	res.PeakRSS, err = peakRSS()
	return res, err
}

// peakRSS reads the process's peak resident set size, in MB, from
// /proc (getrusage's would include the parent's from before exec).
func peakRSS() (float64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			_, err := fmt.Sscanf(strings.TrimSpace(v), "%f kB", &kb)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

// decodeGzip gives use the decompressed primary.xml of the repository.
func decodeGzip(dir string, use func(io.Reader) error) error {
	paths, _ := filepath.Glob(filepath.Join(dir, "repodata", "*-primary.xml.gz"))
	if len(paths) != 1 {
		return fmt.Errorf("no primary.xml.gz in %s", dir)
	}
	data, err := os.ReadFile(paths[0])
	if err != nil {
		return err
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return use(zr)
}

func mb(n int) float64 { return float64(n) / (1 << 20) }

// fullMetadata is primary.xml decoded whole, every field.
type fullMetadata struct {
	Packages []struct {
		Type    string `xml:"type,attr"`
		Name    string `xml:"name"`
		Arch    string `xml:"arch"`
		Version struct {
			Epoch string `xml:"epoch,attr"`
			Ver   string `xml:"ver,attr"`
			Rel   string `xml:"rel,attr"`
		} `xml:"version"`
		Checksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"checksum"`
		Summary     string `xml:"summary"`
		Description string `xml:"description"`
		Packager    string `xml:"packager"`
		URL         string `xml:"url"`
		Time        struct {
			File  int64 `xml:"file,attr"`
			Build int64 `xml:"build,attr"`
		} `xml:"time"`
		Size struct {
			Package   int64 `xml:"package,attr"`
			Installed int64 `xml:"installed,attr"`
			Archive   int64 `xml:"archive,attr"`
		} `xml:"size"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
		Format struct {
			License     string `xml:"license"`
			Vendor      string `xml:"vendor"`
			Group       string `xml:"group"`
			Buildhost   string `xml:"buildhost"`
			SourceRPM   string `xml:"sourcerpm"`
			HeaderRange struct {
				Start int64 `xml:"start,attr"`
				End   int64 `xml:"end,attr"`
			} `xml:"header-range"`
			Provides  []entry `xml:"provides>entry"`
			Requires  []entry `xml:"requires>entry"`
			Conflicts []entry `xml:"conflicts>entry"`
			Obsoletes []entry `xml:"obsoletes>entry"`
			Files     []struct {
				Type string `xml:"type,attr"`
				Path string `xml:",chardata"`
			} `xml:"file"`
		} `xml:"format"`
	} `xml:"package"`
}

type entry struct {
	Name  string `xml:"name,attr"`
	Flags string `xml:"flags,attr"`
	Epoch string `xml:"epoch,attr"`
	Ver   string `xml:"ver,attr"`
	Rel   string `xml:"rel,attr"`
	Pre   string `xml:"pre,attr"`
}
