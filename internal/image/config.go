// Package image reads Azure Linux image configs as they are: the config
// JSON (Disks and SystemConfigs) and the package lists it names, decoded
// strictly and validated in one place.
//
// The field names and their meaning are Azure Linux's (toolkit/tools/
// imagegen/configuration); sizes and offsets are in MiB.
package image

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultEpoch (2020-01-01T00:00:00Z) is the time given to every file,
// file system and archive entry of an image when no epoch
// (SOURCE_DATE_EPOCH) is set; FAT cannot store times before 1980.
const DefaultEpoch = 1577836800

// EpochOrDefault is epoch, or DefaultEpoch when it is 0.
func EpochOrDefault(epoch int64) int64 {
	if epoch == 0 {
		return DefaultEpoch
	}
	return epoch
}

// Config is one image config file.
type Config struct {
	// Disks are the disks the image is made of; none for a rootfs-only
	// image, and a disk without Partitions for a container or initrd.
	Disks []Disk `json:"Disks"`
	// SystemConfigs are the systems the image holds; several only in an
	// installer's config, one of which IsDefault.
	SystemConfigs []SystemConfig `json:"SystemConfigs"`

	path string // the file it was read from, as given to Load or Decode
}

// Path is the file the config was read from, as given to Load or Decode.
func (c *Config) Path() string { return c.path }

// Dir is the directory the config's relative paths start from.
func (c *Config) Dir() string { return filepath.Dir(c.path) }

// DefaultSystem is the system config an image is made of: the one marked
// IsDefault, else the first; nil when there is none.
func (c *Config) DefaultSystem() *SystemConfig {
	for i := range c.SystemConfigs {
		if c.SystemConfigs[i].IsDefault {
			return &c.SystemConfigs[i]
		}
	}
	if len(c.SystemConfigs) == 0 {
		return nil
	}
	return &c.SystemConfigs[0]
}

// Disk is a disk of the image: its partition table and the artifacts
// made from it.
type Disk struct {
	PartitionTableType string      `json:"PartitionTableType"` // gpt or mbr; empty without partitions
	MaxSize            uint64      `json:"MaxSize"`            // MiB
	BlockSize          uint32      `json:"BlockSize"`          // 0 (512), 512 or 4096
	TargetDisk         TargetDisk  `json:"TargetDisk"`         // installers only: the disk to install to
	Artifacts          []Artifact  `json:"Artifacts"`
	Partitions         []Partition `json:"Partitions"`
	RawBinaries        []RawBinary `json:"RawBinaries"`
}

// TargetDisk is the existing disk an unattended installer writes to.
type TargetDisk struct {
	Type       string     `json:"Type"` // "path" (Value is the device), "raid" or empty
	Value      string     `json:"Value"`
	RaidConfig RaidConfig `json:"RaidConfig"`
}

// RaidConfig makes a software RAID device of partitions.
type RaidConfig struct {
	ComponentPartIDs []string `json:"ComponentPartIDs"`
	Level            int      `json:"Level"` // 0, 1, 4, 5, 6 or 10
	RaidID           string   `json:"RaidID"`
	LegacyMetadata   bool     `json:"LegacyMetadata"`
}

// Artifact is an output file made from a disk or a partition.
type Artifact struct {
	Name        string `json:"Name"`
	Type        string `json:"Type"`        // vhd, vhdx, qcow2, raw, initrd, ...; empty: a root file system archive
	Compression string `json:"Compression"` // tar.gz, tar.xz, gz, xz, ... or empty
}

// Partition is a partition of a disk. Start and End are offsets from the
// start of the disk in MiB; End 0 means up to the end of the disk.
type Partition struct {
	ID        string     `json:"ID"`   // what PartitionSettings refer to
	Name      string     `json:"Name"` // the GPT partition label
	Start     uint64     `json:"Start"`
	End       uint64     `json:"End"`
	FsType    string     `json:"FsType"`   // fat32, ext4, xfs, ...; empty: not formatted
	Type      string     `json:"Type"`     // a partition type name: esp, linux, linux-root-amd64, ...
	TypeUUID  string     `json:"TypeUUID"` // or the GPT type GUID itself
	Flags     []string   `json:"Flags"`    // esp, boot, bios_grub, grub, dmroot
	Artifacts []Artifact `json:"Artifacts"`
	Grow      bool       `json:"Grow"` // installers: take the free space left
}

