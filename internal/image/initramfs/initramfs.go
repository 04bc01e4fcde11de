// Package initramfs makes the initial RAM file system that finds and
// mounts an image's root file system: busybox and the kernel modules of
// the storage drivers, both taken from the image root, and a generated
// /init script, in a reproducible gzip-compressed cpio archive.
package initramfs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"slipway/internal/image"
	"slipway/internal/image/cpio"
)

// DefaultModules are loaded when Options.Modules is nil: the disk drivers
// of QEMU/KVM (virtio), Hyper-V/Azure, NVMe and SATA, and ext4. Those the
// kernel has built in, or does not have at all, are skipped.
var DefaultModules = []string{"virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod", "ahci",
	"nvme", "hv_storvsc", "ext4"}

// Options say what goes into an initramfs.
type Options struct {
	// Root is the image's root directory: busybox is taken from its
	// /usr/bin, /bin, /usr/sbin or /sbin (with its ELF interpreter and
	// libraries if it is dynamically linked), the modules from
	// /usr/lib/modules/<KernelVersion> (or /lib/modules/...), whose
	// modules.dep (depmod's, or busybox depmod's) must exist.
	Root string
	// KernelVersion names the module directory; "" = the only one there is.
	KernelVersion string
	// Modules are the names of the modules to load ("-" and "_" are the
	// same); each is loaded after the modules it depends on. Modules the
	// kernel has built in (modules.builtin) are skipped; a name the
	// kernel does not have is an error. nil = DefaultModules, of which
	// missing ones are skipped.
	Modules []string
	// Epoch is the time of every file in the archive (seconds since
	// 1970); 0 = image.DefaultEpoch.
	Epoch int64
}

// Make writes the initramfs described by o to out (gzip-compressed newc
// cpio), atomically. The same root and options give the same bytes.
//
// Its /init mounts /proc, /sys and /dev (devtmpfs), loads the modules in
// dependency order, reads root= (UUID=..., LABEL=... or a /dev path),
// rootfstype=, rootflags=, ro or rw (default ro) and init= (default
// /sbin/init) from the kernel command line, waits up to 10 s for the root
// device, mounts it on /newroot, moves /dev, /proc and /sys there and
// switch_roots to init. On failure it says why on the console, then
// starts a shell if the command line has rd.shell, and powers off after
// 10 s otherwise.
func Make(ctx context.Context, o Options, out string) error {
	t, err := build(o)
	if err != nil {
		return fmt.Errorf("initramfs %s: %w", out, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return cpio.CreateGzip(out, image.EpochOrDefault(o.Epoch), t.write)
}

// build collects the archive's contents.
func build(o Options) (*tree, error) {
	if o.Root == "" {
		return nil, fmt.Errorf("no image root given")
	}
	if st, err := os.Stat(o.Root); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("image root %s is not a directory", o.Root)
	}
	t := newTree(o.Root)
	bb, err := t.addBusybox()
	if err != nil {
		return nil, err
	}
	mods, err := t.addModules(o)
	if err != nil {
		return nil, err
	}
	t.dirs("dev", "proc", "sys", "newroot", "run", "tmp")
	t.nodes["dev/console"] = node{kind: device, mode: 0o600, major: 5, minor: 1}
	t.nodes["init"] = node{kind: file, mode: 0o755, data: []byte(initScript(bb, mods))}
	return t, nil
}

// addBusybox adds the image's busybox and what it needs to run, and
// returns its path in the archive.
func (t *tree) addBusybox() (string, error) {
	for _, p := range []string{"/usr/bin/busybox", "/bin/busybox", "/usr/sbin/busybox", "/sbin/busybox"} {
		if _, err := os.Stat(filepath.Join(t.root, p)); err != nil {
			continue
		}
		if err := t.addELF(p); err != nil {
			return "", fmt.Errorf("busybox: %w", err)
		}
		return p, nil
	}
	return "", fmt.Errorf("%s has no busybox (in /usr/bin, /bin, /usr/sbin or /sbin): the image must install busybox for its initramfs", t.root)
}

// libDirs are searched for the libraries a dynamically linked busybox
// needs, in this order.
var libDirs = []string{"/lib64", "/usr/lib64", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"}

// addELF adds the program or library at p (absolute, inside the root) and,
// recursively, its ELF interpreter and DT_NEEDED libraries, and the root's
// /etc/ld.so.cache when there is something to load.
func (t *tree) addELF(p string) error {
	if _, ok := t.elfs[p]; ok {
		return nil
	}
	t.elfs[p] = true
	real, err := t.addFile(p)
	if err != nil {
		return err
	}
	f, err := elf.Open(filepath.Join(t.root, real))
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(t.root, p), err)
	}
	defer f.Close()
	var deps []string
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			b, err := io.ReadAll(prog.Open())
			if err != nil {
				return fmt.Errorf("%s: reading its interpreter: %w", filepath.Join(t.root, p), err)
			}
			deps = append(deps, string(bytes.TrimRight(b, "\x00")))
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(t.root, p), err)
	}
	for _, lib := range libs {
		found := ""
		for _, dir := range libDirs {
			if st, err := os.Stat(filepath.Join(t.root, dir, lib)); err == nil && st.Mode().IsRegular() {
				found = path.Join(dir, lib)
				break
			}
		}
		if found == "" {
			return fmt.Errorf("%s needs %s, which is in none of %s under %s", p, lib, strings.Join(libDirs, ", "), t.root)
		}
		deps = append(deps, found)
	}
	if len(deps) > 0 {
		if _, err := os.Stat(filepath.Join(t.root, "etc", "ld.so.cache")); err == nil {
			if _, err := t.addFile("/etc/ld.so.cache"); err != nil {
				return err
			}
		}
	}
	for _, d := range deps {
		if err := t.addELF(d); err != nil {
			return err
		}
	}
	return nil
}

