package image

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a config: the file, the JSON path in it
// and what is wrong. A Warning does not make the config invalid.
type Problem struct {
	File    string
	Path    string // e.g. SystemConfigs[0].PartitionSettings[1].MountPoint
	Message string
	Warning bool
}

func (p Problem) String() string {
	s := p.File + ": "
	if p.Warning {
		s = "warning: " + s
	}
	if p.Path != "" {
		s += p.Path + ": "
	}
	return s + p.Message
}

// Options tune Validate.
type Options struct {
	// KnownPackage says whether a package name can be installed; names it
	// does not know are reported as warnings (a repository that is not
	// checked may have them). Nil: packages are not checked.
	KnownPackage func(name string) bool
	// UnknownPackage completes `package "NAME" is ...` for a name
	// KnownPackage does not know (default: "not provided by any known source").
	UnknownPackage string
}

// Errors counts the problems that are not warnings.
func Errors(problems []Problem) int {
	n := 0
	for _, p := range problems {
		if !p.Warning {
			n++
		}
	}
	return n
}

// Known values of the enumerated fields, as Azure Linux's imager accepts them.
var (
	partitionTableTypes = []string{"gpt", "mbr"}
	bootTypes           = []string{"", "efi", "legacy", "none"}
	fsTypes             = []string{"", "fat32", "fat16", "vfat", "ext2", "ext3", "ext4", "xfs", "btrfs", "linux-swap"}
	// artifactTypes are Azure Linux's, and slipway's own "oci" (an OCI
	// image layout in a tar) and "docker-archive" (docker load's format).
	artifactTypes = []string{"", "raw", "vhd", "vhd-fixed", "vhdx", "qcow2", "iso", "initrd", "ext4", "diff", "rdiff", "squashfs", "cosi", "tar.gz", "tar.xz",
		"oci", "docker-archive"}
	compressions     = []string{"", "gz", "xz", "zst", "tar.gz", "tar.xz", "tar.zst"}
	partitionFlags   = []string{"esp", "boot", "grub", "bios_grub", "bios-grub", "dmroot"}
	mountIdentifiers = []string{"", "uuid", "partuuid", "partlabel"}
	targetDiskTypes  = []string{"", "path", "raid"}
	selinuxModes     = []string{"", "enforcing", "permissive", "force_enforcing"}
	cgroupVersions   = []string{"", "version_one", "version_two"}
	imaPolicies      = []string{"tcb", "appraise_tcb", "secure_boot"}
	verityBehaviors  = []string{"", "ignore", "restart", "panic"}
	bootProtos       = []string{"", "dhcp", "static", "bootp", "ibft"}
	raidLevels       = []int{0, 1, 4, 5, 6, 10}
	// Partition type names and the GPT type GUIDs they stand for.
	partitionTypes = map[string]string{
		"linux":            "0fc63daf-8483-4772-8e79-3d69d8477de4",
		"esp":              "c12a7328-f81f-11d2-ba4b-00a0c93ec93b",
		"xbootldr":         "bc13c2ff-59e6-4262-a352-b275fd6f7172",
		"linux-root-amd64": "4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
		"linux-root-arm64": "b921b045-1df0-41c3-af44-4c6f280d3fae",
		"linux-swap":       "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f",
		"linux-home":       "933ac7e1-2eb4-4f13-b844-0e14e2aef915",
		"linux-srv":        "3b8f8425-20e0-4f3b-907f-1a25a76f98e8",
		"linux-var":        "4d21b016-b534-45c2-a9fb-5c16e091fd2d",
		"linux-tmp":        "7ec6f557-3bc5-4aca-b293-16ef5df639d1",
		"linux-lvm":        "e6d6d379-f507-44c2-a23c-238f2a3df928",
		"linux-raid":       "a19d880f-05fc-4d3b-a006-743f0f84911e",
		"linux-luks":       "ca7d7ccb-63ed-4c53-861c-1742536059cc",
		"linux-dm-crypt":   "7ffec5c9-2d00-49b7-8941-3ea10a5586b7",
	}

	// useradd's default NAME_REGEX, and at most 32 characters.
	accountName = regexp.MustCompile(`^[a-z_][a-z0-9_-]*\$?$`)
	uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	hostLabel   = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	packageName = regexp.MustCompile(`^[^\s,/]+$`)
)

