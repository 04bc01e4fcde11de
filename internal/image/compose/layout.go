package compose

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"slipway/internal/image"
	"slipway/internal/image/disk"
)

// diskPlan is the config's partitioned disk: the layout to make and where
// each partition is mounted.
type diskPlan struct {
	index  int // in Config.Disks
	disk   *image.Disk
	layout disk.Layout
	mounts []mount // by partition, in Partitions order
	root   int     // the partition mounted at /
}

// mount is how the system mounts one partition ("" MountPoint: not at all).
type mount struct {
	MountPoint, Options, Identifier string
}

// planDisk lays out the first disk that has partitions, or returns nil.
// Partitions must follow each other from 1 MiB on (as Azure Linux's
// configs place them); the last may run to the end of the disk (End 0).
func (j *job) planDisk() (*diskPlan, error) {
	cfg := j.o.Config
	for d := range cfg.Disks {
		dk := &cfg.Disks[d]
		if len(dk.Partitions) == 0 {
			continue
		}
		settings := map[string]image.PartitionSetting{}
		for _, s := range j.sc.PartitionSettings {
			settings[s.ID] = s
		}
		dp := &diskPlan{index: d, disk: dk, root: -1}
		l := disk.Layout{Table: dk.PartitionTableType, SizeMiB: int(dk.MaxSize), Epoch: j.epoch}
		next := uint64(1)
		for i, p := range dk.Partitions {
			where := fmt.Sprintf("Disks[%d].Partitions[%d]", d, i)
			if p.Start != next {
				return nil, fmt.Errorf("%s: starts at %d MiB; slipway places partitions one after the other from 1 MiB, so it must start at %d", where, p.Start, next)
			}
			size := 0
			if p.End != 0 {
				if p.End <= p.Start {
					return nil, fmt.Errorf("%s: ends (%d MiB) before it starts (%d MiB)", where, p.End, p.Start)
				}
				size = int(p.End - p.Start)
				next = p.End
			} else if i != len(dk.Partitions)-1 {
				return nil, fmt.Errorf("%s: only the last partition may run to the end of the disk (End 0)", where)
			}
			part := disk.Partition{Name: p.Name, SizeMiB: size, TypeUUID: p.GPTType()}
			if part.Name == "" {
				part.Name = p.ID
			}
			switch p.FsType {
			case "fat32", "fat16", "vfat":
				part.FsType = "fat32"
			default:
				part.FsType = p.FsType
			}
			if p.HasFlag("esp") || p.Type == "esp" {
				part.Flags = append(part.Flags, "esp")
			}
			if p.HasFlag("legacy_boot") || p.HasFlag("boot") && dk.PartitionTableType == "mbr" {
				part.Flags = append(part.Flags, "legacy_boot") // on MBR, the active flag
			}
			if p.HasFlag("bios_grub") || p.HasFlag("bios-grub") || p.HasFlag("grub") {
				part.Flags = append(part.Flags, "bios_grub")
			}
			if j.o.RandomUUIDs {
				part.UUID = disk.RandomUUID()
			}
			l.Partitions = append(l.Partitions, part)
			s := settings[p.ID]
			dp.mounts = append(dp.mounts, mount{MountPoint: s.MountPoint, Options: s.MountOptions, Identifier: s.MountIdentifier})
			if s.MountPoint == "/" {
				dp.root = i
			}
		}
		if dp.root < 0 {
			return nil, fmt.Errorf("Disks[%d]: no partition is mounted at /", d)
		}
		if j.o.RandomUUIDs {
			l.DiskGUID = disk.RandomUUID()
		}
		dp.layout = l.WithUUIDs(j.o.Seed)
		return dp, nil
	}
	return nil, nil
}

// fstab is /etc/fstab for the plan's mounts, "/" first, then by mount
// point, after the lines of the packages' fstab (old) for other mount
// points (a tmpfs on /tmp, say).
func (dp *diskPlan) fstab(old string) string {
	type line struct{ mountPoint, text string }
	var lines []line
	for i, m := range dp.mounts {
		if m.MountPoint == "" {
			continue
		}
		p := dp.layout.Partitions[i]
		dev := "PARTUUID=" + dp.layout.PartUUID(i) // Azure Linux's default
		switch m.Identifier {
		case "uuid":
			dev = "UUID=" + p.UUID
			if p.FsType == "fat32" {
				id := strings.ToUpper(strings.ReplaceAll(p.UUID, "-", "")[:8])
				dev = "UUID=" + id[:4] + "-" + id[4:]
			}
		case "partlabel":
			dev = "PARTLABEL=" + p.Name
		}
		fs := p.FsType
		if fs == "fat32" {
			fs = "vfat"
		}
		opts, pass := m.Options, 2
		if opts == "" {
			opts = "defaults"
		}
		if m.MountPoint == "/" {
			pass = 1
		}
		lines = append(lines, line{m.MountPoint, fmt.Sprintf("%s %s %s %s 0 %d", dev, m.MountPoint, fs, opts, pass)})
	}
	sort.SliceStable(lines, func(a, b int) bool {
		return path.Clean(lines[a].mountPoint) < path.Clean(lines[b].mountPoint)
	})
	var b strings.Builder
	mine := map[string]bool{}
	for _, l := range lines {
		mine[path.Clean(l.mountPoint)] = true
	}
	for _, l := range strings.Split(strings.TrimRight(old, "\n"), "\n") {
		if f := strings.Fields(l); l != "" && (len(f) < 2 || strings.HasPrefix(f[0], "#") || !mine[path.Clean(f[1])]) {
			b.WriteString(l + "\n")
		}
	}
	b.WriteString("# Made by slipway from the image config's PartitionSettings:\n")
	for _, l := range lines {
		b.WriteString(l.text + "\n")
	}
	return b.String()
}