// addModules adds the modules o asks for and their dependencies, and
// returns their paths in the archive in loading order.
func (t *tree) addModules(o Options) ([]string, error) {
	base, kver, err := moduleDir(o.Root, o.KernelVersion)
	if err != nil {
		return nil, err
	}
	dep, err := readModulesDep(filepath.Join(o.Root, base, "modules.dep"))
	if err != nil {
		return nil, err
	}
	builtin, err := readBuiltin(filepath.Join(o.Root, base, "modules.builtin"))
	if err != nil {
		return nil, err
	}
	want, optional := o.Modules, false
	if want == nil {
		want, optional = DefaultModules, true
	}
	order, err := loadOrder(dep, builtin, want, optional)
	if err != nil {
		return nil, fmt.Errorf("kernel %s (%s): %w", kver, filepath.Join(o.Root, base, "modules.dep"), err)
	}
	var paths []string
	for _, rel := range order {
		src := filepath.Join(o.Root, base, rel)
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("module %s of modules.dep: %w", rel, err)
		}
		switch {
		case strings.HasSuffix(rel, ".ko"):
		case strings.HasSuffix(rel, ".ko.gz"):
			if data, err = gunzip(data); err != nil {
				return nil, fmt.Errorf("%s: %w", src, err)
			}
			rel = strings.TrimSuffix(rel, ".gz")
		default:
			return nil, fmt.Errorf("%s: compressed modules (.ko.xz, .ko.zst) are not supported: build the kernel's modules uncompressed or gzip-compressed", src)
		}
		p := path.Join("usr/lib/modules", kver, rel)
		t.nodes[p] = node{kind: file, mode: 0o644, data: data}
		paths = append(paths, "/"+p)
	}
	return paths, nil
}

func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// moduleDir finds the root's module directory of kernel kver ("" = the
// only one) and returns it relative to root, with the kernel version.
func moduleDir(root, kver string) (string, string, error) {
	for _, parent := range []string{"usr/lib/modules", "lib/modules"} {
		if kver != "" {
			if st, err := os.Stat(filepath.Join(root, parent, kver)); err == nil && st.IsDir() {
				return path.Join(parent, kver), kver, nil
			}
			continue
		}
		entries, err := os.ReadDir(filepath.Join(root, parent))
		if err != nil {
			continue
		}
		var names []string
		for _, e := range entries {
			if e.IsDir() {
				names = append(names, e.Name())
			}
		}
		switch len(names) {
		case 0:
			continue
		case 1:
			return path.Join(parent, names[0]), names[0], nil
		default:
			return "", "", fmt.Errorf("%s holds the modules of %d kernels (%s): say which with KernelVersion",
				filepath.Join(root, parent), len(names), strings.Join(names, ", "))
		}
	}
	if kver != "" {
		return "", "", fmt.Errorf("%s has no modules of kernel %s (in /usr/lib/modules or /lib/modules)", root, kver)
	}
	return "", "", fmt.Errorf("%s has no kernel modules (in /usr/lib/modules or /lib/modules): install the kernel package", root)
}

// moduleName is the name of the module file rel ("-" read as "_").
func moduleName(rel string) string {
	n := path.Base(rel)
	if i := strings.Index(n, ".ko"); i >= 0 {
		n = n[:i]
	}
	return strings.ReplaceAll(n, "-", "_")
}

// readModulesDep reads depmod's modules.dep: module name -> its path and
// the paths of the modules it needs.
func readModulesDep(file string) (map[string][]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%w (run depmod when installing the kernel)", err)
	}
	defer f.Close()
	dep := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		mod, deps, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: no colon in %q", file, n, line)
		}
		dep[moduleName(mod)] = append([]string{mod}, strings.Fields(deps)...)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return dep, nil
}

// readBuiltin reads modules.builtin (absent: nothing is built in).
func readBuiltin(file string) (map[string]bool, error) {
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	builtin := map[string]bool{}
	for _, line := range strings.Fields(string(data)) {
		builtin[moduleName(line)] = true
	}
	return builtin, nil
}