const maxUID = 60000 // the top of the range useradd gives out (UID_MAX)

// Validate checks a decoded config and returns every problem found (the
// disks', then each system config's); no problem other than warnings
// means the config is valid. It reads the
// files the config refers to (package lists, additional files, scripts,
// SSH keys, raw binaries) relative to the config's directory, and never
// changes the config.
func Validate(cfg *Config, opts Options) []Problem {
	v := &validator{cfg: cfg, opts: opts, lists: map[string]bool{}}
	v.partitions = map[string]partRef{}
	for d := range cfg.Disks {
		v.disk(d)
	}
	if len(cfg.SystemConfigs) == 0 {
		v.errorf("", "SystemConfigs", "no system config: an image needs at least one")
	}
	defaults := 0
	for i := range cfg.SystemConfigs {
		if cfg.SystemConfigs[i].IsDefault {
			defaults++
			if defaults > 1 {
				v.errorf("", fmt.Sprintf("SystemConfigs[%d].IsDefault", i), "more than one system config is the default")
			}
		}
		v.system(i)
	}
	return v.problems
}

type validator struct {
	cfg        *Config
	opts       Options
	problems   []Problem
	partitions map[string]partRef // partition ID -> where it is
	lists      map[string]bool    // package lists already checked
}

type partRef struct {
	disk, index int
	path        string
}

func (v *validator) add(file, path string, warning bool, format string, args ...any) {
	if file == "" {
		file = v.cfg.path
	}
	v.problems = append(v.problems, Problem{File: file, Path: path, Message: fmt.Sprintf(format, args...), Warning: warning})
}

func (v *validator) errorf(file, path, format string, args ...any) {
	v.add(file, path, false, format, args...)
}

// oneOf reports a value that is not among the known ones.
func (v *validator) oneOf(path, value string, known []string) {
	if !slices.Contains(known, value) {
		var names []string
		for _, k := range known {
			if k != "" {
				names = append(names, k)
			}
		}
		v.errorf("", path, "unknown value %q (known: %s)", value, strings.Join(names, ", "))
	}
}

// exists reports a referenced file that is missing; rel is relative to
// the config's directory.
func (v *validator) exists(path, rel, what string) {
	if strings.TrimSpace(rel) == "" {
		v.errorf("", path, "empty %s path", what)
		return
	}
	st, err := os.Stat(v.cfg.resolve(rel))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.errorf("", path, "%s %q does not exist (paths are relative to %s)", what, rel, v.cfg.Dir())
	case err != nil:
		v.errorf("", path, "%s %q: %v", what, rel, err)
	case st.IsDir():
		v.errorf("", path, "%s %q is a directory, not a file", what, rel)
	}
}

