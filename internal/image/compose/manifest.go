package compose

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"slipway/internal/fsutil"
)

// Package is one package installed in the image, and where it came from.
type Package struct {
	Name   string `json:"name"`
	EVR    string `json:"evr"`
	Arch   string `json:"arch"`
	File   string `json:"file"`
	Repo   string `json:"repo"`   // the repository directory it was installed from
	SHA256 string `json:"sha256"` // of the RPM file
	// From is the remote repository and URL the RPM was downloaded from
	// (Options.Origins); "" for one built here.
	From string `json:"from,omitempty"`
}

// manifest lists what the root's rpm database holds and finds each
// package's RPM in the repositories.
func (j *job) manifest(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "rpm", "--root", j.root.Path(), "--dbpath", "/var/lib/rpm", "-qa",
		"--qf", `%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\n`)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("rpm -qa in the image root: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	byFile := map[string]string{} // RPM file name -> repository
	for i := len(j.o.Repos) - 1; i >= 0; i-- {
		files, _ := filepath.Glob(filepath.Join(j.o.Repos[i], "*.rpm"))
		more, _ := filepath.Glob(filepath.Join(j.o.Repos[i], "*", "*.rpm"))
		for _, f := range append(files, more...) {
			byFile[filepath.Base(f)] = f
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 {
			continue
		}
		p := Package{Name: f[0], EVR: f[1], Arch: f[2]}
		evr := p.EVR[strings.Index(p.EVR, ":")+1:]
		p.File = fmt.Sprintf("%s-%s.%s.rpm", p.Name, evr, p.Arch)
		if path, ok := byFile[p.File]; ok {
			sum, err := fsutil.SHA256File(path)
			if err != nil {
				return err
			}
			p.Repo, p.SHA256, p.From = filepath.Dir(path), sum, j.o.Origins[p.File]
		}
		j.res.Packages = append(j.res.Packages, p)
	}
	sort.Slice(j.res.Packages, func(a, b int) bool { return j.res.Packages[a].Name < j.res.Packages[b].Name })
	if len(j.res.Packages) == 0 {
		return fmt.Errorf("the image root's rpm database lists no package")
	}
	return nil
}

// manifestDoc is out/images/<name>/manifest.json: the config, the key of
// its inputs, the packages installed, the artifacts (file names beside the
// manifest) and the time of each step.
type manifestDoc struct {
	Config    string     `json:"config"`
	Inputs    string     `json:"inputs"`
	Packages  []Package  `json:"packages"`
	Artifacts []Artifact `json:"artifacts"`
	Steps     []Step     `json:"steps"`
}

func manifestJSON(config, inputs string, r *Result) ([]byte, error) {
	doc := manifestDoc{Config: config, Inputs: inputs, Packages: r.Packages, Steps: r.Steps}
	for _, a := range r.Artifacts {
		a.Path = filepath.Base(a.Path)
		doc.Artifacts = append(doc.Artifacts, a)
	}
	return json.MarshalIndent(doc, "", "  ")
}
