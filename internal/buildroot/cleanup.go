package buildroot

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Cleanup removes everything in dir, the directory of per-build
// directories, as left by a slipway that was killed; call it at start-up,
// when no other slipway uses dir. Sandbox mounts live only in the sandbox's
// namespace and vanish with it, so plain removal is enough; if anything is
// mounted below dir all the same, Cleanup removes nothing and says what.
func Cleanup(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("buildroot: cleanup: %w", err)
	}
	mounts, err := MountsBelow(dir)
	if err != nil {
		return err
	}
	if len(mounts) > 0 {
		return fmt.Errorf("buildroot: cleanup of %s: refusing to remove it, %d mount(s) below it: %s (unmount them first)",
			dir, len(mounts), strings.Join(mounts, ", "))
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("buildroot: cleanup: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			errs = append(errs, fmt.Errorf("buildroot: cleanup: %w", err))
		}
	}
	return errors.Join(errs...)
}

// MountsBelow lists the mount points strictly below dir in this process's
// mount namespace, from /proc/self/mountinfo.
func MountsBelow(dir string) ([]string, error) {
	return mountsBelow("/proc/self/mountinfo", dir)
}

func mountsBelow(mountinfo, dir string) ([]string, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return nil, fmt.Errorf("buildroot: reading mounts: %w", err)
	}
	defer f.Close()
	prefix := strings.TrimSuffix(filepath.Clean(dir), "/") + "/"
	var below []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		// id parent major:minor root mount-point options ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		if mp := unescapeMountinfo(fields[4]); strings.HasPrefix(mp, prefix) {
			below = append(below, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("buildroot: reading %s: %w", mountinfo, err)
	}
	return below, nil
}

// unescapeMountinfo decodes the \ooo octal escapes of mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
