// Package buildroot runs commands in isolated build roots: an overlay over
// read-only base roots, in new mount, pid, network, UTS and IPC namespaces,
// with its own /proc, a minimal /dev and a tmpfs /tmp.
//
// Slipway itself is never isolated: Run re-executes the running binary
// (/proc/self/exe) as the sandbox's init, the way runc does. The init is
// PID 1 of a new pid namespace and mounts everything in its own mount
// namespace, so when it dies the kernel kills every process of the sandbox
// and drops every mount; nothing is ever mounted in slipway's namespace,
// and a killed slipway leaves no mount behind. Binaries that call Run must
// start main with
//
//	if buildroot.IsSandboxInit() {
//		buildroot.SandboxInit()
//	}
package buildroot

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// Run runs s.Argv in a new sandbox and removes the sandbox's directories
// afterwards (all but the upper layer with s.KeepUpper). A non-zero exit
// and a timeout are results, not errors; the error reports a sandbox that
// could not be set up, a cancelled ctx, or a failed clean-up.
func Run(ctx context.Context, s Spec) (Result, error) {
	return run(ctx, s, false)
}

// run is Run; hostView leaves the command on the host's file system, with
// the prepared root at <Upper>/merged (see InstallInto).
func run(ctx context.Context, s Spec, hostView bool) (res Result, err error) {
	res.ExitCode = -1
	s, err = s.validate()
	if err != nil {
		return res, err
	}
	lay, err := newLayout(s.Upper)
	if err != nil {
		return res, err
	}
	defer func() {
		if rerr := lay.remove(s.KeepUpper); rerr != nil {
			err = errors.Join(err, rerr)
		}
		if s.KeepUpper {
			res.UpperDir = lay.upper
		}
	}()
	cfg := initConfig{
		Lower: s.Lower, Upper: lay.upper, Work: lay.work, Merged: lay.merged,
		Binds: s.Binds, Hostname: s.Hostname, Env: s.Env, Dir: s.Dir,
		Argv: s.Argv, Network: s.Network, HostView: hostView,
	}
	if cfg.Env == nil {
		cfg.Env = []string{}
	}
	return start(ctx, s, cfg)
}

// start runs the init with cfg and waits for it.
func start(ctx context.Context, s Spec, cfg initConfig) (Result, error) {
	res := Result{ExitCode: -1}
	runCtx := ctx
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return res, fmt.Errorf("buildroot: %w", err)
	}
	statR, statW, err := os.Pipe()
	if err != nil {
		cfgR.Close()
		cfgW.Close()
		return res, fmt.Errorf("buildroot: %w", err)
	}
	defer statR.Close()

	// Killing the init kills the whole pid namespace (CommandContext's
	// default Cancel sends SIGKILL).
	cmd := exec.CommandContext(runCtx, "/proc/self/exe", initArg)
	cmd.Env = []string{}
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
	cmd.ExtraFiles = []*os.File{cfgR, statW} // fds 3 and 4
	cmd.WaitDelay = 5 * time.Second
	flags := syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC
	if !s.Network {
		flags |= syscall.CLONE_NEWNET
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: uintptr(flags),
		Pdeathsig:  syscall.SIGKILL, // slipway dies: the sandbox dies
		Setpgid:    true,
	}

	// Pdeathsig fires when the thread that forked exits, not the process:
	// keep this goroutine on its thread until the init is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := time.Now()
	err = cmd.Start()
	cfgR.Close()
	statW.Close()
	if err != nil {
		cfgW.Close()
		return res, fmt.Errorf("buildroot: starting sandbox init: %w", err)
	}
	go func() {
		// A failure shows as the init's error below.
		_ = json.NewEncoder(cfgW).Encode(cfg)
		cfgW.Close()
	}()
	statusc := make(chan initStatus, 1)
	go func() { statusc <- readStatus(statR) }()

	waitErr := cmd.Wait()
	st := <-statusc
	res.Duration = time.Since(t0)
	argv0 := filepath.Base(s.Argv[0])
	switch {
	case st.Error != "":
		return res, fmt.Errorf("buildroot: setting up the sandbox for %s: %s", argv0, st.Error)
	case st.Exited:
		res.ExitCode = st.ExitCode
		return res, nil
	case ctx.Err() != nil:
		return res, fmt.Errorf("buildroot: %s: %w", argv0, context.Cause(ctx))
	case runCtx.Err() != nil:
		res.TimedOut = true
		return res, nil
	default:
		return res, fmt.Errorf("buildroot: sandbox init for %s ended without a status: %v", argv0, waitErr)
	}
}

// readStatus merges the init's status messages until it exits.
func readStatus(r *os.File) initStatus {
	var st initStatus
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var m initStatus
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			st.Error = fmt.Sprintf("bad status message %q: %v", sc.Text(), err)
			continue
		}
		if m.Error != "" {
			st.Error = m.Error
		}
		if m.Exited {
			st.Exited, st.ExitCode = true, m.ExitCode
		}
	}
	return st
}

// layout is a sandbox's directories under its Upper directory.
type layout struct {
	dir                 string
	throwaway           bool
	upper, work, merged string
}

func newLayout(dir string) (*layout, error) {
	l := &layout{dir: dir}
	if dir == "" {
		d, err := os.MkdirTemp("", "slipway-sandbox-")
		if err != nil {
			return nil, fmt.Errorf("buildroot: %w", err)
		}
		l.dir, l.throwaway = d, true
	}
	l.upper = filepath.Join(l.dir, "upper")
	l.work = filepath.Join(l.dir, "work")
	l.merged = filepath.Join(l.dir, "merged")
	for _, d := range []string{l.upper, l.work, l.merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			l.remove(true)
			return nil, fmt.Errorf("buildroot: creating the sandbox directories: %w", err)
		}
	}
	return l, nil
}

// remove deletes the merged and work directories, and the upper layer
// unless keepUpper. Nothing is mounted on them in slipway's namespace.
func (l *layout) remove(keepUpper bool) error {
	dirs := []string{l.merged, l.work}
	switch {
	case l.throwaway && !keepUpper:
		dirs = []string{l.dir}
	case !keepUpper:
		dirs = append(dirs, l.upper)
	}
	var errs []error
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, fmt.Errorf("buildroot: removing %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}
