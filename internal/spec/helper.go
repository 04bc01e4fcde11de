package spec

import (
	"bufio"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"slipway/internal/fsutil"
)

//go:embed helper/specq.c
var helperSource []byte

// HelperPath returns the evaluation helper for this host, compiling it from
// its embedded C source into cacheDir on first use. It links librpm and
// librpmbuild (Debian: librpm-dev) and is named by a hash of its source.
func HelperPath(ctx context.Context, cacheDir string) (string, error) {
	sum := sha256.Sum256(helperSource)
	bin := filepath.Join(cacheDir, "slipway-specq-"+hex.EncodeToString(sum[:])[:12])
	dir := bin + ".d"
	err := fsutil.MakeDirOnce(dir, func(tmp string) error {
		src := filepath.Join(tmp, "specq.c")
		if err := os.WriteFile(src, helperSource, 0o644); err != nil {
			return err
		}
		cc := os.Getenv("CC")
		if cc == "" {
			cc = "cc"
		}
		cmd := exec.CommandContext(ctx, cc, "-O2", "-o", filepath.Join(tmp, "slipway-specq"), src, "-lrpmbuild", "-lrpm", "-lrpmio")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("compiling the spec evaluation helper (needs a C compiler and librpm-dev: apt-get install gcc librpm-dev): %v\n%s", err, msg)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "slipway-specq"), nil
}

// RPMEnv is the environment rpm tools (the helper, rpmspec, rpmbuild) run
// in with a project's macros: only the rpm configuration slipway prepared
// (see PrepareConfigDir), no user macros (HOME is home, normally empty), a
// fixed locale, and RPM_BUILD_NCPUS set so %{_smp_build_ncpus} needs no
// getconf. The project's defines are passed separately, as -D options.
func RPMEnv(configDir, home string, ncpus int) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"LC_ALL=C",
		"RPM_CONFIGDIR=" + configDir,
		fmt.Sprintf("RPM_BUILD_NCPUS=%d", ncpus),
	}
}

// helperProc is one running helper: requests go in one at a time.
type helperProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

// helperPool runs up to n helpers with the same configuration, started on
// demand; a helper that times out or breaks is killed and replaced.
type helperPool struct {
	bin     string
	args    []string
	env     []string
	timeout time.Duration

	mu      sync.Mutex
	idle    []*helperProc
	started int // helper processes started, for reports
	forked  int // specs evaluated (one child each)
}

func newHelperPool(bin string, defines []string, env []string, timeout time.Duration) *helperPool {
	args := []string{"--srpm-qf", SRPMQueryFormat, "--rpm-qf", RPMQueryFormat}
	for _, d := range defines {
		args = append(args, "-D", d)
	}
	return &helperPool{bin: bin, args: args, env: env, timeout: timeout}
}

func (p *helperPool) get() (*helperProc, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		h := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return h, nil
	}
	p.started++
	p.mu.Unlock()

	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the spec evaluation helper: %w", err)
	}
	return &helperProc{cmd: cmd, stdin: stdin, stdout: bufio.NewReaderSize(stdout, 1<<16)}, nil
}

// kill ends a helper and the child it may be running (its process group).
func (h *helperProc) kill() {
	syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
	h.stdin.Close()
	h.cmd.Wait()
}

// close ends every idle helper.
func (p *helperPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.idle {
		h.stdin.Close()
		h.cmd.Wait()
	}
	p.idle = nil
}

var errTimeout = errors.New("timed out")

// evaluate asks a helper to evaluate one spec with extra per-spec defines.
func (p *helperPool) evaluate(ctx context.Context, specPath string, defines []string) (rawResult, error) {
	for _, s := range append([]string{specPath}, defines...) {
		if strings.ContainsAny(s, "\t\n") {
			return rawResult{}, fmt.Errorf("%q: tabs and newlines are not allowed here", s)
		}
	}
	h, err := p.get()
	if err != nil {
		return rawResult{}, err
	}
	type reply struct {
		r   rawResult
		err error
	}
	done := make(chan reply, 1)
	go func() {
		r, err := h.request(specPath, defines)
		done <- reply{r, err}
	}()
	timer := time.NewTimer(p.timeout)
	defer timer.Stop()
	select {
	case rep := <-done:
		if rep.err != nil {
			h.kill()
			return rawResult{}, rep.err
		}
		p.mu.Lock()
		p.idle = append(p.idle, h)
		p.forked++
		p.mu.Unlock()
		return rep.r, nil
	case <-timer.C:
		h.kill()
		<-done
		return rawResult{}, fmt.Errorf("evaluation %w after %s", errTimeout, p.timeout)
	case <-ctx.Done():
		h.kill()
		<-done
		return rawResult{}, ctx.Err()
	}
}

func (h *helperProc) request(specPath string, defines []string) (rawResult, error) {
	line := strings.Join(append([]string{specPath}, defines...), "\t") + "\n"
	if _, err := io.WriteString(h.stdin, line); err != nil {
		return rawResult{}, fmt.Errorf("spec evaluation helper: %w", err)
	}
	head, err := h.stdout.ReadString('\n')
	if err != nil {
		return rawResult{}, fmt.Errorf("spec evaluation helper stopped: %w", err)
	}
	status, outLen, errLen, err := parseFrameHeader(strings.TrimSuffix(head, "\n"))
	if err != nil {
		return rawResult{}, err
	}
	buf := make([]byte, outLen+errLen)
	if _, err := io.ReadFull(h.stdout, buf); err != nil {
		return rawResult{}, fmt.Errorf("spec evaluation helper: short result: %w", err)
	}
	r := rawResult{Status: status, Stderr: string(buf[outLen:])}
	if status == 0 {
		if r.SRPM, r.RPMs, r.Extra, err = splitSections(string(buf[:outLen])); err != nil {
			return rawResult{}, err
		}
	}
	return r, nil
}
