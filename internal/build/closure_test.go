package build

import (
	"testing"

	"slipway/internal/graph"
	"slipway/internal/rpm"
)

func TestUnprovidedNamesWhatNothingProvides(t *testing.T) {
	s := &stage{
		opts: Options{Toolchain: []*rpm.Header{{Name: "glibc", Version: "2.36", Release: "1", Arch: "x86_64",
			Provides: []rpm.HeaderDep{{Name: "libc.so.6()(64bit)"}}, Files: []string{"/usr/lib64/libc.so.6"}}}},
		built: newProviderIndex(
			builtRPM{File: "app-1-1.x86_64.rpm", Name: "app", Requires: []rpm.HeaderDep{
				{Name: "libc.so.6()(64bit)"}, {Name: "libfoo.so.1()(64bit)"}, {Name: "/usr/bin/missing"},
				{Name: "rpmlib(PayloadIsZstd)", Flags: "<=", Version: "5.4.18-1", Type: "rpmlib"},
				{Name: "lib", Flags: ">=", Version: "2"}}},
			builtRPM{File: "lib-1-1.x86_64.rpm", Name: "lib", Provides: []rpm.HeaderDep{{Name: "lib", Flags: "=", Version: "1-1"}},
				Requires: []rpm.HeaderDep{{Name: "/usr/lib64/libc.so.6"}, {Name: "libfoo.so.1()(64bit)"}}},
		),
	}
	got := s.unprovided()
	want := []graph.Unresolved{
		{Cap: "/usr/bin/missing", NeededBy: []string{"app"}},
		{Cap: "lib >= 2", NeededBy: []string{"app"}},
		{Cap: "libfoo.so.1()(64bit)", NeededBy: []string{"app", "lib"}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i].Cap != want[i].Cap || len(got[i].NeededBy) != len(want[i].NeededBy) || got[i].NeededBy[0] != want[i].NeededBy[0] {
			t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	s.opts.Toolchain = nil
	if got := s.unprovided(); got != nil {
		t.Errorf("without toolchain headers nothing can be judged: %+v", got)
	}
}

func TestProviderIgnoresInsertionOrder(t *testing.T) {
	a := builtRPM{File: "a-1-1.noarch.rpm", Name: "a", Provides: []rpm.HeaderDep{{Name: "cap"}}, Files: []string{"/usr/share/x/"}}
	b := builtRPM{File: "b-1-1.noarch.rpm", Name: "b", Provides: []rpm.HeaderDep{{Name: "cap"}}, Files: []string{"/usr/share/x"}}
	for _, x := range []*providerIndex{newProviderIndex(a, b), newProviderIndex(b, a)} {
		if i := x.provider(rpm.HeaderDep{Name: "cap"}); x.rpms[i].Name != "a" {
			t.Errorf("cap: got %s", x.rpms[i].Name)
		}
		if i := x.provider(rpm.HeaderDep{Name: "/usr/share/x"}); x.rpms[i].Name != "a" {
			t.Errorf("/usr/share/x: got %s", x.rpms[i].Name)
		}
	}
}
