package buildroot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"slipway/internal/testutil"
)

func TestNetworkIsolated(t *testing.T) {
	root := testutil.DebianRoot(t, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
			accepted <- struct{}{}
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port

	_, out, _ := runT(t, Spec{Lower: []string{root}, Env: DefaultEnv(), Argv: []string{"cat", "/proc/net/dev"}})
	if ifs := interfaces(out); !slices.Equal(ifs, []string{"lo"}) {
		t.Errorf("interfaces in the sandbox = %v, want only lo\n%s", ifs, out)
	}
	connect := []string{"bash", "-c", fmt.Sprintf("echo hi > /dev/tcp/127.0.0.1/%d", port)}
	res, _, stderr := runT(t, Spec{Lower: []string{root}, Env: DefaultEnv(), Argv: connect})
	if res.ExitCode == 0 || !strings.Contains(stderr, "Connection refused") {
		t.Errorf("connecting to the host's 127.0.0.1:%d: exit %d, stderr %q; want refused", port, res.ExitCode, stderr)
	}
	select {
	case <-accepted:
		t.Error("the host's listener accepted a connection from the sandbox")
	default:
	}

	// With Network, the same command reaches the host.
	res, _, stderr = runT(t, Spec{Lower: []string{root}, Env: DefaultEnv(), Argv: connect, Network: true})
	if res.ExitCode != 0 {
		t.Fatalf("with Network: exit %d: %s", res.ExitCode, stderr)
	}
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Error("with Network: the host's listener got no connection")
	}
}

// interfaces parses /proc/net/dev.
func interfaces(procNetDev string) []string {
	var ifs []string
	for _, line := range strings.Split(procNetDev, "\n") {
		if name, _, ok := strings.Cut(line, ":"); ok && !strings.Contains(name, "|") {
			ifs = append(ifs, strings.TrimSpace(name))
		}
	}
	return ifs
}

func TestFilesystemIsolated(t *testing.T) {
	testutil.RequireTools(t, "rpm")
	root := testutil.DebianRoot(t, "")
	in, out := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(in, "input"), []byte("input-data\n"), 0o644)
	hostOnly, _ := exec.LookPath("rpm") // on the host, not in the Debian root
	script := `
echo written > /etc/x && cat /etc/x
touch /in/y 2>/dev/null && echo READ-ONLY-BIND-WRITABLE
cat /in/input
echo result > /out/r
test -e ` + hostOnly + ` && echo HOST-VISIBLE
exit 0`
	res, stdout, stderr := runT(t, Spec{
		Lower: []string{root},
		Binds: []Bind{{Src: in, Dest: "/in", ReadOnly: true}, {Src: out, Dest: "/out"}},
		Env:   DefaultEnv(),
		Argv:  []string{"sh", "-c", script},
	})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d: %s", res.ExitCode, stderr)
	}
	for _, want := range []string{"written", "input-data"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output %q lacks %q", stdout, want)
		}
	}
	for _, bad := range []string{"READ-ONLY-BIND-WRITABLE", "HOST-VISIBLE"} {
		if strings.Contains(stdout, bad) {
			t.Errorf("output %q has %s", stdout, bad)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "etc", "x")); err == nil {
		t.Error("/etc/x written in the sandbox is in the lower dir")
	}
	if _, err := os.Stat(filepath.Join(in, "y")); err == nil {
		t.Error("the read-only bind was written to")
	}
	if b, _ := os.ReadFile(filepath.Join(out, "r")); string(b) != "result\n" {
		t.Errorf("the read-write bind has r = %q, want result", b)
	}
}

