package compose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"slipway/internal/image"
	"slipway/internal/image/container"
	"slipway/internal/image/cpio"
	"slipway/internal/image/disk"
	"slipway/internal/image/initramfs"
	"slipway/internal/image/iso"
)

// kind is what an artifact is made from and how.
type kind int

const (
	diskImage   kind = iota // raw, vhd, vhdx, qcow2 of a partitioned disk
	rootArchive             // tar.gz or tar.xz of the root
	ociArchive              // OCI image layout, as a tar (slipway's "oci")
	dockerArchive
	initrdImage // the root as a gzip cpio initrd
	isoImage    // a live ISO: the kernel and the root as its initrd
)

// artifactKind says what an artifact of a disk is, or why slipway cannot
// make it.
func artifactKind(dk image.Disk, a image.Artifact) (kind, error) {
	typ, comp := a.Type, a.Compression
	if len(dk.Partitions) > 0 {
		switch {
		case comp != "":
			return 0, fmt.Errorf("compressed disk images (Compression %q) are not supported yet", comp)
		case typ == "" || typ == "raw" || typ == "vhd" || typ == "vhd-fixed" || typ == "vhdx" || typ == "qcow2":
			return diskImage, nil
		}
		return 0, fmt.Errorf("type %q cannot be made from a partitioned disk (raw, vhd, vhd-fixed, vhdx, qcow2)", typ)
	}
	switch {
	case (typ == "" || typ == "tar.gz" || typ == "tar.xz") && (comp == "tar.gz" || comp == "tar.xz" || comp == ""):
		if typ == "" && comp == "" {
			return 0, fmt.Errorf("a disk without partitions needs an artifact Type or a Compression (tar.gz, tar.xz)")
		}
		return rootArchive, nil
	case typ == "oci" && comp == "":
		return ociArchive, nil
	case typ == "docker-archive" && comp == "":
		return dockerArchive, nil
	case typ == "initrd" && (comp == "" || comp == "gz"):
		return initrdImage, nil
	case typ == "iso" && comp == "":
		return isoImage, nil
	}
	return 0, fmt.Errorf("type %q with compression %q is not supported (tar.gz, tar.xz, oci, docker-archive, initrd, iso)", typ, comp)
}

// fileName is an artifact's file name in the output directory.
func fileName(a image.Artifact, k kind) string {
	switch k {
	case rootArchive:
		ext := a.Compression
		if ext == "" {
			ext = a.Type
		}
		return a.Name + "." + ext
	case ociArchive:
		return a.Name + ".oci.tar"
	case dockerArchive:
		return a.Name + ".docker.tar"
	case initrdImage:
		return a.Name + ".initrd.img"
	case isoImage:
		return a.Name + ".iso"
	}
	switch a.Type {
	case "", "raw":
		return a.Name + ".raw"
	case "vhd-fixed":
		return a.Name + ".vhd"
	}
	return a.Name + "." + a.Type
}

// artifacts makes every artifact of every disk, each part timed: the root
// archives and container images first, then initrd and ISO (which add
// /init to the root), then disk images (which move the mounted
// partitions' files out of the root).
func (j *job) artifacts(ctx context.Context) error {
	type todo struct {
		a image.Artifact
		k kind
	}
	var list []todo
	for _, dk := range j.o.Config.Disks {
		for _, a := range dk.Artifacts {
			k, err := artifactKind(dk, a)
			if err != nil {
				return err
			}
			list = append(list, todo{a, k})
		}
	}
	rank := func(k kind) int {
		switch k {
		case initrdImage, isoImage:
			return 1
		case diskImage:
			return 2
		}
		return 0
	}
	sort.SliceStable(list, func(a, b int) bool { return rank(list[a].k) < rank(list[b].k) })
	var disks []image.Artifact
	defer func() {
		if j.layer != nil {
			j.layer.Close()
		}
	}()
	for _, t := range list {
		if t.k == diskImage {
			disks = append(disks, t.a)
			continue
		}
		out := filepath.Join(j.staged, fileName(t.a, t.k))
		if err := j.timed(ctx, fileName(t.a, t.k), func() error { return j.rootArtifact(ctx, t.a, t.k, out) }); err != nil {
			return err
		}
		label := t.a.Type
		if label == "" {
			label = t.a.Compression
		}
		if err := j.addArtifact(t.a.Name, label, out); err != nil {
			return err
		}
	}
	if len(disks) > 0 {
		return j.diskArtifacts(ctx, disks)
	}
	return nil
}

