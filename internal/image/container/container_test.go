package container

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"slipway/internal/fsutil"
	"slipway/internal/testutil"
)

const testEpoch = 1700000000

var testOpts = Options{
	Epoch:      testEpoch,
	Arch:       "x86_64",
	Cmd:        []string{"/bin/sh", "-c", "echo hi"},
	Env:        []string{"PATH=/bin", "GREETING=hello"},
	WorkingDir: "/",
	Labels:     map[string]string{"org.opencontainers.image.title": "tiny"},
}

// longName is deep enough that its tar entry needs more than USTAR.
var longName = strings.Repeat("deep-directory-name/", 6) + "file-with-a-long-name"

// makeRoot builds a small root: a static busybox with symlinks to it and a
// hard link, a setuid file, an empty and a sticky directory, a file owned
// by uid 1000, a FIFO, /dev/null and a file with a long path.
func makeRoot(t testing.TB) string {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "busybox")
	busybox, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "root")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"bin", "usr/bin", "empty", "home/user", "run", "dev", "tmp", filepath.Dir(longName)} {
		must(os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	must(os.WriteFile(filepath.Join(root, "bin/busybox"), busybox, 0o755))
	must(os.Symlink("busybox", filepath.Join(root, "bin/sh")))
	must(os.Symlink("busybox", filepath.Join(root, "bin/echo")))
	must(os.Link(filepath.Join(root, "bin/busybox"), filepath.Join(root, "bin/cat")))
	must(os.WriteFile(filepath.Join(root, "usr/bin/setuid"), []byte("#!/bin/sh\n"), 0o755))
	must(os.Chmod(filepath.Join(root, "usr/bin/setuid"), 0o4755|os.ModeSetuid))
	must(os.Chmod(filepath.Join(root, "tmp"), 0o777|os.ModeSticky))
	must(os.WriteFile(filepath.Join(root, "home/user/file"), []byte("mine\n"), 0o640))
	must(os.Chown(filepath.Join(root, "home/user/file"), 1000, 1000))
	must(os.Chown(filepath.Join(root, "home/user"), 1000, 1000))
	must(syscall.Mkfifo(filepath.Join(root, "run/fifo"), 0o600))
	must(syscall.Mknod(filepath.Join(root, "dev/null"), syscall.S_IFCHR|0o666, 1<<8|3))
	must(os.Chmod(filepath.Join(root, "dev/null"), 0o666)) // past the umask
	must(os.WriteFile(filepath.Join(root, longName), []byte("long\n"), 0o644))
	sock, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(root, "run/socket"), Net: "unix"})
	must(err)
	sock.SetUnlinkOnClose(false)
	must(sock.Close())
	must(os.WriteFile(filepath.Join(root, "usr/bin/ping"), []byte("not really ping\n"), 0o755))
	// cap_net_raw (bit 13) in the permitted and effective sets, VFS v2.
	capv := []byte{0x01, 0, 0, 0x02, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if err := syscall.Setxattr(filepath.Join(root, "usr/bin/ping"), capabilityXattr, capv, 0); err != nil {
		t.Logf("cannot set %s here (%v); the capability is not checked", capabilityXattr, err)
	}
	return root
}

// touchAll sets the times of everything under root (but symlinks) to when.
func touchAll(t *testing.T, root string, when time.Time) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		return os.Chtimes(p, when, when)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// artifacts are the outputs of writeAll, by name.
var artifacts = []string{"root.tar", "root.tar.gz", "root.tar.xz", "oci.tar", "oci", "docker.tar"}

