// Package e2e holds slipway's end-to-end tests: whole stages on the bundled
// example project, with real tools (mmdebstrap, rpmbuild, dnf) and the
// network to Debian's mirror. They are slow (minutes), and run in CI.
package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"slipway/internal/build"
	"slipway/internal/buildroot"
	"slipway/internal/fetch"
	"slipway/internal/graph"
	"slipway/internal/image"
	"slipway/internal/image/compose"
	"slipway/internal/image/imagetest"
	"slipway/internal/image/qemu"
	"slipway/internal/project"
	"slipway/internal/repo"
	"slipway/internal/testutil"
	"slipway/internal/toolchain"
	"slipway/internal/workspace"
)

func TestMain(m *testing.M) {
	if buildroot.IsSandboxInit() {
		buildroot.SandboxInit()
	}
	os.Exit(m.Run())
}

// load evaluates the project at dir.
func load(t *testing.T, dir string) (*project.Project, *workspace.Tree) {
	t.Helper()
	p, err := project.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := workspace.Load(context.Background(), p, workspace.Options{})
	if err != nil || len(tree.Eval.Errors) > 0 {
		t.Fatalf("%v %v", err, tree.Eval.Errors)
	}
	return p, tree
}

func runToolchain(t *testing.T, dir string) (*toolchain.Report, error) {
	t.Helper()
	p, tree := load(t, dir)
	return toolchain.RunProject(context.Background(), p, tree, nil, nil)
}

