// Package disk makes bootable GPT disk images from directories, without
// loop devices or mounts: each filesystem is made in its own file
// (mkfs.ext4 -d, mkfs.vfat + mtools), written into a sparse disk file at
// its partition's offset, and the disk is converted with qemu-img.
package disk

import (
	"crypto/rand"
	"crypto/sha1"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Partition is one partition and the filesystem made in it.
type Partition struct {
	Name string // GPT partition name (MBR has none); also the filesystem label (shortened to fit)
	// FsType is "fat32" (FAT32 from 33 MiB up, FAT16 or FAT12 below),
	// "ext4", or "" for no filesystem.
	FsType  string
	SizeMiB int // 0 = the rest of the disk (last partition only)
	// Flags: "esp" (EFI system partition type), "legacy_boot" (GPT
	// attribute bit 2; on MBR the active flag), "bios_grub" (GPT only:
	// the unformatted partition holding GRUB's core for BIOS boot).
	Flags []string
	Dir   string // the filesystem's contents; "" = empty
	// TypeUUID is the GPT type GUID; "" picks one from Flags and FsType.
	// MBR types always come from Flags and FsType.
	TypeUUID string
	// UUID is the filesystem UUID (for fat32 the volume id is its first 8
	// hex digits) and, on GPT, the partition GUID (see Layout.PartUUID).
	// Required: fill it with DeterministicUUID or Layout.WithUUIDs.
	UUID string
}

// Layout is a whole disk.
type Layout struct {
	// Table is the partition table: "gpt" (the default when empty) or
	// "mbr" (at most four primary partitions).
	Table      string
	SizeMiB    int
	Partitions []Partition
	DiskGUID   string // required, like Partition.UUID
	// Epoch is the time (seconds since 1970, as SOURCE_DATE_EPOCH) given to
	// every file and filesystem timestamp; 0 means image.DefaultEpoch.
	Epoch int64
}

// GPT partition type GUIDs.
const (
	TypeESP         = "C12A7328-F81F-11D2-BA4B-00A0C93EC3B8"
	TypeLinuxData   = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
	TypeMSBasicData = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
	TypeBIOSBoot    = "21686148-6449-6E6F-744E-656564454649"
)

// MBR partition type bytes.
const (
	mbrESP   = "ef"
	mbrFAT32 = "c" // FAT32 with LBA
	mbrLinux = "83"
)

// mbr reports whether the layout has an MBR partition table.
func (l Layout) mbr() bool { return l.Table == "mbr" }

// diskID is the 32-bit MBR disk signature: the first 8 hex digits of
// DiskGUID.
func (l Layout) diskID() string { return strings.ToLower(strings.ReplaceAll(l.DiskGUID, "-", "")[:8]) }

// PartUUID is what Linux calls partition i's PARTUUID: its GPT GUID, or on
// MBR the disk signature and the partition number ("1a2b3c4d-01").
func (l Layout) PartUUID(i int) string {
	if l.mbr() {
		return fmt.Sprintf("%s-%02x", l.diskID(), i+1)
	}
	return l.Partitions[i].UUID
}

const (
	sectorSize = 512
	mib        = 1 << 20
	// gptReserveMiB is left unpartitioned at each end of the disk: the
	// primary GPT before the first partition, the backup GPT after the last.
	gptReserveMiB = 1
	// minFAT32MiB is the smallest partition made FAT32 (65,525 clusters).
	minFAT32MiB = 33
)

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// slipwayNamespace is the UUIDv5 namespace of DeterministicUUID.
var slipwayNamespace = [16]byte{0x6b, 0x1c, 0x9e, 0x52, 0x3f, 0x0a, 0x4d, 0x8e, 0x9a, 0x41, 0x2c, 0x77, 0x0d, 0x5e, 0xb3, 0x10}

// DeterministicUUID returns the name-based (version 5) UUID of seed in
// slipway's namespace: the same seed always gives the same UUID.
func DeterministicUUID(seed string) string {
	h := sha1.New()
	h.Write(slipwayNamespace[:])
	h.Write([]byte(seed))
	return formatUUID(h.Sum(nil)[:16], 5)
}

// RandomUUID returns a new random (version 4) UUID, for when an image's
// disks should not be the same on every run.
func RandomUUID() string {
	u := make([]byte, 16)
	rand.Read(u)
	return formatUUID(u, 4)
}

// formatUUID sets the version and the RFC 4122 variant of 16 bytes and
// writes them as a UUID.
func formatUUID(u []byte, version byte) string {
	u[6] = u[6]&0x0f | version<<4
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// WithUUIDs returns a copy of l whose empty DiskGUID and partition UUIDs
// are derived from seed (and each partition's name).
func (l Layout) WithUUIDs(seed string) Layout {
	l.Partitions = slices.Clone(l.Partitions)
	if l.DiskGUID == "" {
		l.DiskGUID = DeterministicUUID(seed + "/disk")
	}
	for i := range l.Partitions {
		if l.Partitions[i].UUID == "" {
			l.Partitions[i].UUID = DeterministicUUID(fmt.Sprintf("%s/partition/%d/%s", seed, i+1, l.Partitions[i].Name))
		}
	}
	return l
}

// extent is where a partition lies, in 512-byte sectors, inclusive.
type extent struct {
	first, last int64
	typeUUID    string
	attrs       []int  // GPT attribute bits to set
	mbrType     string // the MBR partition type, in hex
	active      bool   // the MBR boot flag
}

func (e extent) offset() int64 { return e.first * sectorSize }
func (e extent) size() int64   { return (e.last - e.first + 1) * sectorSize }

// plan validates l and places its partitions, each MiB-aligned, in order.
func plan(l Layout) ([]extent, error) {
	if !uuidRE.MatchString(l.DiskGUID) {
		return nil, fmt.Errorf("disk GUID %q is not a UUID (use Layout.WithUUIDs)", l.DiskGUID)
	}
	if l.Table != "" && l.Table != "gpt" && l.Table != "mbr" {
		return nil, fmt.Errorf("unknown partition table %q (known: gpt, mbr)", l.Table)
	}
	if len(l.Partitions) == 0 || len(l.Partitions) > 128 || l.mbr() && len(l.Partitions) > 4 {
		return nil, fmt.Errorf("a disk needs 1 to 128 partitions (4 with mbr), not %d", len(l.Partitions))
	}
	if l.SizeMiB <= 2*gptReserveMiB {
		return nil, fmt.Errorf("disk size %d MiB is too small", l.SizeMiB)
	}
	var out []extent
	next := int64(gptReserveMiB) // in MiB
	for i, p := range l.Partitions {
		where := fmt.Sprintf("partition %d (%q)", i+1, p.Name)
		if !uuidRE.MatchString(p.UUID) {
			return nil, fmt.Errorf("%s: UUID %q is not a UUID (use Layout.WithUUIDs)", where, p.UUID)
		}
		if p.TypeUUID != "" && !uuidRE.MatchString(p.TypeUUID) {
			return nil, fmt.Errorf("%s: type %q is not a UUID", where, p.TypeUUID)
		}
		if len([]rune(p.Name)) > 36 {
			return nil, fmt.Errorf("%s: GPT names hold at most 36 characters", where)
		}
		e := extent{typeUUID: p.TypeUUID}
		esp, biosBoot := false, false
		for _, f := range p.Flags {
			switch f {
			case "esp":
				esp = true
			case "legacy_boot":
				e.attrs, e.active = append(e.attrs, 2), true
			case "bios_grub":
				biosBoot = true
			default:
				return nil, fmt.Errorf("%s: unknown flag %q (known: esp, legacy_boot, bios_grub)", where, f)
			}
		}
		switch p.FsType {
		case "fat32", "ext4":
		case "":
			if p.Dir != "" {
				return nil, fmt.Errorf("%s: has a Dir but no FsType", where)
			}
		default:
			return nil, fmt.Errorf("%s: unknown filesystem %q (known: fat32, ext4)", where, p.FsType)
		}
		switch {
		case esp && p.FsType != "fat32":
			return nil, fmt.Errorf("%s: an EFI system partition must be fat32", where)
		case biosBoot && (p.FsType != "" || l.mbr()):
			return nil, fmt.Errorf("%s: a bios_grub partition is an unformatted partition of a GPT disk", where)
		}
		switch {
		case esp:
			e.typeUUID, e.mbrType = or(e.typeUUID, TypeESP), mbrESP
		case biosBoot:
			e.typeUUID = or(e.typeUUID, TypeBIOSBoot)
		case p.FsType == "fat32":
			e.typeUUID, e.mbrType = or(e.typeUUID, TypeMSBasicData), mbrFAT32
		default:
			e.typeUUID, e.mbrType = or(e.typeUUID, TypeLinuxData), mbrLinux
		}
		size := int64(p.SizeMiB)
		switch {
		case p.SizeMiB < 0:
			return nil, fmt.Errorf("%s: negative size", where)
		case p.SizeMiB == 0 && i != len(l.Partitions)-1:
			return nil, fmt.Errorf("%s: only the last partition may take the rest of the disk (SizeMiB 0)", where)
		case p.SizeMiB == 0:
			size = int64(l.SizeMiB) - gptReserveMiB - next
		}
		if size <= 0 || next+size > int64(l.SizeMiB)-gptReserveMiB {
			return nil, fmt.Errorf("%s: does not fit: %d MiB used before it, disk is %d MiB with %d MiB kept at each end for the GPT",
				where, next-gptReserveMiB, l.SizeMiB, gptReserveMiB)
		}
		if p.FsType == "fat32" && size < 2 {
			return nil, fmt.Errorf("%s: a FAT file system needs at least 2 MiB, not %d", where, size)
		}
		e.first = next * mib / sectorSize
		e.last = (next+size)*mib/sectorSize - 1
		out = append(out, e)
		next += size
	}
	return out, nil
}

// or is a, or b when a is empty.
func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// sfdiskScript is the sfdisk input that writes the MBR partition table of l.
func sfdiskScript(l Layout, exts []extent) string {
	var b strings.Builder
	fmt.Fprintf(&b, "label: dos\nlabel-id: 0x%s\nunit: sectors\n\n", l.diskID())
	for _, e := range exts {
		fmt.Fprintf(&b, "start=%d, size=%d, type=%s", e.first, e.last-e.first+1, e.mbrType)
		if e.active {
			b.WriteString(", bootable")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// sgdiskArgs is the sgdisk command that writes the partition table of l.
func sgdiskArgs(l Layout, exts []extent, image string) []string {
	argv := []string{"sgdisk", "--clear", "--disk-guid=" + l.DiskGUID}
	for i, e := range exts {
		n := i + 1
		p := l.Partitions[i]
		argv = append(argv,
			fmt.Sprintf("--new=%d:%d:%d", n, e.first, e.last),
			fmt.Sprintf("--typecode=%d:%s", n, e.typeUUID),
			fmt.Sprintf("--partition-guid=%d:%s", n, p.UUID),
			fmt.Sprintf("--change-name=%d:%s", n, p.Name))
		for _, bit := range e.attrs {
			argv = append(argv, fmt.Sprintf("--attributes=%d:set:%d", n, bit))
		}
	}
	return append(argv, image)
}
