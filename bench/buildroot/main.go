// Command buildroot measures the per-build overhead of slipway's build
// roots next to the Azure Linux toolkit's way, on the same root:
//
//	go run ./bench/buildroot [-n 20] [-root DIR]
//
// Slipway's way is one buildroot.Run of /bin/true: an overlay over the
// read-only base, new namespaces, /proc, /dev, /tmp, then teardown; the
// cost of /bin/true itself (a bare exec on the host, measured alongside) is
// subtracted. The toolkit's way is extracting a tarball of the root into a
// fresh directory and deleting it afterwards (tar -xpf + rm -rf), without
// even running anything in it. The root is a Debian bookworm
// `mmdebstrap --variant=essential` root, made once (or -root DIR). Both
// ways alternate, N runs each after one warm-up; the median and p90 of
// each are printed with their ratio. Targets: under 1 s, and at least 5×
// less than the tarball way. Needs root.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"slipway/internal/buildroot"
)

func main() {
	if buildroot.IsSandboxInit() {
		buildroot.SandboxInit()
	}
	n := flag.Int("n", 20, "runs of each way")
	root := flag.String("root", "", "an existing root directory (default: mmdebstrap one into a temporary directory)")
	mirror := flag.String("mirror", "http://deb.debian.org/debian", "Debian mirror for mmdebstrap")
	flag.Parse()
	if err := run(*n, *root, *mirror); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n int, root, mirror string) error {
	if n < 1 {
		return fmt.Errorf("-n %d: need at least one run", n)
	}
	work, err := os.MkdirTemp("", "slipway-bench-buildroot-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if root == "" {
		root = filepath.Join(work, "root")
		t0 := time.Now()
		if err := sh("mmdebstrap", "--quiet", "--variant=essential", "bookworm", root, mirror); err != nil {
			return err
		}
		fmt.Printf("made the root with mmdebstrap --variant=essential bookworm in %v\n", time.Since(t0).Round(time.Second))
	}
	tarball := filepath.Join(work, "root.tar")
	if err := sh("tar", "--numeric-owner", "-cpf", tarball, "-C", root, "."); err != nil {
		return err
	}
	files, size := treeSize(root)
	tfi, err := os.Stat(tarball)
	if err != nil {
		return err
	}
	fmt.Printf("root: %s, %d entries, %.0f MB; its tarball %.0f MB\n", root, files, float64(size)/1e6, float64(tfi.Size())/1e6)

	ctx := context.Background()
	builds := filepath.Join(work, "builds")
	sandbox := func(i int) (time.Duration, error) {
		t0 := time.Now()
		res, err := buildroot.Run(ctx, buildroot.Spec{
			Lower: []string{root}, Upper: filepath.Join(builds, fmt.Sprint(i)),
			Env: buildroot.DefaultEnv(), Argv: []string{"/bin/true"},
		})
		d := time.Since(t0)
		if err == nil && res.ExitCode != 0 {
			err = fmt.Errorf("/bin/true in the sandbox exited %d", res.ExitCode)
		}
		return d, err
	}
	bare := func(int) (time.Duration, error) {
		t0 := time.Now()
		err := exec.Command("/bin/true").Run()
		return time.Since(t0), err
	}
	extract := func(i int) (time.Duration, error) {
		dir := filepath.Join(builds, fmt.Sprintf("tar-%d", i))
		t0 := time.Now()
		if err := os.Mkdir(dir, 0o755); err != nil {
			return 0, err
		}
		if err := sh("tar", "-xpf", tarball, "-C", dir); err != nil {
			return 0, err
		}
		if err := sh("rm", "-rf", dir); err != nil {
			return 0, err
		}
		return time.Since(t0), nil
	}
	if err := os.MkdirAll(builds, 0o755); err != nil {
		return err
	}
	ways := []func(int) (time.Duration, error){sandbox, bare, extract}
	times := make([][]time.Duration, len(ways))
	for i := -1; i < n; i++ { // run -1 is the warm-up
		for w, f := range ways {
			d, err := f(i)
			if err != nil {
				return err
			}
			if i >= 0 {
				times[w] = append(times[w], d)
			}
		}
	}
	if err := buildroot.Cleanup(builds); err != nil {
		return err
	}

	ours, trueT, tarT := times[0], times[1], times[2]
	trueMed := percentile(trueT, 50)
	for i := range ours {
		ours[i] -= trueMed
	}
	fmt.Printf("\n%d runs of each, interleaved, %s\n", n, time.Now().Format(time.DateTime))
	fmt.Printf("%-52s %10s %10s\n", "per build", "median", "p90")
	row := func(name string, d []time.Duration) {
		fmt.Printf("%-52s %10s %10s\n", name, round(percentile(d, 50)), round(percentile(d, 90)))
	}
	row("slipway sandbox: Run(/bin/true) - bare /bin/true", ours)
	row("  (a bare /bin/true on the host, subtracted)", trueT)
	row("tarball: tar -xpf into a fresh dir + rm -rf", tarT)
	om, tm := percentile(ours, 50), percentile(tarT, 50)
	ratio := float64(tm) / float64(max(om, time.Microsecond))
	fmt.Printf("ratio (tarball median / sandbox median): %.0f×\n", ratio)
	fmt.Printf("targets: sandbox under 1 s: %s; at least 5× less than the tarball way: %s\n",
		verdict(percentile(ours, 90) < time.Second), verdict(ratio >= 5))
	return nil
}

func sh(argv ...string) error {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return nil
}

// percentile is the nearest-rank percentile p of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// treeSize counts the entries and regular-file bytes under dir.
func treeSize(dir string) (n int, size int64) {
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		n++
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	return n, size
}