// HasFlag says whether the partition has the flag.
func (p *Partition) HasFlag(flag string) bool {
	for _, f := range p.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

// GPTType is the partition's GPT type GUID: TypeUUID, or the GUID its
// Type names; "" when it has neither.
func (p *Partition) GPTType() string {
	if p.TypeUUID != "" {
		return strings.ToUpper(p.TypeUUID)
	}
	return strings.ToUpper(partitionTypes[p.Type])
}

// RawBinary is a file copied byte for byte onto the disk.
type RawBinary struct {
	BinPath   string `json:"BinPath"`
	BlockSize uint64 `json:"BlockSize"`
	Seek      uint64 `json:"Seek"`
}

// SystemConfig is one system: what is installed and how it is set up.
type SystemConfig struct {
	Name               string `json:"Name"`
	IsDefault          bool   `json:"IsDefault"`
	IsKickStartBoot    bool   `json:"IsKickStartBoot"`
	IsIsoInstall       bool   `json:"IsIsoInstall"`
	BootType           string `json:"BootType"` // efi, legacy, none or empty
	EnableGrubMkconfig bool   `json:"EnableGrubMkconfig"`
	Hostname           string `json:"Hostname"`
	// PackageLists are package list files, relative to the config's directory.
	PackageLists []string `json:"PackageLists"`
	Packages     []string `json:"Packages"`
	// KernelOptions maps a boot option ("default") to a kernel package;
	// keys starting with "_" are comments.
	KernelOptions     map[string]string `json:"KernelOptions"`
	KernelCommandLine KernelCommandLine `json:"KernelCommandLine"`
	// AdditionalFiles maps a file (relative to the config's directory) to
	// where it is copied in the image.
	AdditionalFiles      map[string]FileTargets `json:"AdditionalFiles"`
	PartitionSettings    []PartitionSetting     `json:"PartitionSettings"`
	PreInstallScripts    []Script               `json:"PreInstallScripts"`
	PostInstallScripts   []Script               `json:"PostInstallScripts"`
	FinalizeImageScripts []Script               `json:"FinalizeImageScripts"`
	Networks             []Network              `json:"Networks"`
	PackageRepos         []PackageRepo          `json:"PackageRepos"`
	Groups               []Group                `json:"Groups"`
	Users                []User                 `json:"Users"`
	Encryption           Encryption             `json:"Encryption"`
	ReadOnlyVerityRoot   VerityRoot             `json:"ReadOnlyVerityRoot"`
	RemoveRpmDb          bool                   `json:"RemoveRpmDb"`
	PreserveTdnfCache    bool                   `json:"PreserveTdnfCache"`
	EnableHidepid        bool                   `json:"EnableHidepid"`
	DisableRpmDocs       bool                   `json:"DisableRpmDocs"`
	OverrideRpmLocales   string                 `json:"OverrideRpmLocales"`
}

// KernelCommandLine is what the image adds to the kernel command line.
type KernelCommandLine struct {
	CGroup           string   `json:"CGroup"`    // version_one, version_two or empty
	ImaPolicy        []string `json:"ImaPolicy"` // tcb, appraise_tcb, secure_boot
	SELinux          string   `json:"SELinux"`   // enforcing, permissive, force_enforcing or empty (off)
	SELinuxPolicy    string   `json:"SELinuxPolicy"`
	EnableFIPS       bool     `json:"EnableFIPS"`
	ExtraCommandLine string   `json:"ExtraCommandLine"`
}

// PartitionSetting says where and how a system mounts a partition.
type PartitionSetting struct {
	ID               string `json:"ID"`         // a Partition's ID
	MountPoint       string `json:"MountPoint"` // absolute; empty: not mounted
	MountOptions     string `json:"MountOptions"`
	MountIdentifier  string `json:"MountIdentifier"` // uuid, partuuid (the default) or partlabel
	RemoveDocs       bool   `json:"RemoveDocs"`
	OverlayBaseImage string `json:"OverlayBaseImage"`
	RdiffBaseImage   string `json:"RdiffBaseImage"`
}

// FileTargets are the places one additional file is copied to. In JSON it
// is a destination path, an object {"Path", "Permissions"}, or a list of
// either.
type FileTargets []FileTarget

// FileTarget is one place an additional file is copied to.
type FileTarget struct {
	Path        string `json:"Path"`
	Permissions string `json:"Permissions"` // octal, e.g. "644"; empty: the source's
}

// Script is a script run while the image is made, with its arguments.
type Script struct {
	Path string `json:"Path"` // relative to the config's directory
	Args string `json:"Args"`
}

// Network is a network interface set up by an installer.
type Network struct {
	BootProto   string   `json:"BootProto"` // dhcp, static, bootp, ibft
	GateWay     string   `json:"GateWay"`
	Ip          string   `json:"Ip"`
	NetMask     string   `json:"NetMask"`
	OnBoot      bool     `json:"OnBoot"`
	NameServers []string `json:"NameServer"`
	Device      string   `json:"Device"`
}

// PackageRepo is an extra RPM repository for the installation or the
// installed system.
type PackageRepo struct {
	Name         string `json:"Name"`
	BaseUrl      string `json:"BaseUrl"`
	Install      bool   `json:"Install"`
	GPGCheck     *bool  `json:"GPGCheck"`
	RepoGPGCheck *bool  `json:"RepoGPGCheck"`
	GPGKeys      string `json:"GPGKeys"`
}

// Group is a group created in the image.
type Group struct {
	Name string `json:"Name"`
	GID  string `json:"GID"`
}

// User is a user created in the image.
type User struct {
	Name                string   `json:"Name"`
	UID                 string   `json:"UID"`
	Password            string   `json:"Password"`
	PasswordHashed      bool     `json:"PasswordHashed"`
	PasswordExpiresDays int64    `json:"PasswordExpiresDays"`
	SSHPubKeyPaths      []string `json:"SSHPubKeyPaths"` // relative to the config's directory
	SSHPubKeys          []string `json:"SSHPubKeys"`
	PrimaryGroup        string   `json:"PrimaryGroup"`
	SecondaryGroups     []string `json:"SecondaryGroups"`
	StartupCommand      string   `json:"StartupCommand"`
	HomeDirectory       string   `json:"HomeDirectory"`
}

// Encryption encrypts the root partition.
type Encryption struct {
	Enable   bool   `json:"Enable"`
	Password string `json:"Password"`
}

// VerityRoot makes the root file system read-only under dm-verity.
type VerityRoot struct {
	Enable                       bool     `json:"Enable"`
	Name                         string   `json:"Name"`
	ErrorCorrectionEnable        bool     `json:"ErrorCorrectionEnable"`
	ErrorCorrectionEncodingRoots int      `json:"ErrorCorrectionEncodingRoots"`
	RootHashSignatureEnable      bool     `json:"RootHashSignatureEnable"`
	ValidateOnBoot               bool     `json:"ValidateOnBoot"`
	VerityErrorBehavior          string   `json:"VerityErrorBehavior"` // ignore, restart, panic or empty
	TmpfsOverlays                []string `json:"TmpfsOverlays"`
	TmpfsOverlaySize             string   `json:"TmpfsOverlaySize"`
	TmpfsOverlayDebugEnabled     bool     `json:"TmpfsOverlayDebugEnabled"`
}

// PackageList is a package list file: {"packages": ["name", ...]}. Keys
// starting with "_" (Azure Linux's "_comment") are ignored.
type PackageList struct {
	Packages []string `json:"packages"`
}

// Load reads and strictly decodes an image config file.
func Load(path string) (*Config, error) {
	data, err := readRegular(path)
	if err != nil {
		return nil, err
	}
	return Decode(path, data)
}

// Decode strictly decodes an image config; name is the file it came from,
// used in errors and as the base of its relative paths. Errors are
// *DecodeError values (joined when there are several).
func Decode(name string, data []byte) (*Config, error) {
	cfg := &Config{path: name}
	if err := decodeStrict(name, data, cfg, false); err != nil {
		return nil, err
	}
	return cfg, nil
}

// maxFileSize bounds the config and package list files read.
const maxFileSize = 16 << 20

// LoadPackageList reads and strictly decodes a package list file.
func LoadPackageList(path string) (*PackageList, error) {
	data, err := readRegular(path)
	if err != nil {
		return nil, err
	}
	var l PackageList
	if err := decodeStrict(path, data, &l, true); err != nil {
		return nil, err
	}
	return &l, nil
}

// ConfigPath resolves an image config argument: a path ending in .json,
// or the name of a config in configsDir (NAME.json). It returns false when
// arg is neither.
func ConfigPath(configsDir, arg string) (string, bool) {
	if strings.HasSuffix(arg, ".json") {
		return arg, true
	}
	path := filepath.Join(configsDir, arg+".json")
	if _, err := os.Stat(path); err == nil {
		return path, true
	}
	return "", false
}

// readRegular reads a regular file of at most maxFileSize bytes (not a
// device or a pipe a path in a config might name).
func readRegular(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, maxFileSize>>20)
	}
	return io.ReadAll(io.LimitReader(f, maxFileSize+1))
}