func TestProcessesIsolated(t *testing.T) {
	root := testutil.DebianRoot(t, "")
	_, out, _ := runT(t, Spec{Lower: []string{root}, Env: DefaultEnv(),
		Argv: []string{"sh", "-c", "echo $$; ls /proc"}})
	lines := strings.Fields(out)
	self, _ := strconv.Atoi(lines[0])
	var pids []int
	for _, f := range lines[1:] {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	// init (1), sh, and ls: nothing of the host.
	if len(pids) != 3 || !slices.Contains(pids, 1) || !slices.Contains(pids, self) || self > 50 {
		t.Errorf("sandbox sees PIDs %v (its shell is %d), want 1, the shell, ls", pids, self)
	}
	t.Logf("PIDs seen in the sandbox: %v; the command is PID %d", pids, self)
}

func TestHostnameAndEnv(t *testing.T) {
	root := testutil.DebianRoot(t, "")
	hostHost, _ := os.Hostname()
	_, out, _ := runT(t, Spec{Lower: []string{root}, Argv: []string{"/bin/cat", "/proc/sys/kernel/hostname"}})
	if got := strings.TrimSpace(out); got != "slipway" {
		t.Errorf("default hostname %q, want slipway", got)
	}
	_, out, _ = runT(t, Spec{Lower: []string{root}, Hostname: "build-42", Argv: []string{"/bin/uname", "-n"}})
	if got := strings.TrimSpace(out); got != "build-42" {
		t.Errorf("hostname %q, want build-42", got)
	}
	if h, _ := os.Hostname(); h != hostHost {
		t.Errorf("the host's name changed from %q to %q", hostHost, h)
	}
	env := []string{"PATH=/usr/bin:/bin", "FOO=bar baz", "HOME=/nowhere"}
	_, out, _ = runT(t, Spec{Lower: []string{root}, Env: env, Argv: []string{"env"}})
	if got := strings.Split(strings.TrimSpace(out), "\n"); !slices.Equal(got, env) {
		t.Errorf("environment %q, want exactly %q", got, env)
	}
	_, out, _ = runT(t, Spec{Lower: []string{root}, Env: env, Dir: "/usr/share", Argv: []string{"pwd"}})
	if got := strings.TrimSpace(out); got != "/usr/share" {
		t.Errorf("working directory %q, want /usr/share", got)
	}
}

// sleepers returns a shell command starting two uniquely numbered sleeps,
// one in the background, and their argv.
func sleepers() (string, [][]string) {
	n := 900000 + rand.IntN(99999)
	a, b := strconv.Itoa(n), strconv.Itoa(n+1)
	return "sleep " + a + " & sleep " + b, [][]string{{"sleep", a}, {"sleep", b}}
}

func alive(argvs [][]string) bool {
	for _, a := range argvs {
		if len(procsWith(a...)) > 0 {
			return true
		}
	}
	return false
}

func allAlive(argvs [][]string) bool {
	for _, a := range argvs {
		if len(procsWith(a...)) == 0 {
			return false
		}
	}
	return true
}

// checkGone fails unless no sleeper runs and no mount mentions dir.
func checkGone(t *testing.T, argvs [][]string, dir string) {
	t.Helper()
	if alive(argvs) {
		t.Errorf("sandbox processes %v still run", argvs)
	}
	if m := mountsAnywhere(dir); len(m) > 0 {
		t.Errorf("mounts of %s remain:\n%s", dir, strings.Join(m, "\n"))
	}
	if out, _ := exec.Command("findmnt", "-rn", "-o", "TARGET").Output(); strings.Contains(string(out), dir) {
		t.Errorf("findmnt shows %s:\n%s", dir, out)
	}
	for _, d := range []string{"merged", "work", "upper"} {
		if _, err := os.Stat(filepath.Join(dir, d)); err == nil {
			t.Errorf("%s/%s was not removed", dir, d)
		}
	}
}

func TestTimeoutKillsTree(t *testing.T) {
	root := testutil.DebianRoot(t, "")
	upper := filepath.Join(t.TempDir(), "build-1")
	cmd, sleeps := sleepers()
	seen := make(chan bool, 1)
	go func() { seen <- waitFor(5*time.Second, func() bool { return allAlive(sleeps) }) }()
	res, _, _ := runT(t, Spec{Lower: []string{root}, Upper: upper, Env: DefaultEnv(),
		Argv: []string{"sh", "-c", cmd}, Timeout: time.Second})
	if !<-seen {
		t.Fatal("the sleeps never ran")
	}
	if !res.TimedOut || res.ExitCode != -1 || res.Duration < time.Second || res.Duration > 5*time.Second {
		t.Errorf("result %+v, want timed out after about 1s", res)
	}
	checkGone(t, sleeps, upper)
}

func TestCancelKillsTree(t *testing.T) {
	root := testutil.DebianRoot(t, "")
	upper := filepath.Join(t.TempDir(), "build-1")
	cmd, sleeps := sleepers()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitFor(5*time.Second, func() bool { return allAlive(sleeps) })
		cancel()
	}()
	res, err := Run(ctx, Spec{Lower: []string{root}, Upper: upper, Env: DefaultEnv(), Argv: []string{"sh", "-c", cmd}})
	if !errors.Is(err, context.Canceled) || res.TimedOut {
		t.Errorf("Run = %+v, %v; want context.Canceled", res, err)
	}
	checkGone(t, sleeps, upper)
}