func (v *validator) disk(d int) {
	disk := &v.cfg.Disks[d]
	dp := fmt.Sprintf("Disks[%d]", d)
	if len(disk.Partitions) > 0 || disk.PartitionTableType != "" {
		v.oneOf(dp+".PartitionTableType", disk.PartitionTableType, partitionTableTypes)
	}
	if disk.BlockSize != 0 && disk.BlockSize != 512 && disk.BlockSize != 4096 {
		v.errorf("", dp+".BlockSize", "%d is not 512 or 4096", disk.BlockSize)
	}
	v.targetDisk(dp+".TargetDisk", &disk.TargetDisk)
	sized := disk.TargetDisk.Type != "path" // an existing disk has its own size
	if sized && disk.MaxSize == 0 && len(disk.Partitions) > 0 {
		v.errorf("", dp+".MaxSize", "a disk with partitions needs a MaxSize (MiB)")
	}
	for a := range disk.Artifacts {
		v.artifact(fmt.Sprintf("%s.Artifacts[%d]", dp, a), &disk.Artifacts[a])
	}
	for b, raw := range disk.RawBinaries {
		v.exists(fmt.Sprintf("%s.RawBinaries[%d].BinPath", dp, b), raw.BinPath, "raw binary")
	}

	// Each partition on its own.
	for p := range disk.Partitions {
		part := &disk.Partitions[p]
		pp := fmt.Sprintf("%s.Partitions[%d]", dp, p)
		switch other, dup := v.partitions[part.ID]; {
		case strings.TrimSpace(part.ID) == "":
			v.errorf("", pp+".ID", "a partition needs an ID")
		case dup:
			v.errorf("", pp+".ID", "%q is also the ID of %s", part.ID, other.path)
		default:
			v.partitions[part.ID] = partRef{disk: d, index: p, path: pp}
		}
		v.oneOf(pp+".FsType", part.FsType, fsTypes)
		for f, flag := range part.Flags {
			v.oneOf(fmt.Sprintf("%s.Flags[%d]", pp, f), flag, partitionFlags)
		}
		if part.HasFlag("esp") && part.FsType != "" && !isFAT(part.FsType) {
			v.errorf("", pp+".FsType", "an EFI system partition (flag esp) must be FAT (fat32), not %s", part.FsType)
		}
		if part.Type != "" {
			if _, ok := partitionTypes[part.Type]; !ok {
				v.errorf("", pp+".Type", "unknown partition type %q (known: %s; or give TypeUUID)", part.Type, strings.Join(sortedKeys(partitionTypes), ", "))
			}
		}
		if part.TypeUUID != "" && !uuidPattern.MatchString(part.TypeUUID) {
			v.errorf("", pp+".TypeUUID", "%q is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", part.TypeUUID)
		}
		if part.Type != "" && part.TypeUUID != "" && uuidPattern.MatchString(part.TypeUUID) &&
			partitionTypes[part.Type] != "" && !strings.EqualFold(partitionTypes[part.Type], part.TypeUUID) {
			v.errorf("", pp+".TypeUUID", "%s is not the GUID of Type %q (%s)", part.TypeUUID, part.Type, partitionTypes[part.Type])
		}
		if len(part.Name) > 35 {
			v.errorf("", pp+".Name", "%q is longer than the 35 characters a GPT partition name holds", part.Name)
		}
		for _, c := range part.Name {
			if c > 0x7e || c < 0x20 {
				v.errorf("", pp+".Name", "%q has a character that is not printable ASCII", part.Name)
				break
			}
		}
		if disk.PartitionTableType == "mbr" && part.Name != "" {
			v.errorf("", pp+".Name", "an MBR partition table has no partition names")
		}
		if part.End != 0 && part.End <= part.Start {
			v.errorf("", pp+".End", "%d is not after Start %d", part.End, part.Start)
		}
		if part.Start == 0 {
			v.errorf("", pp+".Start", "0 is where the partition table is: start at 1 (MiB) or later")
		}
		if sized && disk.MaxSize > 0 {
			if part.End > disk.MaxSize {
				v.errorf("", pp+".End", "%d is beyond the disk's MaxSize %d", part.End, disk.MaxSize)
			} else if part.End == 0 && part.Start >= disk.MaxSize {
				v.errorf("", pp+".Start", "%d leaves no room before the disk's MaxSize %d", part.Start, disk.MaxSize)
			}
		}
		for a := range part.Artifacts {
			v.artifact(fmt.Sprintf("%s.Artifacts[%d]", pp, a), &part.Artifacts[a])
		}
	}

	// Overlaps, in order of Start; End 0 runs to the end of the disk.
	order := make([]int, len(disk.Partitions))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return disk.Partitions[order[a]].Start < disk.Partitions[order[b]].Start })
	end := func(p *Partition) uint64 {
		if p.End == 0 {
			if sized && disk.MaxSize > 0 {
				return disk.MaxSize
			}
			return ^uint64(0)
		}
		return p.End
	}
	var reach *Partition // of those before, the one that ends last
	for _, b := range order {
		pb := &disk.Partitions[b]
		if reach != nil && pb.Start < end(reach) {
			v.errorf("", fmt.Sprintf("%s.Partitions[%d]", dp, b), "partition %q (%s) overlaps partition %q (%s)",
				pb.ID, span(pb), reach.ID, span(reach))
		}
		if reach == nil || end(pb) > end(reach) {
			reach = pb
		}
	}
}

