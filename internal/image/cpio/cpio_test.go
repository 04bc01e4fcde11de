package cpio

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"slipway/internal/testutil"
)

const epoch = 1577836800

// makeTree fills a directory with one of each kind of file cpio holds
// (a device node only as root) and returns it.
func makeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "etc", "empty"), 0o700))
	must(os.WriteFile(filepath.Join(dir, "bin", "tool"), []byte("#!/bin/sh\necho tool\n"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "etc", "a.conf"), []byte("odd length!"), 0o644))
	must(os.Link(filepath.Join(dir, "etc", "a.conf"), filepath.Join(dir, "etc", "b.conf")))
	must(os.WriteFile(filepath.Join(dir, "empty-file"), nil, 0o600))
	must(os.Symlink("bin/tool", filepath.Join(dir, "link")))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o640))
	if os.Geteuid() == 0 {
		must(syscall.Mknod(filepath.Join(dir, "console"), syscall.S_IFCHR|0o600, 5<<8|1))
	}
	return dir
}

func touchAll(t *testing.T, dir string, when time.Time) {
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			err = exec.Command("touch", "-h", "-d", when.Format(time.RFC3339), p).Run()
		}
		if err != nil {
			t.Fatal(err)
		}
		return nil
	})
}

func TestWriteDirIsReproducibleAndReadByGNUCpio(t *testing.T) {
	testutil.RequireTools(t, "cpio", "touch")
	dir := makeTree(t)
	var first, second bytes.Buffer
	touchAll(t, dir, time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC))
	if err := WriteDir(&first, dir, epoch); err != nil {
		t.Fatal(err)
	}
	touchAll(t, dir, time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC))
	if err := WriteDir(&second, dir, epoch); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatal("two archives of the same tree with different file times differ")
	}
	if !bytes.HasPrefix(first.Bytes(), []byte("070701")) || first.Len()%4 != 0 {
		t.Fatalf("not a padded newc archive: %q...", first.Bytes()[:16])
	}

	list := exec.Command("cpio", "-t", "-v", "--quiet", "--numeric-uid-gid")
	list.Stdin = bytes.NewReader(first.Bytes())
	out, err := list.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -t -v: %v\n%s", err, out)
	}
	t.Logf("cpio -t -v:\n%s", out)
	for _, want := range []string{"-rwxr-xr-x   1 0        0              20 Jan  1  2020 bin/tool",
		"drwx------   2", "etc/empty", "-rw-r--r--   2", "etc/a.conf", "etc/b.conf",
		"lrwxrwxrwx", "link -> bin/tool", "prw-r-----", "fifo"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("cpio -t -v lacks %q", want)
		}
	}
	if strings.Contains(string(out), "./") {
		t.Error("paths start with ./")
	}

	x := t.TempDir()
	in := exec.Command("cpio", "-i", "-d", "--quiet", "--no-absolute-filenames")
	in.Dir, in.Stdin = x, bytes.NewReader(first.Bytes())
	if out, err := in.CombinedOutput(); err != nil {
		t.Fatalf("cpio -i: %v\n%s", err, out)
	}
	for _, f := range []string{"bin/tool", "etc/a.conf", "etc/b.conf"} {
		want, _ := os.ReadFile(filepath.Join(dir, f))
		got, err := os.ReadFile(filepath.Join(x, f))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("extracted %s = %q, %v; want %q", f, got, err, want)
		}
	}
	a, _ := os.Stat(filepath.Join(x, "etc", "a.conf"))
	b, _ := os.Stat(filepath.Join(x, "etc", "b.conf"))
	if a == nil || b == nil || !os.SameFile(a, b) {
		t.Error("etc/a.conf and etc/b.conf were not extracted as hard links")
	}
	if target, err := os.Readlink(filepath.Join(x, "link")); err != nil || target != "bin/tool" {
		t.Errorf("link -> %q, %v", target, err)
	}
	if st, err := os.Lstat(filepath.Join(x, "fifo")); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("fifo: %v, %v", st, err)
	}
	if os.Geteuid() == 0 {
		st, err := os.Lstat(filepath.Join(x, "console"))
		if err != nil || st.Mode()&os.ModeCharDevice == 0 || st.Sys().(*syscall.Stat_t).Rdev != 5<<8|1 {
			t.Errorf("console: %v, %v", st, err)
		}
	}
}

func TestWriterSynthesisedTree(t *testing.T) {
	testutil.RequireTools(t, "cpio")
	var buf bytes.Buffer
	w := NewWriter(&buf, epoch)
	for _, err := range []error{
		w.AddDir("bin", 0o755, 0, 0),
		w.AddFile("bin/hello", 0o4755, 0, 0, []byte("hi")),
		w.AddSymlink("bin/sh", "hello", 0, 0),
		w.AddDevice("console", true, 0o600, 0, 0, 5, 1),
		w.AddDir("home", 0o755, 1000, 1000),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []string{"/abs", "./x", "a/../b", "", "bin"} {
		if err := w.AddDir(bad, 0o755, 0, 0); err == nil {
			t.Errorf("AddDir(%q) was accepted", bad)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	list := exec.Command("cpio", "-t", "-v", "--quiet", "--numeric-uid-gid")
	list.Stdin = &buf
	out, err := list.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -t -v: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{"-rwsr-xr-x   1 0        0               2 Jan  1  2020 bin/hello",
		"bin/sh -> hello", "crw-------   1 0        0          5,   1 Jan  1  2020 console",
		"drwxr-xr-x   2 1000     1000            0 Jan  1  2020 home"} {
		if !strings.Contains(got, want) {
			t.Errorf("cpio -t -v lacks %q:\n%s", want, got)
		}
	}
}

func TestWriteGzipFile(t *testing.T) {
	testutil.RequireTools(t, "cpio", "gzip")
	dir := makeTree(t)
	outDir := t.TempDir()
	a, b := filepath.Join(outDir, "a.cpio.gz"), filepath.Join(outDir, "b.cpio.gz")
	if err := WriteGzipFile(dir, a, epoch); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(dir, "bin", "tool"), time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := WriteGzipFile(dir, b, epoch); err != nil {
		t.Fatal(err)
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if !bytes.Equal(da, db) {
		t.Fatal("two gzip archives of the same tree differ")
	}
	if !bytes.Equal(da[4:8], []byte{0, 0, 0, 0}) || da[3]&0x08 != 0 {
		t.Errorf("gzip header has a time or a name: % x", da[:10])
	}
	sh := exec.Command("sh", "-c", `gzip -dc "$1" | cpio -t --quiet`, "sh", a)
	if out, err := sh.CombinedOutput(); err != nil || !strings.Contains(string(out), "etc/b.conf") {
		t.Errorf("gzip -dc | cpio -t: %v\n%s", err, out)
	}

	// A failure leaves neither the output nor a temporary file.
	failed := filepath.Join(outDir, "failed.cpio.gz")
	boom := errors.New("boom")
	if err := CreateGzip(failed, epoch, func(*Writer) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("CreateGzip error = %v, want boom", err)
	}
	if err := WriteGzipFile(filepath.Join(dir, "missing"), failed, epoch); err == nil {
		t.Error("archiving a missing directory succeeded")
	}
	entries, _ := os.ReadDir(outDir)
	if len(entries) != 2 {
		t.Errorf("%s holds %v, want only a.cpio.gz and b.cpio.gz", outDir, entries)
	}
}