// timed runs one step of the work, logs its start, records its time and
// names the config and the step in its error.
func (j *job) timed(ctx context.Context, name string, run func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if j.o.Progress != nil {
		j.o.Progress(name)
	}
	fmt.Fprintf(j.o.Log, "slipway: == %s ==\n", name)
	start := time.Now()
	if err := run(); err != nil {
		return fmt.Errorf("%s: %s: %w", j.o.Config.Path(), name, err)
	}
	j.res.Steps = append(j.res.Steps, Step{name, time.Since(start)})
	return nil
}

// rootArtifact writes one artifact made from the whole root.
func (j *job) rootArtifact(ctx context.Context, a image.Artifact, k kind, out string) error {
	root := j.root.Path()
	if k == rootArchive || k == ociArchive || k == dockerArchive {
		if j.layer == nil { // one layer for every archive of the root
			l, err := container.NewLayer(ctx, root, container.Options{Epoch: j.epoch, Cmd: []string{"/bin/sh"}, TempDir: j.o.WorkDir})
			if err != nil {
				return err
			}
			j.layer = l
		}
	}
	switch k {
	case rootArchive:
		comp := strings.TrimPrefix(a.Compression, "tar.")
		if a.Compression == "" {
			comp = strings.TrimPrefix(a.Type, "tar.")
		}
		return j.layer.WriteTar(ctx, out, comp)
	case ociArchive:
		return j.layer.WriteOCIArchive(ctx, out, "latest")
	case dockerArchive:
		return j.layer.WriteDockerArchive(ctx, out, a.Name+":latest")
	case initrdImage:
		if err := addInit(root); err != nil {
			return err
		}
		return cpio.WriteGzipFile(root, out, j.epoch)
	case isoImage:
		if err := addInit(root); err != nil {
			return err
		}
		kver, err := kernelVersion(root)
		if err != nil {
			return err
		}
		initrd := filepath.Join(j.o.WorkDir, "iso-initrd.img")
		if err := cpio.WriteGzipFile(root, initrd, j.epoch); err != nil {
			return err
		}
		defer os.Remove(initrd)
		return iso.Make(ctx, iso.Options{Kernel: filepath.Join(root, "boot", "vmlinuz-"+kver), Initrd: initrd,
			Cmdline: j.cmdline(), VolumeID: volumeID(a.Name), Epoch: j.epoch}, out)
	}
	return fmt.Errorf("artifact kind %d is not a root artifact", k)
}

// addInit links /init, which the kernel runs from an initramfs, to
// /sbin/init, unless the root has its own.
func addInit(root string) error {
	if _, err := os.Lstat(filepath.Join(root, "init")); err == nil {
		return nil
	}
	return os.Symlink("sbin/init", filepath.Join(root, "init"))
}

// volumeID makes an ISO 9660 volume ID of an artifact name.
func volumeID(name string) string {
	id := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, name)
	if len(id) > 32 {
		id = id[:32]
	}
	if id == "" {
		id = "SLIPWAY"
	}
	return id
}

// kernelVersion finds the one kernel of the root: /boot/vmlinuz-<version>.
func kernelVersion(root string) (string, error) {
	kernels, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	switch len(kernels) {
	case 0:
		return "", fmt.Errorf("the image has no kernel (/boot/vmlinuz-*): add one to KernelOptions or the package lists")
	case 1:
		return strings.TrimPrefix(filepath.Base(kernels[0]), "vmlinuz-"), nil
	}
	return "", fmt.Errorf("the image has %d kernels (%s); slipway boots exactly one", len(kernels), strings.Join(kernels, ", "))
}

// cmdline is what the config adds to the kernel command line.
func (j *job) cmdline() string {
	k := j.sc.KernelCommandLine
	var args []string
	switch k.SELinux {
	case "enforcing", "force_enforcing":
		args = append(args, "security=selinux", "selinux=1", "enforcing=1")
	case "permissive":
		args = append(args, "security=selinux", "selinux=1", "enforcing=0")
	}
	switch k.CGroup {
	case "version_two":
		args = append(args, "systemd.unified_cgroup_hierarchy=1")
	case "version_one":
		args = append(args, "systemd.unified_cgroup_hierarchy=0")
	}
	if k.EnableFIPS {
		args = append(args, "fips=1")
	}
	if len(k.ImaPolicy) > 0 {
		args = append(args, "ima_policy="+strings.Join(k.ImaPolicy, "|"))
	}
	if k.ExtraCommandLine != "" {
		args = append(args, k.ExtraCommandLine)
	}
	return strings.Join(args, " ")
}