func span(p *Partition) string {
	if p.End == 0 {
		return fmt.Sprintf("%d MiB to the end", p.Start)
	}
	return fmt.Sprintf("%d-%d MiB", p.Start, p.End)
}

func isFAT(fs string) bool { return fs == "fat32" || fs == "fat16" || fs == "vfat" }

func (v *validator) targetDisk(tp string, t *TargetDisk) {
	v.oneOf(tp+".Type", t.Type, targetDiskTypes)
	switch t.Type {
	case "path":
		if t.Value == "" {
			v.errorf("", tp+".Value", `a TargetDisk of Type "path" needs the device path`)
		}
	case "raid":
		r := &t.RaidConfig
		if !slices.Contains(raidLevels, r.Level) {
			v.errorf("", tp+".RaidConfig.Level", "%d is not a RAID level (0, 1, 4, 5, 6, 10)", r.Level)
		}
		if r.RaidID == "" || len(r.ComponentPartIDs) == 0 {
			v.errorf("", tp+".RaidConfig", "a RAID target needs a RaidID and ComponentPartIDs")
		}
	case "":
		if t.Value != "" {
			v.errorf("", tp+".Value", "a Value without a TargetDisk Type")
		}
	}
}

func (v *validator) artifact(ap string, a *Artifact) {
	if strings.TrimSpace(a.Name) == "" {
		v.errorf("", ap+".Name", "an artifact needs a Name (the output file's base name)")
	} else if strings.ContainsRune(a.Name, '/') {
		v.errorf("", ap+".Name", "%q: a file name, not a path", a.Name)
	}
	v.oneOf(ap+".Type", a.Type, artifactTypes)
	v.oneOf(ap+".Compression", a.Compression, compressions)
}

func (v *validator) system(i int) {
	sc := &v.cfg.SystemConfigs[i]
	sp := fmt.Sprintf("SystemConfigs[%d]", i)
	if strings.TrimSpace(sc.Name) == "" {
		v.errorf("", sp+".Name", "a system config needs a Name")
	}
	v.oneOf(sp+".BootType", sc.BootType, bootTypes)
	if sc.Hostname != "" && !validHostname(sc.Hostname) {
		v.errorf("", sp+".Hostname", "%q is not a valid host name (letters, digits and '-', labels of at most 63 characters)", sc.Hostname)
	}
	if len(sc.PackageLists) == 0 && len(sc.Packages) == 0 {
		v.errorf("", sp, "no PackageLists and no Packages: the system would install nothing")
	}

	v.kernel(sp, sc)
	v.mounts(sp, sc)
	v.commandLine(sp+".KernelCommandLine", &sc.KernelCommandLine)
	v.accounts(sp, sc)

	for _, src := range sortedKeys(sc.AdditionalFiles) {
		fp := keyPath(sp+".AdditionalFiles", src)
		v.exists(fp, src, "additional file")
		targets := sc.AdditionalFiles[src]
		if len(targets) == 0 {
			v.errorf("", fp, "no destination")
		}
		for t, ft := range targets {
			tp := fp
			if len(targets) > 1 {
				tp = fmt.Sprintf("%s[%d]", fp, t)
			}
			if !path.IsAbs(ft.Path) {
				v.errorf("", tp, "destination %q is not an absolute path", ft.Path)
			}
			if ft.Permissions != "" {
				if m, err := strconv.ParseUint(ft.Permissions, 8, 32); err != nil || m > 0o7777 {
					v.errorf("", tp+".Permissions", "%q is not an octal file mode (e.g. \"644\")", ft.Permissions)
				}
			}
		}
	}
	for _, s := range []struct {
		name    string
		scripts []Script
	}{{"PreInstallScripts", sc.PreInstallScripts}, {"PostInstallScripts", sc.PostInstallScripts}, {"FinalizeImageScripts", sc.FinalizeImageScripts}} {
		for k, script := range s.scripts {
			v.exists(fmt.Sprintf("%s.%s[%d].Path", sp, s.name, k), script.Path, "script")
		}
	}

	repos := map[string]bool{}
	for r, repo := range sc.PackageRepos {
		rp := fmt.Sprintf("%s.PackageRepos[%d]", sp, r)
		if strings.TrimSpace(repo.Name) == "" {
			v.errorf("", rp+".Name", "a package repository needs a Name")
		} else if repos[repo.Name] {
			v.errorf("", rp+".Name", "another repository is also named %q", repo.Name)
		}
		repos[repo.Name] = true
		if u, err := url.ParseRequestURI(repo.BaseUrl); err != nil || u.Scheme == "" {
			v.errorf("", rp+".BaseUrl", "%q is not a URL", repo.BaseUrl)
		}
	}
	for n, nw := range sc.Networks {
		np := fmt.Sprintf("%s.Networks[%d]", sp, n)
		v.oneOf(np+".BootProto", nw.BootProto, bootProtos)
		if strings.TrimSpace(nw.Device) == "" {
			v.errorf("", np+".Device", "a network needs a Device")
		}
	}

	v.packages(sp, sc)
}