// writeAll writes every artifact of root into dir, with one Layer when
// shared is set or one Write* call each otherwise, logging the times.
func writeAll(t *testing.T, root, dir string, shared bool) {
	t.Helper()
	ctx := context.Background()
	opts := testOpts
	opts.TempDir = t.TempDir()
	start := time.Now()
	var l *Layer
	if shared {
		var err error
		if l, err = NewLayer(ctx, root, opts); err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		t.Logf("NewLayer: %v", time.Since(start))
	}
	for _, name := range artifacts {
		out := filepath.Join(dir, name)
		start := time.Now()
		var err error
		switch name {
		case "root.tar", "root.tar.gz", "root.tar.xz":
			compression := strings.TrimPrefix(filepath.Ext(name), ".")
			if compression == "tar" {
				compression = ""
			}
			if shared {
				err = l.WriteTar(ctx, out, compression)
			} else {
				err = WriteRootTar(ctx, root, out, compression, opts)
			}
		case "oci.tar":
			if shared {
				err = l.WriteOCIArchive(ctx, out, "latest")
			} else {
				err = WriteOCIArchive(ctx, root, out, "latest", opts)
			}
		case "oci":
			if shared {
				err = l.WriteOCILayout(ctx, out, "latest")
			} else {
				err = WriteOCILayout(ctx, root, out, "latest", opts)
			}
		case "docker.tar":
			if shared {
				err = l.WriteDockerArchive(ctx, out, "tiny:latest")
			} else {
				err = WriteDockerArchive(ctx, root, out, "tiny:latest", opts)
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s (shared layer %v): %v", name, shared, time.Since(start))
	}
	if entries, _ := os.ReadDir(opts.TempDir); l == nil && len(entries) != 0 {
		t.Errorf("%d temporary files left in %s", len(entries), opts.TempDir)
	}
}

// digest hashes a file, or a directory's file names, modes and contents.
func digest(t *testing.T, path string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		io.WriteString(h, rel+"\x00"+info.Mode().String()+"\x00")
		if d.Type().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			io.Copy(h, f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestReproducible writes every artifact twice, through a shared Layer
// and through the Write* functions, with other file times in between,
// and wants the same bytes.
func TestReproducible(t *testing.T) {
	testutil.RequireTools(t, "xz")
	root := makeRoot(t)
	a, b := t.TempDir(), t.TempDir()
	touchAll(t, root, time.Unix(1600000000, 0))
	writeAll(t, root, a, true)
	touchAll(t, root, time.Now())
	writeAll(t, root, b, false)
	for _, name := range artifacts {
		da, db := digest(t, filepath.Join(a, name)), digest(t, filepath.Join(b, name))
		if da != db {
			t.Errorf("%s differs between runs: %s, %s", name, da, db)
		}
	}
	// The gzip rootfs is the image's layer blob.
	gz, err := fsutil.SHA256File(filepath.Join(a, "root.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(a, "oci/blobs/sha256", gz)); err != nil {
		t.Errorf("root.tar.gz is not the OCI layer: %v", err)
	}
	// Writing again replaces the outputs.
	writeAll(t, root, a, true)
	if entries, _ := os.ReadDir(a); len(entries) != len(artifacts) {
		t.Errorf("%d entries in %s after rewriting, want %d", len(entries), a, len(artifacts))
	}
}

// readTar returns the headers of a tar stream, by name, in order.
func readTar(t *testing.T, r io.Reader) (map[string]*tar.Header, []string) {
	t.Helper()
	tr := tar.NewReader(r)
	hdrs := map[string]*tar.Header{}
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return hdrs, names
		}
		if err != nil {
			t.Fatal(err)
		}
		hdrs[hdr.Name] = hdr
		names = append(names, hdr.Name)
	}
}

// TestTarContents reads the compressed root tars back, with Go and with
// GNU tar, and checks every kind of file.
func TestTarContents(t *testing.T) {
	testutil.RequireTools(t, "xz", "tar")
	root := makeRoot(t)
	dir := t.TempDir()
	ctx := context.Background()
	for _, c := range []string{"gz", "xz"} {
		out := filepath.Join(dir, "root.tar."+c)
		if err := WriteRootTar(ctx, root, out, c, testOpts); err != nil {
			t.Fatal(err)
		}
		var data []byte
		var err error
		if c == "gz" {
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			if zr.Name != "" || !zr.ModTime.IsZero() {
				t.Errorf("gzip header has name %q, mtime %v", zr.Name, zr.ModTime)
			}
			data, err = io.ReadAll(zr)
			f.Close()
		} else {
			data, err = exec.Command("xz", "-dc", out).Output()
		}
		if err != nil {
			t.Fatal(err)
		}
		hdrs, names := readTar(t, bytes.NewReader(data))
		for _, n := range names {
			if strings.HasPrefix(n, "./") || strings.HasPrefix(n, "/") {
				t.Errorf("%s: entry %q has a prefix", c, n)
			}
			h := hdrs[n]
			if h.ModTime.Unix() != testEpoch || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() || h.Uname != "" || h.Gname != "" {
				t.Errorf("%s: %s: mtime %v atime %v ctime %v owner names %q %q", c, n, h.ModTime, h.AccessTime, h.ChangeTime, h.Uname, h.Gname)
			}
		}
		check := func(name string, typ byte, mode int64, uid int, link string) {
			t.Helper()
			h := hdrs[name]
			if h == nil {
				t.Errorf("%s: no entry %s", c, name)
				return
			}
			if h.Typeflag != typ || h.Mode != mode || h.Uid != uid || h.Gid != uid || h.Linkname != link {
				t.Errorf("%s: %s: type %c mode %#o uid %d gid %d link %q, want %c %#o %d %q", c, name, h.Typeflag, h.Mode, h.Uid, h.Gid, h.Linkname, typ, mode, uid, link)
			}
		}
		check("bin/", tar.TypeDir, 0o755, 0, "")
		check("bin/busybox", tar.TypeReg, 0o755, 0, "")
		check("bin/cat", tar.TypeLink, 0o755, 0, "bin/busybox")
		check("bin/sh", tar.TypeSymlink, 0o777, 0, "busybox")
		check("bin/echo", tar.TypeSymlink, 0o777, 0, "busybox")
		check("usr/bin/setuid", tar.TypeReg, 0o4755, 0, "")
		check("tmp/", tar.TypeDir, 0o1777, 0, "")
		check("empty/", tar.TypeDir, 0o755, 0, "")
		check("home/user/", tar.TypeDir, 0o755, 1000, "")
		check("home/user/file", tar.TypeReg, 0o640, 1000, "")
		check("run/fifo", tar.TypeFifo, 0o600, 0, "")
		check("dev/null", tar.TypeChar, 0o666, 0, "")
		check(longName, tar.TypeReg, 0o644, 0, "")
		if h := hdrs["dev/null"]; h != nil && (h.Devmajor != 1 || h.Devminor != 3) {
			t.Errorf("%s: dev/null is %d,%d, want 1,3", c, h.Devmajor, h.Devminor)
		}
		if h := hdrs["bin/busybox"]; h != nil && h.Size != int64(len(mustRead(t, filepath.Join(root, "bin/busybox")))) {
			t.Errorf("%s: bin/busybox has size %d", c, h.Size)
		}
		if _, err := getxattr(filepath.Join(root, "usr/bin/ping"), capabilityXattr); err == nil {
			want, _ := getxattr(filepath.Join(root, "usr/bin/ping"), capabilityXattr)
			if h := hdrs["usr/bin/ping"]; want != nil && (h == nil || h.PAXRecords["SCHILY.xattr."+capabilityXattr] != string(want)) {
				t.Errorf("%s: usr/bin/ping lost its capability", c)
			}
		}
		if _, ok := hdrs["run/socket"]; ok {
			t.Errorf("%s: the archive has the socket", c)
		}
		if _, ok := hdrs[""]; ok {
			t.Errorf("%s: the archive has an entry for the root", c)
		}
		// GNU tar reads it, and lists numeric owners.
		list, err := exec.Command("tar", "--numeric-owner", "-tvf", out).CombinedOutput()
		if err != nil {
			t.Fatalf("tar -tvf %s: %v\n%s", out, err, list)
		}
		for _, want := range []string{"bin/cat link to bin/busybox", "bin/sh -> busybox", "-rwsr-xr-x 0/0", "1000/1000", "2023-11-14"} {
			if !bytes.Contains(list, []byte(want)) {
				t.Errorf("%s: tar -tvf does not show %q:\n%s", c, want, list)
			}
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func run(t *testing.T, argv ...string) []byte {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return out
}

// TestOCI unpacks the layout and the archive with umoci, runs the
// image's shell in a chroot and reads the image back with skopeo.
func TestOCI(t *testing.T) {
	testutil.RequireTools(t, "umoci", "skopeo", "tar", "chroot")
	root := makeRoot(t)
	dir := t.TempDir()
	ctx := context.Background()
	l, err := NewLayer(ctx, root, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	layout, archive := filepath.Join(dir, "oci"), filepath.Join(dir, "oci.tar")
	if err := l.WriteOCILayout(ctx, layout, "v1"); err != nil {
		t.Fatal(err)
	}
	if err := l.WriteOCIArchive(ctx, archive, "v1"); err != nil {
		t.Fatal(err)
	}
	extracted := filepath.Join(dir, "extracted")
	if err := os.Mkdir(extracted, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "tar", "-xf", archive, "-C", extracted)
	if digest(t, extracted) != digest(t, layout) {
		t.Error("the OCI archive does not hold the OCI layout")
	}
	for i, image := range []string{layout, extracted} {
		bundle := filepath.Join(dir, "bundle"+string(rune('0'+i)))
		run(t, "umoci", "unpack", "--image", image+":v1", bundle)
		out := run(t, "chroot", filepath.Join(bundle, "rootfs"), "/bin/sh", "-c", "echo hello-from-image")
		if strings.TrimSpace(string(out)) != "hello-from-image" {
			t.Errorf("the image's shell said %q", out)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(bundle, "rootfs/usr/bin/setuid"), &st); err != nil || st.Mode&0o7777 != 0o4755 {
			t.Errorf("unpacked usr/bin/setuid: mode %#o, %v", st.Mode&0o7777, err)
		}
		var cfg struct {
			Process struct {
				Args []string
				Env  []string
			}
		}
		if err := json.Unmarshal(mustRead(t, filepath.Join(bundle, "config.json")), &cfg); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cfg.Process.Args, testOpts.Cmd) || !slices.Contains(cfg.Process.Env, "GREETING=hello") {
			t.Errorf("umoci's runtime config: args %q env %q", cfg.Process.Args, cfg.Process.Env)
		}
	}

	var inspect struct {
		Architecture, Os string
		Created          time.Time
		Layers           []string
		Labels           map[string]string
	}
	if err := json.Unmarshal(run(t, "skopeo", "inspect", "oci-archive:"+archive+":v1"), &inspect); err != nil {
		t.Fatal(err)
	}
	if inspect.Architecture != "amd64" || inspect.Os != "linux" || inspect.Created.Unix() != testEpoch || len(inspect.Layers) != 1 || inspect.Labels["org.opencontainers.image.title"] != "tiny" {
		t.Errorf("skopeo inspect: %+v", inspect)
	}
	var config struct {
		Config struct{ Cmd, Env []string }
	}
	if err := json.Unmarshal(run(t, "skopeo", "inspect", "--config", "oci:"+layout+":v1"), &config); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(config.Config.Cmd, testOpts.Cmd) || !slices.Equal(config.Config.Env, testOpts.Env) {
		t.Errorf("skopeo inspect --config: %+v", config)
	}
	run(t, "skopeo", "--insecure-policy", "copy", "oci-archive:"+archive+":v1", "docker-archive:"+filepath.Join(dir, "copied.tar")+":tiny:latest")
}

// TestDockerArchive reads the docker archive back with skopeo and Go.
func TestDockerArchive(t *testing.T) {
	testutil.RequireTools(t, "skopeo")
	root := makeRoot(t)
	out := filepath.Join(t.TempDir(), "docker.tar")
	if err := WriteDockerArchive(context.Background(), root, out, "tiny:latest", testOpts); err != nil {
		t.Fatal(err)
	}
	var inspect struct {
		Architecture string
		RepoTags     []string
		Layers       []string
	}
	if err := json.Unmarshal(run(t, "skopeo", "inspect", "docker-archive:"+out), &inspect); err != nil {
		t.Fatal(err)
	}
	if inspect.Architecture != "amd64" || len(inspect.Layers) != 1 {
		t.Errorf("skopeo inspect: %+v", inspect)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("no manifest.json in %s: %v", out, err)
		}
		if hdr.Name != "manifest.json" {
			continue
		}
		var manifest []struct{ RepoTags []string }
		if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
			t.Fatal(err)
		}
		if len(manifest) != 1 || !slices.Equal(manifest[0].RepoTags, []string{"tiny:latest"}) {
			t.Errorf("manifest.json: %+v", manifest)
		}
		break
	}
	// skopeo reads the tag too.
	run(t, "skopeo", "inspect", "docker-archive:"+out+":tiny:latest")
}

// TestBadInput wants errors that name the culprit and nothing left over.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := testOpts
	opts.TempDir = t.TempDir()
	missing := filepath.Join(dir, "no-such-root")
	err := WriteRootTar(ctx, missing, filepath.Join(dir, "out.tar"), "", opts)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing root: %v", err)
	}
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	badOut := filepath.Join(dir, "no-such-dir", "out.tar")
	for name, write := range map[string]func() error{
		"tar":    func() error { return WriteRootTar(ctx, root, badOut, "gz", opts) },
		"oci":    func() error { return WriteOCIArchive(ctx, root, badOut, "latest", opts) },
		"layout": func() error { return WriteOCILayout(ctx, root, badOut, "latest", opts) },
		"docker": func() error { return WriteDockerArchive(ctx, root, badOut, "tiny:latest", opts) },
		"compression": func() error {
			return WriteRootTar(ctx, root, filepath.Join(dir, "out.tar.zst"), "zst", opts)
		},
		"tag": func() error {
			return WriteDockerArchive(ctx, root, filepath.Join(dir, "bad.tar"), "Not A Tag", opts)
		},
	} {
		if err := write(); err == nil {
			t.Errorf("%s: no error", name)
		} else if name != "tag" && name != "compression" && !strings.Contains(err.Error(), badOut) && !strings.Contains(err.Error(), "zst") {
			t.Errorf("%s: error does not name the output: %v", name, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := WriteRootTar(cancelled, root, filepath.Join(dir, "cancelled.tar"), "", opts); err == nil {
		t.Error("a cancelled write succeeded")
	}
	if entries, _ := os.ReadDir(opts.TempDir); len(entries) != 0 {
		t.Errorf("%d temporary files left in %s", len(entries), opts.TempDir)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 { // root
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left in %s: %v", dir, names)
	}
}

// TestDebianRoot writes the artifacts of a real Debian root (made once by
// mmdebstrap), logs the times, and runs its shell from umoci's bundle.
func TestDebianRoot(t *testing.T) {
	if testing.Short() {
		t.Skip("a Debian root takes a while")
	}
	testutil.RequireTools(t, "umoci", "chroot")
	root := testutil.DebianRoot(t, "")
	ctx := context.Background()
	dir := t.TempDir()
	start := time.Now()
	l, err := NewLayer(ctx, root, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Logf("NewLayer (%d MB tar): %v", l.size>>20, time.Since(start))
	steps := []struct {
		name  string
		write func() error
	}{
		{"root.tar.gz", func() error { return l.WriteTar(ctx, filepath.Join(dir, "root.tar.gz"), "gz") }},
		{"oci.tar", func() error { return l.WriteOCIArchive(ctx, filepath.Join(dir, "oci.tar"), "latest") }},
		{"oci", func() error { return l.WriteOCILayout(ctx, filepath.Join(dir, "oci"), "latest") }},
		{"docker.tar", func() error { return l.WriteDockerArchive(ctx, filepath.Join(dir, "docker.tar"), "debian:test") }},
	}
	for _, s := range steps {
		start := time.Now()
		if err := s.write(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		info, _ := os.Stat(filepath.Join(dir, s.name))
		t.Logf("%s: %v (%d MB)", s.name, time.Since(start), info.Size()>>20)
	}
	bundle := filepath.Join(dir, "bundle")
	run(t, "umoci", "unpack", "--image", filepath.Join(dir, "oci")+":latest", bundle)
	out := run(t, "chroot", filepath.Join(bundle, "rootfs"), "/bin/sh", "-c", "echo hello-from-image")
	if strings.TrimSpace(string(out)) != "hello-from-image" {
		t.Errorf("the image's shell said %q", out)
	}
}

// BenchmarkArtifacts makes the test root's layer and every artifact but
// the xz tar.
func BenchmarkArtifacts(b *testing.B) {
	root := makeRoot(b)
	ctx := context.Background()
	dir := b.TempDir()
	for b.Loop() {
		l, err := NewLayer(ctx, root, testOpts)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range []error{
			l.WriteTar(ctx, filepath.Join(dir, "root.tar.gz"), "gz"),
			l.WriteOCIArchive(ctx, filepath.Join(dir, "oci.tar"), "latest"),
			l.WriteOCILayout(ctx, filepath.Join(dir, "oci"), "latest"),
			l.WriteDockerArchive(ctx, filepath.Join(dir, "docker.tar"), "tiny:latest"),
		} {
			if err != nil {
				b.Fatal(err)
			}
		}
		l.Close()
	}
}
