// Package toolchain is slipway's first stage: it produces the set of RPMs
// every package build root is made from, by rebuilding the toolchain specs
// in order, downloading them, or taking them from an archive, and checks
// the result against the toolchain manifest.
package toolchain

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"slipway/internal/graph"
)

// StepKind is what a line of the build order does.
type StepKind string

const (
	// Build builds a spec in the toolchain root.
	Build StepKind = "BUILD"
	// Install installs RPMs of a spec built earlier into the toolchain root,
	// so later builds can use them.
	Install StepKind = "INSTALL"
)

// Step is one line of a build order file.
type Step struct {
	Kind StepKind
	// Spec names the spec (BUILD) or, for INSTALL, the spec or package whose
	// RPMs are installed.
	Spec string
	// Prefix, for INSTALL, limits it to RPMs whose names start with it.
	Prefix string
	File   string
	Line   int
}

func (s Step) where() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// ParseBuildOrder reads a build order in Azure Linux's format: one step a
// line, "BUILD <spec>" or "INSTALL <name> [<rpm-name-prefix>]"; blank
// lines and # comments are ignored. Every problem is reported, with its line.
func ParseBuildOrder(path string) ([]Step, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var steps []Step
	var errs []error
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		s := Step{Kind: StepKind(fields[0]), File: path, Line: line}
		switch {
		case s.Kind == Build && len(fields) == 2:
			s.Spec = fields[1]
		case s.Kind == Install && (len(fields) == 2 || len(fields) == 3):
			s.Spec = fields[1]
			if len(fields) == 3 {
				s.Prefix = fields[2]
			}
		default:
			errs = append(errs, fmt.Errorf("%s:%d: %q: want \"BUILD <spec>\" or \"INSTALL <name> [<rpm-prefix>]\"", path, line, strings.TrimSpace(text)))
			continue
		}
		steps = append(steps, s)
	}
	if err := errors.Join(append(errs, sc.Err())...); err != nil {
		return nil, err
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("%s: no BUILD step", path)
	}
	return steps, nil
}

// ReadRPMList reads a manifest of RPM file names, one a line (Azure
// Linux's toolchain_<arch>.txt), checking each is a well-formed name.
func ReadRPMList(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var names []string
	var errs []error
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, err := graph.ParseRPMFileName(line); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", path, i+1, err))
			continue
		}
		names = append(names, line)
	}
	return names, errors.Join(errs...)
}

// MismatchError says how a set of RPMs differs from the manifest.
type MismatchError struct {
	Manifest string
	Missing  []string // in the manifest, not produced
	Extra    []string // produced, not in the manifest
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the toolchain does not match %s:", e.Manifest)
	if len(e.Missing) > 0 {
		fmt.Fprintf(&b, "\n  missing (%d): %s", len(e.Missing), strings.Join(e.Missing, " "))
	}
	if len(e.Extra) > 0 {
		fmt.Fprintf(&b, "\n  not in the manifest (%d): %s", len(e.Extra), strings.Join(e.Extra, " "))
	}
	return b.String()
}

// CheckSet compares produced RPM file names with the manifest's.
func CheckSet(manifestPath string, manifest, got []string) error {
	want := map[string]bool{}
	for _, m := range manifest {
		want[m] = true
	}
	have := map[string]bool{}
	for _, g := range got {
		have[g] = true
	}
	e := &MismatchError{Manifest: manifestPath}
	for m := range want {
		if !have[m] {
			e.Missing = append(e.Missing, m)
		}
	}
	for g := range have {
		if !want[g] {
			e.Extra = append(e.Extra, g)
		}
	}
	if len(e.Missing) == 0 && len(e.Extra) == 0 {
		return nil
	}
	slices.Sort(e.Missing)
	slices.Sort(e.Extra)
	return e
}

// CheckSteps verifies a build order against the specs of the tree: every
// BUILD names a spec (a spec may be built again later), and every INSTALL names a
// spec (or a package of a spec) built by an earlier step.
func CheckSteps(steps []Step, specs map[string][]string) error {
	var errs []error
	built := map[string]bool{}     // specs built so far
	pkgSpec := map[string]string{} // package -> spec, of built specs
	for _, s := range steps {
		switch s.Kind {
		case Build:
			pkgs, ok := specs[s.Spec]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: BUILD %s: no spec of that name in the specs directory", s.where(), s.Spec))
				continue
			}
			built[s.Spec] = true
			for _, p := range pkgs {
				pkgSpec[p] = s.Spec
			}
		case Install:
			if !built[s.Spec] && pkgSpec[s.Spec] == "" {
				errs = append(errs, fmt.Errorf("%s: INSTALL %s: no earlier BUILD step makes it", s.where(), s.Spec))
			}
		}
	}
	return errors.Join(errs...)
}