// kernel checks KernelOptions: a system on partitions boots a default kernel.
func (v *validator) kernel(sp string, sc *SystemConfig) {
	if _, ok := sc.KernelOptions["default"]; !ok && len(sc.PartitionSettings) > 0 {
		v.errorf("", sp+".KernelOptions", `a system with partitions needs a "default" kernel package`)
	}
	for _, k := range sortedKeys(sc.KernelOptions) {
		if !strings.HasPrefix(k, "_") && strings.TrimSpace(sc.KernelOptions[k]) == "" {
			v.errorf("", keyPath(sp+".KernelOptions", k), "empty kernel package name")
		}
	}
}

// mounts checks PartitionSettings against the disks, and what booting
// needs of them.
func (v *validator) mounts(sp string, sc *SystemConfig) {
	hasPartitions := false
	for _, d := range v.cfg.Disks {
		hasPartitions = hasPartitions || len(d.Partitions) > 0
	}
	mounted := map[string]string{} // mount point -> path of its setting
	used := map[string]bool{}
	var root *Partition
	for s, ps := range sc.PartitionSettings {
		pp := fmt.Sprintf("%s.PartitionSettings[%d]", sp, s)
		ref, ok := v.partitions[ps.ID]
		if !ok && ps.MountPoint != "" {
			v.errorf("", pp+".MountPoint", "%q refers to partition %q that no disk defines", ps.MountPoint, ps.ID)
		} else if !ok {
			v.errorf("", pp+".ID", "partition %q is not defined by any disk", ps.ID)
		} else if used[ps.ID] {
			v.errorf("", pp+".ID", "partition %q is set up twice", ps.ID)
		}
		used[ps.ID] = true
		if ps.MountPoint != "" {
			switch {
			case !path.IsAbs(ps.MountPoint):
				v.errorf("", pp+".MountPoint", "%q is not an absolute path", ps.MountPoint)
			case path.Clean(ps.MountPoint) != ps.MountPoint:
				v.errorf("", pp+".MountPoint", "%q is not a clean path (%s)", ps.MountPoint, path.Clean(ps.MountPoint))
			}
			if other, dup := mounted[ps.MountPoint]; dup {
				v.errorf("", pp+".MountPoint", "%q is also mounted by %s", ps.MountPoint, other)
			} else {
				mounted[ps.MountPoint] = pp
			}
		}
		v.oneOf(pp+".MountIdentifier", ps.MountIdentifier, mountIdentifiers)
		if ok {
			disk := &v.cfg.Disks[ref.disk]
			part := &disk.Partitions[ref.index]
			if ps.MountPoint == "/" {
				root = part
			}
			if ps.MountIdentifier == "partlabel" {
				if disk.PartitionTableType != "gpt" {
					v.errorf("", pp+".MountIdentifier", "partlabel needs a gpt partition table")
				} else if part.Name == "" {
					v.errorf("", pp+".MountIdentifier", "partlabel needs a Name on partition %q", part.ID)
				}
			}
			if ps.MountPoint != "" && part.FsType == "" {
				v.errorf("", pp+".MountPoint", "partition %q has no FsType to mount", part.ID)
			}
		}
	}
	if hasPartitions {
		if _, ok := mounted["/"]; !ok {
			v.errorf("", sp+".PartitionSettings", `no partition is mounted at "/"`)
		}
		switch sc.BootType {
		case "efi":
			if !v.hasPartition(func(p *Partition) bool { return p.HasFlag("esp") && isFAT(p.FsType) }) {
				v.errorf("", sp+".BootType", `"efi" needs an EFI system partition: fat32 with the esp flag`)
			}
		case "legacy":
			for d, disk := range v.cfg.Disks {
				if disk.PartitionTableType == "gpt" && len(disk.Partitions) > 0 &&
					!v.hasPartition(func(p *Partition) bool { return p.HasFlag("bios_grub") || p.HasFlag("bios-grub") || p.HasFlag("grub") }) {
					v.errorf("", sp+".BootType", `"legacy" on a gpt disk (Disks[%d]) needs a partition with the bios_grub flag`, d)
				}
			}
		}
	}
	if sc.Encryption.Enable || sc.ReadOnlyVerityRoot.Enable {
		if sc.Encryption.Enable && sc.ReadOnlyVerityRoot.Enable {
			v.errorf("", sp+".Encryption", "cannot be used with ReadOnlyVerityRoot")
		}
		if hasPartitions && root != nil && !root.HasFlag("dmroot") {
			v.errorf("", sp+".PartitionSettings", `the partition mounted at "/" (%q) needs the dmroot flag for Encryption or ReadOnlyVerityRoot`, root.ID)
		}
		if sc.ReadOnlyVerityRoot.Enable && hasPartitions {
			if _, ok := mounted["/boot"]; !ok {
				v.errorf("", sp+".ReadOnlyVerityRoot", `needs a separate partition mounted at "/boot"`)
			}
		}
	}
	vr := &sc.ReadOnlyVerityRoot
	v.oneOf(sp+".ReadOnlyVerityRoot.VerityErrorBehavior", vr.VerityErrorBehavior, verityBehaviors)
	for o, dir := range vr.TmpfsOverlays {
		if !path.IsAbs(dir) {
			v.errorf("", fmt.Sprintf("%s.ReadOnlyVerityRoot.TmpfsOverlays[%d]", sp, o), "%q is not an absolute path", dir)
		}
	}
}