func runBuild(t *testing.T, dir string) *build.Summary {
	t.Helper()
	p, tree := load(t, dir)
	sum, err := build.RunProject(context.Background(), p, tree, build.ProjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// decided lists the specs with the given decision.
func decided(s *build.Summary, d build.Decision) []string {
	var out []string
	for _, r := range s.Results {
		if r.Decision == d {
			out = append(out, r.Spec)
		}
	}
	return out
}

// GNU hello 2.10, as Debian's source archive keeps it (the same bytes as
// upstream's hello-2.10.tar.gz).
const (
	helloURL    = "http://deb.debian.org/debian/pool/main/h/hello/hello_2.10.orig.tar.gz"
	helloSHA256 = "31e066137a962676e89f69d1b65382de95a7ef7d914b8cb956f41ea72e0f516b"
)

// The example from nothing: its toolchain in rebuild mode forms a build
// root on its own (in a root of only its RPMs, GNU hello, autotools with
// %check, rebuilds in the sandbox, and rpm -V finds nothing); then its
// packages build on that toolchain, and rebuild only what changed.
func TestExampleFromNothing(t *testing.T) {
	testutil.RequireSpecEval(t)
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "mmdebstrap", "createrepo_c", "dnf", "rpmbuild")
	dir := testutil.CopyProject(t, "../../examples/tiny", "")
	start := time.Now()
	r, err := runToolchain(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("toolchain from nothing: %d builds, %d RPMs in %s", r.Built, len(r.RPMs), time.Since(start).Round(time.Second))
	if r.Built != 15 || r.Reused != 0 || len(r.RPMs) != 66 {
		t.Errorf("built %d, reused %d, %d RPMs", r.Built, r.Reused, len(r.RPMs))
	}

	// A root of nothing but the toolchain's RPMs.
	repo := workspace.ToolchainRepoDir(filepath.Join(dir, "build"))
	var names []string
	for _, f := range r.RPMs {
		p, err := graph.ParseRPMFileName(f)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, p.Name)
	}
	base, err := buildroot.MakeBase(context.Background(), buildroot.BaseSpec{CacheDir: filepath.Join(dir, "build", "bases"), Repo: repo, Packages: names})
	if err != nil {
		t.Fatal(err)
	}

	// GNU hello: its SRPM packed on the host, rebuilt in that root.
	work := t.TempDir()
	src := filepath.Join(work, "SOURCES")
	os.MkdirAll(src, 0o755)
	if err := fetch.New(fetch.Options{}).Fetch(context.Background(), helloURL, filepath.Join(src, "hello-2.10.tar.gz"), fetch.Digest{SHA256: helloSHA256}); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "toolchain", "hello", "hello.spec")
	pack := exec.Command("rpmbuild", "-bs", "--define", "_topdir "+work, "--define", "_sourcedir "+src, "--define", "dist .tn1", spec)
	if out, err := pack.CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild -bs: %v\n%s", err, out)
	}
	srpms, _ := filepath.Glob(filepath.Join(work, "SRPMS", "*.src.rpm"))
	out := t.TempDir()
	var log strings.Builder
	res, err := buildroot.Run(context.Background(), buildroot.Spec{
		Lower: []string{base}, Env: buildroot.DefaultEnv(), Stdout: &log, Stderr: &log, Timeout: 15 * time.Minute,
		Binds: []buildroot.Bind{{Src: filepath.Dir(srpms[0]), Dest: "/in", ReadOnly: true}, {Src: out, Dest: "/out"}},
		Argv:  []string{"rpmbuild", "--rebuild", "--define", "_topdir /out", "/in/" + filepath.Base(srpms[0])},
	})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("hello in the toolchain root: %v %+v\n%s", err, res, tail(log.String()))
	}
	if !strings.Contains(log.String(), "PASS: tests/hello-1") {
		t.Errorf("hello's %%check did not run:\n%s", tail(log.String()))
	}
	if rpms, _ := filepath.Glob(filepath.Join(out, "RPMS", "x86_64", "hello-2.10-1.tn1.x86_64.rpm")); len(rpms) != 1 {
		t.Error("no hello RPM")
	}

	// rpm -V over every package of the root finds nothing changed or missing.
	log.Reset()
	res, err = buildroot.Run(context.Background(), buildroot.Spec{Lower: []string{base}, Env: buildroot.DefaultEnv(),
		Stdout: &log, Stderr: &log, Argv: []string{"rpm", "-Va", "--dbpath", "/var/lib/rpm"}})
	if err != nil || res.ExitCode != 0 || strings.TrimSpace(log.String()) != "" {
		t.Errorf("rpm -Va: %v exit %d\n%s", err, res.ExitCode, log.String())
	}

	// Nothing changed: nothing is rebuilt.
	if r, err := runToolchain(t, dir); err != nil || r.Built != 0 || r.Reused != 15 {
		t.Errorf("second run: %v, %+v", err, r)
	}

	// The package stage on that toolchain: every package builds.
	want := packageBuilds(t, dir)
	start = time.Now()
	sum := runBuild(t, dir)
	if built := decided(sum, build.Built); len(built) != want || len(decided(sum, build.Failed)) > 0 {
		t.Fatalf("first package build: built %d of %d: %v, failed %v", len(built), want, built, decided(sum, build.Failed))
	}
	t.Logf("package stage from nothing: %d builds in %s", want, time.Since(start).Round(time.Second))
	// Again: nothing to do.
	if built := decided(runBuild(t, dir), build.Built); len(built) != 0 {
		t.Errorf("second package build built %v", built)
	}
	// libtiny's patch changed: libtiny is rebuilt, and what links it (its
	// RPMs' bytes changed) after it; specs that do not use it are not.
	patch := filepath.Join(dir, "SPECS", "libtiny", "libtiny-1.2.0-whitespace.patch")
	data, _ := os.ReadFile(patch)
	os.WriteFile(patch, append(data, []byte("\n")...), 0o644)
	sum = runBuild(t, dir)
	built := decided(sum, build.Built)
	if !slices.Contains(built, "libtiny") || slices.Contains(built, "tinyc") || slices.Contains(built, "tiny-release") {
		t.Errorf("after libtiny's patch changed: built %v", built)
	}
	t.Logf("after libtiny's patch changed: built %v, reused %v", built, decided(sum, build.Reused))

	checkImages(t, dir)
	checkImageFromPublished(t, dir)
	checkRebuildChanged(t, dir)
}