// TestParentKilled SIGKILLs a process (this test binary as helperMain)
// while its sandbox runs a sleep: the sleep and every mount must go too.
func TestParentKilled(t *testing.T) {
	root := testutil.DebianRoot(t, "")
	builds := t.TempDir()
	upper := filepath.Join(builds, "build-1")
	n := strconv.Itoa(900000 + rand.IntN(99999))
	helper := exec.Command("/proc/self/exe")
	helper.Env = append(os.Environ(), helperEnv+"="+n, "HELPER_LOWER="+root, "HELPER_UPPER="+upper)
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	sleep := [][]string{{"sleep", n}}
	if !waitFor(10*time.Second, func() bool { return alive(sleep) }) {
		helper.Process.Kill()
		t.Fatal("the helper's sandbox never ran sleep")
	}
	if len(mountsAnywhere(upper)) == 0 {
		t.Error("no mount of the running sandbox found: the check below would prove nothing")
	}
	if m, _ := MountsBelow(builds); len(m) > 0 {
		t.Errorf("sandbox mounts visible in the host's namespace: %v", m)
	}
	helper.Process.Signal(syscall.SIGKILL)
	helper.Wait()
	if !waitFor(5*time.Second, func() bool { return !alive(sleep) && len(mountsAnywhere(upper)) == 0 }) {
		t.Errorf("after SIGKILL of the parent: sleep alive=%v, mounts=%v", alive(sleep), mountsAnywhere(upper))
	}
	// What the killed parent left is plain directories.
	if err := Cleanup(builds); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(builds); len(ents) != 0 {
		t.Errorf("Cleanup left %v", ents)
	}
}

func TestParallel(t *testing.T) {
	root := testutil.DebianRoot(t, "")
	const n = 8
	builds := t.TempDir()
	var wg sync.WaitGroup
	outs, errs := make([]string, n), make([]error, n)
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out strings.Builder
			res, err := Run(context.Background(), Spec{
				Lower: []string{root}, Upper: filepath.Join(builds, fmt.Sprint(i)),
				Hostname: fmt.Sprintf("b%d", i), Env: DefaultEnv(), Stdout: &out,
				Argv:    []string{"sh", "-c", "cat /proc/sys/kernel/hostname > /etc/mine; sleep 0.5; cat /etc/mine"},
				Timeout: 30 * time.Second,
			})
			if err == nil && res.ExitCode != 0 {
				err = fmt.Errorf("exit %d", res.ExitCode)
			}
			outs[i], errs[i] = strings.TrimSpace(out.String()), err
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i := range n {
		if errs[i] != nil || outs[i] != fmt.Sprintf("b%d", i) {
			t.Errorf("sandbox %d: output %q, error %v", i, outs[i], errs[i])
		}
	}
	if elapsed > n*500*time.Millisecond {
		t.Errorf("%d sandboxes sleeping 0.5 s took %v: they did not run at once", n, elapsed)
	}
	t.Logf("%d sandboxes at once: %v", n, elapsed)
	if m := mountsAnywhere(builds); len(m) > 0 {
		t.Errorf("mounts remain: %v", m)
	}
}