// loadOrder returns the module files to load for want, each after its
// dependencies, each once.
func loadOrder(dep map[string][]string, builtin map[string]bool, want []string, optional bool) ([]string, error) {
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, chain []string) error
	visit = func(name string, chain []string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("modules depend on each other in a cycle: %s", strings.Join(append(chain, name), " -> "))
		case 2:
			return nil
		}
		entry, ok := dep[name]
		if !ok {
			return fmt.Errorf("module %s is needed by %s but not in modules.dep", name, strings.Join(chain, " -> "))
		}
		state[name] = 1
		for _, d := range entry[1:] {
			if err := visit(moduleName(d), append(chain, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, entry[0])
		return nil
	}
	for _, w := range want {
		name := moduleName(w)
		if builtin[name] {
			continue
		}
		if _, ok := dep[name]; !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("the kernel has no module %s (neither in modules.dep nor in modules.builtin)", w)
		}
		if err := visit(name, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// tree is the archive's contents, by path relative to its root.
type tree struct {
	root  string // the image root files are taken from
	nodes map[string]node
	elfs  map[string]bool // ELF files added, by path in the root
}

type kind int

const (
	dir kind = iota
	file
	symlink
	device
)

type node struct {
	kind         kind
	mode         fs.FileMode
	data         []byte // file contents
	target       string // symlink target
	major, minor uint32 // character device numbers
}

func newTree(root string) *tree {
	return &tree{root: root, nodes: map[string]node{}, elfs: map[string]bool{}}
}

func (t *tree) dirs(names ...string) {
	for _, n := range names {
		t.nodes[n] = node{kind: dir, mode: 0o755}
	}
}

// addFile copies the regular file at p (absolute, inside the root) into
// the archive at the path it resolves to inside the root, adding the
// symbolic links met on the way (e.g. /lib -> usr/lib) as they are, so
// the file is reachable by p in the archive as in the root. It returns
// the resolved path.
func (t *tree) addFile(p string) (string, error) {
	links := map[string]string{}
	real, err := resolveIn(t.root, p, links)
	if err != nil {
		return "", err
	}
	src := filepath.Join(t.root, real)
	st, err := os.Stat(src)
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", src)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	for l, target := range links {
		t.nodes[l] = node{kind: symlink, target: target}
	}
	t.nodes[real] = node{kind: file, mode: st.Mode().Perm() | st.Mode()&(fs.ModeSetuid|fs.ModeSetgid), data: data}
	return real, nil
}

// resolveIn resolves p inside root as if root were "/" (absolute symbolic
// links start again at root, ".." stops at it) and returns the path with
// no symbolic link in it, relative to root; the links met are recorded
// in links (path relative to root -> target).
func resolveIn(root, p string, links map[string]string) (string, error) {
	parts := strings.Split(p, "/")
	var done []string
	for hops := 0; len(parts) > 0; {
		c := parts[0]
		parts = parts[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cur := path.Join(append(done, c)...)
		st, err := os.Lstat(filepath.Join(root, cur))
		if err != nil {
			return "", fmt.Errorf("resolving %s in %s: %w", p, root, err)
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			done = append(done, c)
			continue
		}
		if hops++; hops > 40 {
			return "", fmt.Errorf("resolving %s in %s: too many symbolic links", p, root)
		}
		target, err := os.Readlink(filepath.Join(root, cur))
		if err != nil {
			return "", err
		}
		links[cur] = target
		if strings.HasPrefix(target, "/") {
			done = nil
		}
		parts = append(strings.Split(target, "/"), parts...)
	}
	return path.Join(done...), nil
}

// write adds the tree to w, parents before children, in lexical order,
// owned by root; directories no node names are made with mode 0755.
func (t *tree) write(w *cpio.Writer) error {
	all := map[string]node{}
	for p, n := range t.nodes {
		all[p] = n
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if _, ok := all[d]; !ok {
				if _, named := t.nodes[d]; !named {
					all[d] = node{kind: dir, mode: 0o755}
				}
			}
		}
	}
	paths := make([]string, 0, len(all))
	for p := range all {
		paths = append(paths, p)
	}
	// Compare by components, so a directory comes right before its contents.
	slices.SortFunc(paths, func(a, b string) int {
		return strings.Compare(strings.ReplaceAll(a, "/", "\x00"), strings.ReplaceAll(b, "/", "\x00"))
	})
	for _, p := range paths {
		n := all[p]
		var err error
		switch n.kind {
		case dir:
			err = w.AddDir(p, n.mode, 0, 0)
		case file:
			err = w.AddFile(p, n.mode, 0, 0, n.data)
		case symlink:
			err = w.AddSymlink(p, n.target, 0, 0)
		case device:
			err = w.AddDevice(p, true, n.mode, 0, 0, n.major, n.minor)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
