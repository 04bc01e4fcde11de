package fsutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// LockedError is a lock another process holds.
type LockedError struct {
	Path   string
	Holder string // what the holder wrote: pid, command, start time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("another slipway is working on this project (lock %s held by %s); wait for it to finish", e.Path, e.Holder)
}

// Lock takes an exclusive lock on path (created if missing) without
// waiting, and writes who holds it there. The lock is the kernel's
// (flock): it goes away with the process, even one killed with SIGKILL.
func Lock(path, what string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Path: path, Holder: strings.TrimSpace(string(holder))}
		}
		return nil, err
	}
	f.Truncate(0)
	fmt.Fprintf(f, "pid %d (%s) since %s\n", os.Getpid(), what, time.Now().Format(time.RFC3339))
	return func() { f.Truncate(0); f.Close() }, nil
}
