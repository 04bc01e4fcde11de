package buildroot

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// initArg is the first argument of the re-executed binary acting as init.
const initArg = "__slipway-sandbox-init"

// File descriptors the parent hands to the init.
const (
	configFD = 3 // the initConfig, as JSON
	statusFD = 4 // initStatus messages, one JSON object per line
)

// initConfig is what Run sends to the init.
type initConfig struct {
	Lower               []string
	Upper, Work, Merged string
	Binds               []Bind
	Hostname            string
	Env                 []string
	Dir                 string
	Argv                []string
	Network             bool
	HostView            bool // run Argv on the host's file system (see InstallInto)
}

// initStatus is a message from the init: a set-up error, or the exit of
// the command.
type initStatus struct {
	Error    string `json:"error,omitempty"`
	Exited   bool   `json:"exited,omitempty"`
	ExitCode int    `json:"exit_code,omitempty"`
}

// IsSandboxInit reports whether this process was started by Run as a
// sandbox's init; if so, main must call SandboxInit before anything else.
func IsSandboxInit() bool {
	return len(os.Args) > 1 && os.Args[1] == initArg && os.Getpid() == 1
}

// SandboxInit is the sandbox's init: it sets up the root, runs the command,
// reaps every process, and exits with the command's status. It never
// returns.
func SandboxInit() {
	// The capability bounding set is per thread: drop it on the thread
	// that forks the command.
	runtime.LockOSThread()
	status := os.NewFile(statusFD, "status")
	syscall.CloseOnExec(statusFD)
	syscall.CloseOnExec(configFD)
	send := func(m initStatus) {
		b, _ := json.Marshal(m)
		status.Write(append(b, '\n'))
	}
	cfg, err := readConfig()
	var pid int
	if err == nil {
		pid, err = setupAndStart(cfg)
	}
	if err != nil {
		send(initStatus{Error: err.Error()})
		os.Exit(125)
	}
	code := reap(pid)
	send(initStatus{Exited: true, ExitCode: code})
	os.Exit(code)
}

func readConfig() (*initConfig, error) {
	f := os.NewFile(configFD, "config")
	defer f.Close()
	var cfg initConfig
	if err := json.NewDecoder(f).Decode(&cfg); err != nil {
		return nil, fmt.Errorf("reading the sandbox config: %w", err)
	}
	return &cfg, nil
}

// setupAndStart builds the root, enters it and starts the command.
func setupAndStart(c *initConfig) (int, error) {
	if err := setupRoot(c); err != nil {
		return 0, err
	}
	if err := syscall.Sethostname([]byte(c.Hostname)); err != nil {
		return 0, fmt.Errorf("setting the host name: %w", err)
	}
	if !c.Network {
		if err := loopbackUp(); err != nil {
			return 0, fmt.Errorf("bringing lo up: %w", err)
		}
	}
	if !c.HostView {
		if err := enterRoot(c.Merged); err != nil {
			return 0, err
		}
	}
	path, err := lookPath(c.Argv[0], c.Env, c.Dir)
	if err != nil {
		return 0, err
	}
	if err := dropCapabilities(); err != nil {
		return 0, err
	}
	pid, err := syscall.ForkExec(path, c.Argv, &syscall.ProcAttr{
		Dir:   c.Dir,
		Env:   c.Env,
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		return 0, fmt.Errorf("starting %s in %s: %w", path, c.Dir, err)
	}
	return pid, nil
}

// reap waits for every child (orphans are reparented to the init) until
// the command itself exits, forwarding termination signals to it, and
// returns its exit status. Exiting then kills whatever is left.
func reap(pid int) int {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		for s := range sigs {
			syscall.Kill(pid, s.(syscall.Signal))
		}
	}()
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return 125 // ECHILD: cannot happen before the command is reaped
		}
		if got != pid {
			continue
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}

// enterRoot makes root the process's root with pivot_root, and detaches the
// host's tree, or falls back to chroot where pivot_root cannot work (a host
// running from an initramfs).
func enterRoot(root string) error {
	if err := syscall.Chdir(root); err != nil {
		return fmt.Errorf("entering %s: %w", root, err)
	}
	if err := syscall.PivotRoot(".", "."); err == nil {
		if err := syscall.Unmount(".", syscall.MNT_DETACH); err != nil {
			return fmt.Errorf("detaching the host's root: %w", err)
		}
	} else if err := syscall.Chroot("."); err != nil {
		return fmt.Errorf("chroot to %s: %w", root, err)
	}
	if err := syscall.Chdir("/"); err != nil {
		return fmt.Errorf("chdir / in the root: %w", err)
	}
	return nil
}

// keptCapabilities are what the command may use: what installing packages
// and building need (owning files, setting file capabilities, rpm's chroot
// for scriptlets), as in Docker's default set minus CAP_MKNOD, which
// without a device cgroup would open the host's disks. Without
// CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_MODULE and the like, the command
// can neither undo the sandbox nor reach into its init.
var keptCapabilities = map[int]bool{
	0: true, 1: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true, // CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP
	10: true, 13: true, 18: true, 29: true, 31: true, // NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, AUDIT_WRITE, SETFCAP
}

// dropCapabilities removes the other capabilities from the bounding set,
// which limits what the command (root, executed after this) gets.
func dropCapabilities() error {
	const prCapbsetDrop = 24
	for c := 0; c < 64; c++ {
		if keptCapabilities[c] {
			continue
		}
		_, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prCapbsetDrop, uintptr(c), 0)
		if e == syscall.EINVAL {
			break // past the kernel's last capability
		}
		if e != 0 {
			return fmt.Errorf("dropping capability %d: %w", c, e)
		}
	}
	return nil
}

// lookPath finds argv0 the way a shell with env's PATH would.
func lookPath(argv0 string, env []string, dir string) (string, error) {
	if strings.Contains(argv0, "/") {
		return argv0, nil
	}
	path := DefaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, d := range filepath.SplitList(path) {
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		p := filepath.Join(d, argv0)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in PATH %s", argv0, path)
}
