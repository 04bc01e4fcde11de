// Package report renders a slipway run as one self-contained HTML file
// (build/report.html): stages, a timeline of the package stage's workers,
// every package's decision with its log, and the image artifacts. The page
// is rendered on the server side (HTML and inline SVG, no script and no
// external resource), so it reads the same from file:// anywhere.
package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"slipway/internal/build"
	"slipway/internal/fsutil"
)

// Run is what report.html shows.
type Run struct {
	Project  string
	Command  string
	Start    time.Time
	Duration time.Duration
	Stages   []Stage
	Packages []Package
	// Workers is the package stage's worker count (lanes of the timeline).
	Workers   int
	Artifacts []Artifact
}

// Stage is one stage of the run (toolchain, packages, images).
type Stage struct {
	Name, Summary string
	Duration      time.Duration
	Failed        bool
}

// Package is one spec's outcome in the package stage.
type Package struct {
	Spec, Decision, Reason, Blocker, Log string
	// Worker is the worker that ran the build, 1..N; 0: it ran on none
	// (reused, blocked, from the toolchain).
	Worker     int
	Start, End time.Time
	Duration   time.Duration
}

// Artifact is one file an image config produced.
type Artifact struct {
	Image, Type, Path string
	Size              int64
}

// Packages converts the package stage's summary into report rows. The
// stage numbers workers from 0 (-1: none); rows number them from 1.
func Packages(sum *build.Summary) []Package {
	if sum == nil {
		return nil
	}
	rows := make([]Package, 0, len(sum.Results))
	for _, r := range sum.Results {
		p := Package{Spec: r.Spec, Decision: string(r.Decision), Reason: r.Reason, Blocker: r.Blocker,
			Log: r.Log, Start: r.Start, End: r.End, Duration: r.Duration}
		if r.Worker >= 0 {
			p.Worker = r.Worker + 1
			if r.End.After(r.Start) {
				p.Duration = r.End.Sub(r.Start)
			}
		}
		rows = append(rows, p)
	}
	return rows
}

// Write renders r into path atomically; links to logs and artifacts are
// relative to the report's directory when they are under it.
func Write(path string, r Run) error {
	data, err := render(path, r)
	if err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return fsutil.WriteFileAtomic(path, data, 0o644)
}

//go:embed report.html.tmpl
var pageText string

var page = template.Must(template.New("report").Funcs(template.FuncMap{"dur": fmtDuration}).Parse(pageText))

// view is what the template reads.
type view struct {
	Run
	Started   string
	Rows      []row
	Counts    []count
	Timeline  timeline
	Artifacts []artifactRow
}

type row struct {
	Package
	Link template.URL
}

type count struct {
	Decision string
	N        int
}

type artifactRow struct {
	Artifact
	MiB  string
	Link template.URL
}

func render(path string, r Run) ([]byte, error) {
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	v := view{Run: r, Timeline: layout(r.Packages, r.Workers)}
	if !r.Start.IsZero() {
		v.Started = r.Start.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	pkgs := slices.Clone(r.Packages)
	slices.SortStableFunc(pkgs, func(a, b Package) int {
		if d := rank(a.Decision) - rank(b.Decision); d != 0 {
			return d
		}
		return strings.Compare(a.Spec, b.Spec)
	})
	n := map[string]int{}
	for _, p := range pkgs {
		if n[p.Decision] == 0 {
			v.Counts = append(v.Counts, count{Decision: p.Decision})
		}
		n[p.Decision]++
		v.Rows = append(v.Rows, row{Package: p, Link: link(dir, p.Log)})
	}
	for i := range v.Counts {
		v.Counts[i].N = n[v.Counts[i].Decision]
	}
	for _, a := range r.Artifacts {
		v.Artifacts = append(v.Artifacts, artifactRow{Artifact: a,
			MiB: fmt.Sprintf("%.1f", float64(a.Size)/(1<<20)), Link: link(dir, a.Path)})
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// order is the package table's order of decisions; others come last.
var order = []string{string(build.Failed), string(build.Blocked), string(build.Built),
	string(build.Reused), string(build.Remote), string(build.Toolchain)}

func rank(decision string) int {
	if i := slices.Index(order, decision); i >= 0 {
		return i
	}
	return len(order)
}

// link is the href of file: relative to dir when file is under it,
// otherwise a file:// URL of its absolute path; empty for no file.
func link(dir, file string) template.URL {
	if file == "" {
		return ""
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return ""
	}
	if rel, err := filepath.Rel(dir, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		// url.URL escapes what a path may hold but a URL may not (#, ?, %).
		return template.URL((&url.URL{Path: filepath.ToSlash(rel)}).String())
	}
	return template.URL((&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String())
}

// fmtDuration is d for people: milliseconds under a second, tenths of a
// second under a minute, whole seconds above; empty for none.
func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}