// checkRebuildChanged builds a fresh copy of the example, whose libtiny
// patch is the one shipped, with rebuild = "changed" against what dir
// published after its libtiny patch changed (out/RPMS and out/SRPMS,
// signed with rpmsign and served over HTTP): libtiny is built, and the
// two specs that build against it; every other spec is taken from the
// repository, checked against the signing key.
func checkRebuildChanged(t *testing.T, dir string) {
	pub := t.TempDir()
	for _, d := range []string{"RPMS", "SRPMS"} {
		if out, err := exec.Command("cp", "-r", filepath.Join(dir, "out", d), pub).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
	}
	key := testutil.NewGPGKey(t)
	rpms, _ := filepath.Glob(filepath.Join(pub, "RPMS", "*", "*.rpm"))
	srpms, _ := filepath.Glob(filepath.Join(pub, "SRPMS", "*.rpm"))
	key.SignRPMs(t, append(rpms, srpms...)...)
	if err := repo.Create(context.Background(), filepath.Join(pub, "RPMS")); err != nil {
		t.Fatal(err)
	}
	srv := testutil.ServeDir(t, pub, nil)
	defer srv.Close()
	fresh := testutil.CopyProject(t, "../../examples/tiny", "\n[remote]\ncache_dir = \"cache\"\nrebuild = \"changed\"\n"+
		"srpm_urls = [\""+srv.URL+"/SRPMS\"]\nsrpm_gpg_keys = [\""+key.Public+"\"]\n"+
		"[[remote.repos]]\nid = \"published\"\nbaseurls = [\""+srv.URL+"/RPMS\"]\ngpg_keys = [\""+key.Public+"\"]\n")
	// The same toolchain, and the base root made of it.
	for _, d := range []string{"toolchain", "bases"} {
		os.MkdirAll(filepath.Join(fresh, "build"), 0o755)
		if out, err := exec.Command("cp", "-a", filepath.Join(dir, "build", d), filepath.Join(fresh, "build", d)).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
	}
	start := time.Now()
	sum := runBuild(t, fresh)
	built, remote := decided(sum, build.Built), decided(sum, build.Remote)
	t.Logf("rebuild = changed against the published packages: built %v, %d specs taken, %d remote packages, in %s",
		built, len(remote), len(sum.Remote), time.Since(start).Round(time.Second))
	if !slices.Equal(built, []string{"libtiny", "tinyedit", "tinysh"}) || len(remote) < 10 || len(decided(sum, build.Failed)) > 0 {
		t.Errorf("built %v, taken %v, failed %v", built, remote, decided(sum, build.Failed))
	}
	for _, r := range sum.Results {
		switch r.Spec {
		case "libtiny":
			if !strings.HasPrefix(r.Reason, "changed: libtiny-1.2.0-whitespace.patch differs (in the published libtiny-1.2.0-1.tn1.src.rpm)") {
				t.Errorf("libtiny's reason: %q", r.Reason)
			}
		case "tinysh":
			if !strings.HasPrefix(r.Reason, "builds against libtiny, which is built here") {
				t.Errorf("tinysh's reason: %q", r.Reason)
			}
		}
	}
}