func (v *validator) hasPartition(match func(*Partition) bool) bool {
	for d := range v.cfg.Disks {
		for p := range v.cfg.Disks[d].Partitions {
			if match(&v.cfg.Disks[d].Partitions[p]) {
				return true
			}
		}
	}
	return false
}

func (v *validator) commandLine(kp string, k *KernelCommandLine) {
	v.oneOf(kp+".SELinux", k.SELinux, selinuxModes)
	v.oneOf(kp+".CGroup", k.CGroup, cgroupVersions)
	for p, policy := range k.ImaPolicy {
		v.oneOf(fmt.Sprintf("%s.ImaPolicy[%d]", kp, p), policy, imaPolicies)
	}
	if strings.ContainsAny(k.ExtraCommandLine, "`\n") {
		v.errorf("", kp+".ExtraCommandLine", "must not contain a backquote or a newline")
	}
}

// accounts checks Groups and Users.
func (v *validator) accounts(sp string, sc *SystemConfig) {
	groups := map[string]bool{}
	for g, group := range sc.Groups {
		gp := fmt.Sprintf("%s.Groups[%d]", sp, g)
		if !validAccount(group.Name) {
			v.errorf("", gp+".Name", "%q is not a valid group name (lower case letters, digits, '_' and '-', at most 32)", group.Name)
		} else if groups[group.Name] {
			v.errorf("", gp+".Name", "group %q is defined twice", group.Name)
		}
		groups[group.Name] = true
		if group.GID != "" {
			if n, err := strconv.Atoi(group.GID); err != nil || n < 0 || n > maxUID {
				v.errorf("", gp+".GID", "%q is not a number from 0 to %d", group.GID, maxUID)
			}
		}
	}
	users := map[string]bool{}
	for u := range sc.Users {
		user := &sc.Users[u]
		up := fmt.Sprintf("%s.Users[%d]", sp, u)
		if !validAccount(user.Name) {
			v.errorf("", up+".Name", "%q is not a valid user name (lower case letters, digits, '_' and '-', at most 32)", user.Name)
		} else if users[user.Name] {
			v.errorf("", up+".Name", "user %q is defined twice", user.Name)
		}
		users[user.Name] = true
		if user.UID != "" {
			if n, err := strconv.Atoi(user.UID); err != nil || n < 0 || n > maxUID {
				v.errorf("", up+".UID", "%q is not a number from 0 to %d", user.UID, maxUID)
			}
		}
		if user.PasswordHashed && !strings.HasPrefix(user.Password, "$") {
			v.errorf("", up+".Password", `PasswordHashed is set but the password is not a crypt(3) hash ("$id$salt$hash")`)
		}
		if user.PasswordExpiresDays < -1 || user.PasswordExpiresDays > 99999 {
			v.errorf("", up+".PasswordExpiresDays", "%d is not from -1 (never) to 99999", user.PasswordExpiresDays)
		}
		if user.PrimaryGroup != "" && !validAccount(user.PrimaryGroup) {
			v.errorf("", up+".PrimaryGroup", "%q is not a valid group name", user.PrimaryGroup)
		}
		for g, group := range user.SecondaryGroups {
			if !validAccount(group) {
				v.errorf("", fmt.Sprintf("%s.SecondaryGroups[%d]", up, g), "%q is not a valid group name", group)
			}
		}
		for k, key := range user.SSHPubKeyPaths {
			v.exists(fmt.Sprintf("%s.SSHPubKeyPaths[%d]", up, k), key, "SSH public key")
		}
		if user.StartupCommand != "" && !path.IsAbs(strings.Fields(user.StartupCommand + " x")[0]) {
			v.errorf("", up+".StartupCommand", "%q does not start with an absolute path", user.StartupCommand)
		}
	}
}