func TestExitStatusAndErrors(t *testing.T) {
	root := testutil.DebianRoot(t, "")
	for cmd, want := range map[string]int{"exit 7": 7, "kill -TERM $$": 128 + 15, "true": 0} {
		res, _, _ := runT(t, Spec{Lower: []string{root}, Argv: []string{"/bin/sh", "-c", cmd}})
		if res.ExitCode != want {
			t.Errorf("%q: exit %d, want %d", cmd, res.ExitCode, want)
		}
	}
	for _, s := range []Spec{
		{Lower: []string{root}, Argv: []string{"no-such-command"}},
		{Lower: []string{root}, Argv: []string{"true"}, Dir: "/no/such/dir"},
		{Lower: []string{"/no/such/root"}, Argv: []string{"true"}},
		{Lower: []string{root}},
	} {
		if _, err := Run(context.Background(), s); err == nil {
			t.Errorf("Run(%+v) succeeded, want an error", s)
		} else {
			t.Logf("error as expected: %v", err)
		}
	}

	// KeepUpper keeps the changes, and a second run sees them.
	upper := filepath.Join(t.TempDir(), "b")
	res, _, _ := runT(t, Spec{Lower: []string{root}, Upper: upper, KeepUpper: true,
		Argv: []string{"/bin/sh", "-c", "echo kept > /etc/kept"}})
	if b, err := os.ReadFile(filepath.Join(res.UpperDir, "etc", "kept")); err != nil || string(b) != "kept\n" {
		t.Errorf("kept upper %s: etc/kept = %q, %v", res.UpperDir, b, err)
	}
	_, out, _ := runT(t, Spec{Lower: []string{root}, Upper: upper, Argv: []string{"/bin/cat", "/etc/kept"}})
	if out != "kept\n" {
		t.Errorf("second run over the kept upper read %q", out)
	}
	if ents, _ := os.ReadDir(upper); len(ents) != 0 {
		t.Errorf("after a run without KeepUpper, %s holds %v", upper, ents)
	}
}

func TestPrivilegesLimited(t *testing.T) {
	root := testutil.DebianRoot(t, "")
	script := `
grep CapEff /proc/self/status
p=$(cat /proc/sys/kernel/core_pattern)  # written back unchanged, should it work
echo "$p" > /proc/sys/kernel/core_pattern 2>/dev/null && echo CORE-PATTERN-WRITTEN
mknod /tmp/disk b 1 0 2>/dev/null && echo MKNOD-WORKED
cat /proc/1/environ >/dev/null 2>&1 && echo INIT-READABLE
test -s /proc/kcore && echo KCORE-VISIBLE
exit 0`
	_, out, stderr := runT(t, Spec{Lower: []string{root}, Env: DefaultEnv(), Argv: []string{"sh", "-c", script}})
	var want uint64
	for c := range keptCapabilities {
		want |= 1 << c
	}
	if !strings.Contains(out, fmt.Sprintf("CapEff:\t%016x", want)) {
		t.Errorf("capabilities in the sandbox: %q, want %016x (stderr %q)", out, want, stderr)
	}
	for _, bad := range []string{"CORE-PATTERN-WRITTEN", "MKNOD-WORKED", "INIT-READABLE", "KCORE-VISIBLE"} {
		if strings.Contains(out, bad) {
			t.Errorf("%s: %q", bad, out)
		}
	}
}