// checkImageFromPublished makes the example's EFI disk in a fresh copy of
// the project that has built nothing, from the packages dir published
// (its out/RPMS and toolchain repository, served over HTTP behind a
// bearer token) alone, and boots it; then pins those packages with
// slipway lock and makes the disk again offline, the servers gone.
func checkImageFromPublished(t *testing.T, dir string) {
	var servers []*httptest.Server
	serve := func(root string) string {
		srv := testutil.ServeDir(t, root, testutil.BearerToken("pub-token"))
		servers = append(servers, srv)
		return srv.URL
	}
	packages, tc := serve(filepath.Join(dir, "out", "RPMS")), serve(workspace.ToolchainRepoDir(filepath.Join(dir, "build")))
	fresh := testutil.CopyProject(t, "../../examples/tiny", "\n[remote]\ncache_dir = \"cache\"\n"+
		"[[remote.repos]]\nid = \"packages\"\nbaseurls = [\""+packages+"\"]\n[remote.repos.auth]\ntoken = \"env:PUB_TOKEN\"\n"+
		"[[remote.repos]]\nid = \"toolchain\"\nbaseurls = [\""+tc+"\"]\n[remote.repos.auth]\ntoken = \"env:PUB_TOKEN\"\n")
	t.Setenv("PUB_TOKEN", "pub-token")
	code, stdout, stderr := slipway(t, "-C", fresh, "image", "tiny-efi")
	if code != 0 || !strings.Contains(stderr, "image tiny-efi: ") || !strings.Contains(stderr, " packages from remote repositories") {
		t.Fatalf("image from published packages: exit %d\n%s\n%s", code, stdout, tail(stderr))
	}
	if _, err := os.Stat(filepath.Join(fresh, "out", "RPMS")); !os.IsNotExist(err) {
		t.Errorf("the fresh project has out/RPMS: the package stage ran? (%v)", err)
	}
	// The manifest says where each package was downloaded from.
	m, err := compose.ReadManifest(filepath.Join(fresh, "out", "images", "tiny-efi"))
	if err != nil {
		t.Fatal(err)
	}
	from := map[string]string{}
	for _, p := range m.Packages {
		from[p.Name] = p.From
	}
	if f := from["tinysh"]; !strings.HasPrefix(f, "packages "+packages+"/x86_64/tinysh-") {
		t.Errorf("the manifest says tinysh came from %q", f)
	}
	if f := from["bash"]; !strings.HasPrefix(f, "toolchain "+tc+"/bash-") {
		t.Errorf("the manifest says bash came from %q", f)
	}
	disk := filepath.Join(fresh, "out", "images", "tiny-efi", "tiny-efi.vhdx")
	took, err := qemu.Boot(context.Background(), qemu.BootOptions{Firmware: "efi", Disk: disk, DiskFormat: "vhdx", Marker: bootMarker})
	if err != nil {
		t.Errorf("booting the disk made from published packages: %v", err)
	} else {
		t.Logf("the disk made from published packages booted to its banner in %.1f s", took.Seconds())
	}

	if code, stdout, stderr := slipway(t, "-C", fresh, "lock", "tiny-efi"); code != 0 || !strings.Contains(stdout, "remote packages pinned") {
		t.Fatalf("slipway lock: exit %d\n%s\n%s", code, stdout, tail(stderr))
	}
	for _, srv := range servers {
		srv.Close()
	}
	if code, stdout, stderr := slipway(t, "-C", fresh, "--offline", "image", "tiny-efi", "--rebuild"); code != 0 {
		t.Errorf("offline image from the locked packages: exit %d\n%s\n%s", code, stdout, tail(stderr))
	}
}

// makeImage makes one of the example's image configs from its packages
// and toolchain, into out (a new directory when "").
func makeImage(t *testing.T, dir, config, out string) *compose.Result {
	t.Helper()
	cfg, err := image.Load(filepath.Join(dir, "imageconfigs", config+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if out == "" {
		out = t.TempDir()
	}
	var log strings.Builder
	res, err := compose.Build(context.Background(), compose.Options{Config: cfg, Log: &log,
		Repos:   []string{filepath.Join(dir, "out", "RPMS"), workspace.ToolchainRepoDir(filepath.Join(dir, "build"))},
		WorkDir: filepath.Join(dir, "build", "images", config), OutDir: out})
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(log.String()))
	}
	var steps []string
	for _, s := range res.Steps {
		steps = append(steps, fmt.Sprintf("%s %.1fs", s.Name, s.Duration.Seconds()))
	}
	t.Logf("image %s: %s", config, strings.Join(steps, ", "))
	return res
}

// bootMarker is what the example images' own boot script prints last.
const bootMarker = "tiny: booted Tiny Linux"