// diskArtifacts makes the partitioned disk once (initramfs, GRUB, file
// systems) and writes each requested format of it.
func (j *job) diskArtifacts(ctx context.Context, artifacts []image.Artifact) error {
	dp := j.disk
	if dp == nil {
		return fmt.Errorf("disk artifacts need a disk with partitions")
	}
	if err := j.timed(ctx, "boot", func() error { return j.prepareBoot(ctx, dp) }); err != nil {
		return err
	}
	raw := filepath.Join(j.o.WorkDir, "disk.raw")
	if err := j.timed(ctx, "filesystems+disk", func() error { return disk.MakeRaw(ctx, dp.layout, raw) }); err != nil {
		return err
	}
	if j.sc.BootType == "legacy" {
		rootUUID := dp.layout.Partitions[dp.root].UUID
		if err := j.timed(ctx, "grub-bios", func() error {
			return disk.InstallGRUBBIOS(ctx, raw, dp.layout, rootUUID, j.cmdline())
		}); err != nil {
			return err
		}
	}
	for _, a := range artifacts {
		k := diskImage
		out := filepath.Join(j.staged, fileName(a, k))
		format := a.Type
		switch format {
		case "", "raw":
			format = "raw"
		case "vhd-fixed":
			format = "vhd"
		}
		if err := j.timed(ctx, filepath.Base(out), func() error { return disk.Convert(ctx, raw, format, out) }); err != nil {
			return err
		}
		if err := j.addArtifact(a.Name, format, out); err != nil {
			return err
		}
	}
	return os.Remove(raw)
}

// prepareBoot makes the initramfs, moves each mounted partition's files
// from the root into its own directory, and installs GRUB into the EFI
// system partition (BIOS boot is written into the disk after MakeRaw).
func (j *job) prepareBoot(ctx context.Context, dp *diskPlan) error {
	root := j.root.Path()
	if j.sc.BootType == "efi" || j.sc.BootType == "legacy" {
		kver, err := kernelVersion(root)
		if err != nil {
			return err
		}
		initrd := "initrd.img-" + kver
		if err := initramfs.Make(ctx, initramfs.Options{Root: root, KernelVersion: kver, Epoch: j.epoch},
			filepath.Join(root, "boot", initrd)); err != nil {
			return fmt.Errorf("making the initramfs: %w", err)
		}
		for link, target := range map[string]string{"vmlinuz": "vmlinuz-" + kver, "initrd.img": initrd} {
			p := filepath.Join(root, "boot", link)
			os.Remove(p)
			if err := os.Symlink(target, p); err != nil {
				return err
			}
		}
	}
	esp := -1
	for i, m := range dp.mounts {
		p := &dp.layout.Partitions[i]
		if slices.Contains(p.Flags, "esp") {
			esp = i
		}
		switch {
		case m.MountPoint == "/":
			p.Dir = root
		case m.MountPoint == "/boot":
			return fmt.Errorf("a separate /boot partition is not supported yet")
		default:
			p.Dir = filepath.Join(j.o.WorkDir, "partitions", fmt.Sprint(i+1))
			if err := moveOut(root, m.MountPoint, p.Dir); err != nil {
				return err
			}
		}
	}
	if j.sc.BootType != "efi" {
		return nil
	}
	if esp < 0 {
		return fmt.Errorf("BootType efi needs an EFI system partition (flag esp)")
	}
	return disk.InstallGRUBEFI(ctx, dp.layout.Partitions[esp].Dir, dp.layout.Partitions[dp.root].UUID, j.cmdline())
}

// moveOut moves the contents of mountPoint in root (if any) to dir and
// leaves the mount point empty.
func moveOut(root, mountPoint, dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if mountPoint == "" {
		return os.Mkdir(dir, 0o755)
	}
	src, err := inRoot(root, mountPoint)
	if err != nil {
		return err
	}
	st, err := os.Stat(src)
	switch {
	case os.IsNotExist(err):
		if err := os.MkdirAll(src, 0o755); err != nil {
			return err
		}
		return os.Mkdir(dir, 0o755)
	case err != nil:
		return err
	}
	if err := os.Rename(src, dir); err != nil {
		return err
	}
	if err := os.Mkdir(src, st.Mode().Perm()); err != nil {
		return err
	}
	return os.Chmod(src, st.Mode().Perm())
}