// packages checks the package lists and, with KnownPackage, every name.
func (v *validator) packages(sp string, sc *SystemConfig) {
	check := func(file, path, name string) {
		if !packageName.MatchString(name) {
			v.errorf(file, path, "%q is not a package name", name)
			return
		}
		if v.opts.KnownPackage != nil && !v.opts.KnownPackage(name) {
			msg := v.opts.UnknownPackage
			if msg == "" {
				msg = "not provided by any known source"
			}
			v.add(file, path, true, "package %q is %s", name, msg)
		}
	}
	for k, name := range sc.Packages {
		check("", fmt.Sprintf("%s.Packages[%d]", sp, k), name)
	}
	for _, k := range sortedKeys(sc.KernelOptions) {
		if !strings.HasPrefix(k, "_") && strings.TrimSpace(sc.KernelOptions[k]) != "" {
			check("", keyPath(sp+".KernelOptions", k), sc.KernelOptions[k])
		}
	}
	for l, rel := range sc.PackageLists {
		lp := fmt.Sprintf("%s.PackageLists[%d]", sp, l)
		file := v.cfg.resolve(rel)
		if v.lists[file] {
			continue // shared by several system configs: checked once
		}
		v.lists[file] = true
		list, err := LoadPackageList(file)
		var de *DecodeError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			v.errorf("", lp, "package list %q does not exist (paths are relative to %s)", rel, v.cfg.Dir())
			continue
		case errors.As(err, &de):
			v.errorf("", lp, "package list %q: %v", rel, err)
			continue
		case err != nil:
			v.errorf("", lp, "package list %q: %v", rel, err)
			continue
		}
		if len(list.Packages) == 0 {
			v.errorf(file, "packages", "empty package list (used by %s)", lp)
		}
		for k, name := range list.Packages {
			check(file, fmt.Sprintf("packages[%d]", k), name)
		}
	}
}

func validAccount(name string) bool {
	return len(name) > 0 && len(name) <= 32 && accountName.MatchString(name)
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if !hostLabel.MatchString(label) {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
