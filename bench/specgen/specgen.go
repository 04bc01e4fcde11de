// Package specgen writes synthetic spec trees for benchmarks: many specs
// with subpackages, BuildRequires and Requires between them, conditionals
// and macros, shaped like a distro's SPECS/ directory.
package specgen

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
)

// Tree describes a generated tree.
type Tree struct {
	Dir   string   // the project directory (slipway.toml, SPECS/)
	Specs []string // spec paths, relative to SPECS/
}

// Generate writes a project with n specs into dir. The same n and seed
// give the same tree. Spec i depends only on specs with a lower index, so
// the tree has no build cycle and a long critical path.
func Generate(dir string, n int, seed int64) (*Tree, error) {
	rng := rand.New(rand.NewSource(seed))
	t := &Tree{Dir: dir}
	toml := `[project]
name = "synthetic"
[rpm]
dist_tag = ".syn1"
defines = ["with_check 0"]
`
	if err := os.MkdirAll(filepath.Join(dir, "SPECS"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "slipway.toml"), []byte(toml), 0o644); err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		name := Name(i)
		text := specText(i, rng)
		specDir := filepath.Join(dir, "SPECS", name)
		if err := os.MkdirAll(specDir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(specDir, name+".spec"), []byte(text), 0o644); err != nil {
			return nil, err
		}
		patch := fmt.Sprintf("--- a/%s.c\n+++ b/%s.c\n@@ -1 +1 @@\n-old %d\n+new %d\n", name, name, i, i)
		if err := os.WriteFile(filepath.Join(specDir, name+"-fix.patch"), []byte(patch), 0o644); err != nil {
			return nil, err
		}
		t.Specs = append(t.Specs, name+"/"+name+".spec")
	}
	return t, nil
}

// Name is the name of spec i.
func Name(i int) string { return fmt.Sprintf("pkg%04d", i) }

func specText(i int, rng *rand.Rand) string {
	var b strings.Builder
	fmt.Fprintf(&b, `%%global major %d
%%bcond_without docs
Name:           %s
Version:        %%{major}.%d.%d
Release:        %d%%{?dist}
Summary:        Synthetic package number %d
License:        MIT
URL:            https://example.invalid/%%{name}
Source0:        https://example.invalid/%%{name}-%%{version}.tar.gz
Patch0:         %%{name}-fix.patch
`, 1+i%7, Name(i), i%13, i%5, 1+i%3, i)
	// BuildRequires on a few earlier specs' -devel packages, some versioned.
	for _, d := range pick(rng, i, 4) {
		if rng.Intn(3) == 0 {
			fmt.Fprintf(&b, "BuildRequires:  %s-devel >= 1.0\n", Name(d))
		} else {
			fmt.Fprintf(&b, "BuildRequires:  %s-devel\n", Name(d))
		}
	}
	b.WriteString("%if %{with docs}\nBuildRequires:  doc-tools\n%endif\n")
	for _, d := range pick(rng, i, 2) {
		fmt.Fprintf(&b, "Requires:       %s-libs%%{?_isa}\n", Name(d))
	}
	fmt.Fprintf(&b, "Requires:       %%{name}-libs = %%{version}-%%{release}\nProvides:       synthetic(%d)\n", i)
	fmt.Fprintf(&b, `
%%description
Synthetic package %d.

%%package libs
Summary:        Libraries of %%{name}
%%description libs
Libraries.

%%package devel
Summary:        Headers of %%{name}
Requires:       %%{name}-libs = %%{version}-%%{release}
Provides:       pkgconfig(%%{name}) = %%{version}
%%description devel
Headers.

%%prep
%%autosetup -p1

%%build
%%make_build

%%install
%%make_install

%%files
/usr/bin/%%{name}

%%files libs
/usr/lib64/lib%%{name}.so.*

%%files devel
/usr/include/%%{name}.h

%%changelog
* Thu Jan 01 2026 Synthetic <synthetic@example.invalid> - 1
- Generated.
`, i)
	return b.String()
}

// pick returns up to k distinct indexes below i.
func pick(rng *rand.Rand, i, k int) []int {
	if i == 0 {
		return nil
	}
	seen := map[int]bool{}
	var out []int
	for j := 0; j < k; j++ {
		// Favour recent specs so chains are long, like real library stacks.
		d := i - 1 - rng.Intn(min(i, 50))
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}
