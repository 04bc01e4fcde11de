package buildroot

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain dispatches like slipway's main, so that the test binary
// (/proc/self/exe) can be a sandbox's init, and serves as the helper
// process that TestParentKilled kills.
func TestMain(m *testing.M) {
	if IsSandboxInit() {
		SandboxInit()
	}
	if os.Getenv(helperEnv) != "" {
		helperMain()
	}
	dir := os.Getenv("SLIPWAY_TEST_ROOTFS")
	if dir == "" {
		d, err := os.MkdirTemp("", "slipway-buildroot-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		dir = d
	}
	rootCache = dir
	code := m.Run()
	if dir != os.Getenv("SLIPWAY_TEST_ROOTFS") {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// rootCache holds the Debian roots of this test run, or of every run when
// SLIPWAY_TEST_ROOTFS names a directory to keep them in.
var rootCache string

// runT runs s with a 60 s timeout unless s has one, failing the test on
// an error, and returns its result and output.
func runT(t *testing.T, s Spec) (Result, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr = &stdout, &stderr
	if s.Timeout == 0 {
		s.Timeout = 60 * time.Second
	}
	res, err := Run(context.Background(), s)
	if err != nil {
		t.Fatalf("Run %q: %v\nstderr: %s", s.Argv, err, stderr.String())
	}
	return res, stdout.String(), stderr.String()
}

// procsWith returns the PIDs of the host's processes whose command line is
// exactly argv.
func procsWith(argv ...string) []int {
	want := strings.Join(argv, "\x00") + "\x00"
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && string(b) == want {
			pids = append(pids, pid)
		}
	}
	return pids
}

// mountsAnywhere returns the mountinfo lines of any process on the host
// (so of any mount namespace with a process in it) that mention path.
func mountsAnywhere(path string) []string {
	var found []string
	files, _ := filepath.Glob("/proc/[0-9]*/mountinfo")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, path) {
				found = append(found, f+": "+line)
			}
		}
	}
	return found
}

// waitFor polls cond for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// The helper process of TestParentKilled: it runs a sandbox with a sleep
// and waits to be killed.
const helperEnv = "SLIPWAY_BUILDROOT_TEST_HELPER"

func helperMain() {
	var s Spec
	s.Lower = []string{os.Getenv("HELPER_LOWER")}
	s.Upper = os.Getenv("HELPER_UPPER")
	s.Argv = []string{"sleep", os.Getenv(helperEnv)}
	s.Env = DefaultEnv()
	_, err := Run(context.Background(), s)
	fmt.Fprintln(os.Stderr, "helper: Run returned:", err)
	os.Exit(3)
}
