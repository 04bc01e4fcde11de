// Package qemu boots images in QEMU (qemu-system-x86_64, TCG): headless
// until a marker appears on the serial console (Boot), or with the
// console on a terminal (Args with interactive set).
package qemu

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Binary is the QEMU system emulator slipway runs.
const Binary = "qemu-system-x86_64"

// OVMFPaths are where Debian 12's ovmf package puts a firmware image that
// works with -bios.
var OVMFPaths = []string{"/usr/share/ovmf/OVMF.fd", "/usr/share/OVMF/OVMF.fd"}

// DefaultBootTimeout is Boot's limit when BootOptions.Timeout is 0.
const DefaultBootTimeout = 120 * time.Second

// BootOptions say what QEMU boots and what it waits for.
type BootOptions struct {
	Firmware   string // "bios" (SeaBIOS, QEMU's default; also "") or "efi" (OVMF)
	Disk       string // a disk image attached as a virtio drive; optional
	DiskFormat string // QEMU's name of Disk's format ("raw", "vpc", "vhdx", "qcow2"); "" = raw
	CDROM      string // an ISO attached as the IDE CD-ROM; optional
	Marker     string // the console text that means success (Boot)
	Timeout    time.Duration
	Console    io.Writer // if set, gets every console line (Boot)
}

// DiskFormat is QEMU's name of the format of a disk artifact of type typ
// (raw, vhd, vhdx, qcow2), or "" when typ is not a disk image.
func DiskFormat(typ string) string {
	switch typ {
	case "raw", "vhdx", "qcow2":
		return typ
	case "vhd", "vhd-fixed":
		return "vpc"
	}
	return ""
}

// Installed says how to install Binary when it is not on PATH.
func Installed() error {
	if _, err := exec.LookPath(Binary); err != nil {
		return fmt.Errorf("%s is not installed (Debian package qemu-system-x86): %w", Binary, err)
	}
	return nil
}

// Args is the QEMU command line (Binary first) booting o.Disk and/or
// o.CDROM with o.Firmware: TCG, 512 MiB, no reboot, the serial console on
// QEMU's standard I/O. Headless (as Boot runs it) there is no display or
// monitor and the disk is read-only; interactive, -nographic puts the
// console and the monitor on the terminal (Ctrl-A X quits) and -snapshot
// sends the guest's writes to a temporary file, never to the disk.
func Args(o BootOptions, interactive bool) ([]string, error) {
	argv := []string{Binary, "-accel", "tcg", "-m", "512", "-no-reboot"}
	if interactive {
		argv = append(argv, "-nographic", "-snapshot")
	} else {
		argv = append(argv, "-display", "none", "-monitor", "none", "-serial", "stdio")
	}
	switch o.Firmware {
	case "bios", "":
	case "efi":
		ovmf := firstExisting(OVMFPaths)
		if ovmf == "" {
			return nil, fmt.Errorf("no OVMF firmware (package ovmf): none of %s", strings.Join(OVMFPaths, ", "))
		}
		argv = append(argv, "-bios", ovmf)
	default:
		return nil, fmt.Errorf("unknown firmware %q (bios or efi)", o.Firmware)
	}
	if o.Disk == "" && o.CDROM == "" {
		return nil, errors.New("neither a disk nor a CD-ROM to boot")
	}
	if o.Disk != "" {
		format := o.DiskFormat
		if format == "" {
			format = "raw"
		}
		drive := fmt.Sprintf("file=%s,format=%s,if=virtio", o.Disk, format)
		if !interactive {
			drive += ",readonly=on"
		}
		argv = append(argv, "-drive", drive)
	}
	if o.CDROM != "" {
		argv = append(argv, "-cdrom", o.CDROM)
	}
	return argv, nil
}

func firstExisting(paths []string) string {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// lockQEMU waits until no other process (go test runs packages in
// parallel) is running QEMU through Boot: a TCG guest is slow enough on
// its own. It holds an flock on a file in the temporary directory.
func lockQEMU(ctx context.Context) (unlock func(), err error) {
	name := filepath.Join(os.TempDir(), "slipway-qemu.lock")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK && err != syscall.EINTR {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Boot runs QEMU headless (see Args) on o's disk or CD-ROM and returns
// how long o.Marker took to appear, or an error with the last 60 console
// lines. After the marker the guest has 10 s to power off by itself;
// QEMU is killed in any case. Only one Boot runs at a time on the machine
// (see lockQEMU); o.Timeout starts once it is its turn.
func Boot(ctx context.Context, o BootOptions) (time.Duration, error) {
	if o.Marker == "" {
		return 0, fmt.Errorf("qemu.Boot: no marker to wait for")
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultBootTimeout
	}
	argv, err := Args(o, false)
	if err != nil {
		return 0, fmt.Errorf("qemu.Boot: %w", err)
	}
	if err := Installed(); err != nil {
		return 0, err
	}
	var what []string
	for _, f := range []string{o.Disk, o.CDROM} {
		if f != "" {
			what = append(what, f)
		}
	}
	firmware := o.Firmware
	if firmware == "" {
		firmware = "bios"
	}
	name := fmt.Sprintf("%s (%s)", strings.Join(what, " + "), firmware)
	unlock, err := lockQEMU(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()

	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 5 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	waited := make(chan error, 1)
	go func() { err := cmd.Wait(); pw.Close(); waited <- err }()

	var last []string
	var took time.Duration
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if o.Console != nil {
			fmt.Fprintln(o.Console, line)
		}
		if last = append(last, line); len(last) > 60 {
			last = last[1:]
		}
		if took == 0 && strings.Contains(line, o.Marker) {
			took = time.Since(start)
			time.AfterFunc(10*time.Second, cancel) // it should power off by itself
		}
	}
	io.Copy(io.Discard, pr)
	err = <-waited
	if took > 0 {
		return took, nil
	}
	return 0, fmt.Errorf("%s did not print %s (%v after %.0f s); last console lines:\n%s",
		name, o.Marker, err, time.Since(start).Seconds(), strings.Join(last, "\n"))
}