// checkImages makes the example's images from its packages: the EFI disk
// boots as VHD and VHDX to its init's banner, the MBR disk under BIOS,
// and the EFI disk's raw form is the same bytes twice; the container unpacks with umoci and runs its shell; the
// live ISO boots under BIOS.
func checkImages(t *testing.T, dir string) {
	testutil.RequireTools(t, "qemu-system-x86_64", "umoci", "xorriso")
	ctx := context.Background()
	efi := makeImage(t, dir, "tiny-efi", "")
	ovmf := imagetest.OVMF(t)
	for _, a := range efi.Artifacts {
		took, err := qemu.Boot(ctx, qemu.BootOptions{Firmware: "efi", Disk: a.Path, DiskFormat: qemu.DiskFormat(a.Type), Marker: bootMarker})
		if err != nil {
			t.Errorf("booting %s: %v", a.Path, err)
		} else {
			t.Logf("%s booted to its banner in %.1f s (%s)", filepath.Base(a.Path), took.Seconds(), ovmf)
		}
	}

	// The legacy config: an MBR disk as qcow2, booted by SeaBIOS.
	legacy := makeImage(t, dir, "tiny-legacy", "")
	if took, err := qemu.Boot(ctx, qemu.BootOptions{Firmware: "bios", Disk: legacy.Artifacts[0].Path, DiskFormat: "qcow2", Marker: bootMarker}); err != nil {
		t.Errorf("booting %s: %v", legacy.Artifacts[0].Path, err)
	} else {
		t.Logf("%s booted to its banner in %.1f s", filepath.Base(legacy.Artifacts[0].Path), took.Seconds())
	}

	// Reproducible: the EFI config's disk as raw, twice.
	cfgData, _ := os.ReadFile(filepath.Join(dir, "imageconfigs", "tiny-efi.json"))
	rawCfg := strings.Replace(string(cfgData), `"Type": "vhdx"`, `"Type": "raw"`, 1)
	os.WriteFile(filepath.Join(dir, "imageconfigs", "tiny-efi-raw.json"), []byte(rawCfg), 0o644)
	first, second := makeImage(t, dir, "tiny-efi-raw", ""), makeImage(t, dir, "tiny-efi-raw", "")
	if first.Artifacts[0].Type != "raw" || first.Artifacts[0].SHA256 != second.Artifacts[0].SHA256 {
		t.Errorf("the raw disk differs between two runs: %+v, %+v", first.Artifacts[0], second.Artifacts[0])
	}

	// The container: umoci unpacks the OCI image and its shell runs.
	ctr := makeImage(t, dir, "tiny-container", "")
	again := makeImage(t, dir, "tiny-container", "")
	for i, a := range ctr.Artifacts {
		if a.SHA256 != again.Artifacts[i].SHA256 {
			t.Errorf("%s differs between two runs", filepath.Base(a.Path))
		}
		if a.Type != "oci" {
			continue
		}
		layout, bundle := t.TempDir(), filepath.Join(t.TempDir(), "bundle")
		if out, err := exec.Command("tar", "-xf", a.Path, "-C", layout).CombinedOutput(); err != nil {
			t.Fatalf("tar -xf %s: %v\n%s", a.Path, err, out)
		}
		if out, err := exec.Command("umoci", "unpack", "--image", layout+":latest", bundle).CombinedOutput(); err != nil {
			t.Fatalf("umoci unpack: %v\n%s", err, out)
		}
		out, err := exec.Command("chroot", filepath.Join(bundle, "rootfs"), "/bin/sh", "-c", ". /etc/os-release; echo $NAME").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Tiny") {
			t.Errorf("running the container's shell: %v: %s", err, out)
		}
	}

	// The live ISO boots under BIOS.
	iso := makeImage(t, dir, "tiny-iso", "")
	took, err := qemu.Boot(ctx, qemu.BootOptions{Firmware: "bios", CDROM: iso.Artifacts[0].Path, Marker: bootMarker})
	if err != nil {
		t.Errorf("booting the ISO: %v", err)
	} else {
		t.Logf("the ISO booted to its banner in %.1f s", took.Seconds())
	}
}

// packageBuilds counts the package stage's builds: the specs of the tree
// that are not the toolchain's.
func packageBuilds(t *testing.T, dir string) int {
	t.Helper()
	_, tree := load(t, dir)
	n := 0
	for _, node := range tree.Graph.Nodes {
		if node.Kind == graph.BuildNode && !node.Prebuilt {
			n++
		}
	}
	if n < 11 {
		t.Fatalf("the example has %d package builds", n)
	}
	return n
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}
