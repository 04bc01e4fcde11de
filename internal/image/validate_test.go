package image

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"slipway/internal/testutil"
)

// copySample copies the sample's imageconfigs into a temporary directory
// (the sample itself is never changed) and returns the copy.
func copySample(t *testing.T) string {
	t.Helper()
	src := filepath.Join(testutil.SampleDir(t), "imageconfigs")
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// set changes the value at a JSON path (Disks[0].MaxSize) of a generic
// document; a nil value deletes the key.
func set(t *testing.T, doc any, path string, value any) {
	t.Helper()
	var steps []any // string keys and int indexes
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			steps = append(steps, name)
		}
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			n, err := strconv.Atoi(idx)
			if err != nil {
				t.Fatalf("bad path %q", path)
			}
			steps = append(steps, n)
			rest = strings.TrimPrefix(after, "[")
		}
	}
	cur := doc
	for i, step := range steps {
		last := i == len(steps)-1
		switch s := step.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("%s: %q is not in an object", path, s)
			}
			if last {
				if value == nil {
					delete(m, s)
				} else {
					m[s] = value
				}
				return
			}
			cur = m[s]
		case int:
			l, ok := cur.([]any)
			if !ok || s >= len(l) {
				t.Fatalf("%s: no index %d", path, s)
			}
			if last {
				l[s] = value
				return
			}
			cur = l[s]
		}
	}
}

// mutate rewrites a JSON file of dir with changes made to its document.
func mutate(t *testing.T, dir, file string, changes map[string]any) string {
	t.Helper()
	p := filepath.Join(dir, file)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for path, value := range changes {
		set(t, doc, path, value)
	}
	out, _ := json.MarshalIndent(doc, "", "  ")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var sampleConfigs = []string{"core-efi.json", "core-container.json", "full.json", "resources/iso_initrd.json"}

func TestSampleConfigsAreValid(t *testing.T) {
	dir := filepath.Join(testutil.SampleDir(t), "imageconfigs")
	for _, name := range sampleConfigs {
		cfg, err := Load(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, p := range Validate(cfg, Options{}) {
			// The sample is trimmed: the ISO initrd's own files (and the
			// imager it copies from out/) are not in it.
			if name == "resources/iso_initrd.json" && strings.Contains(p.Message, "does not exist") &&
				(strings.Contains(p.Path, ".AdditionalFiles[") || strings.Contains(p.Path, ".PostInstallScripts[")) {
				continue
			}
			t.Errorf("%s", p)
		}
	}
	efi, _ := Load(filepath.Join(dir, "core-efi.json"))
	d := efi.Disks[0]
	if d.PartitionTableType != "gpt" || d.MaxSize != 4096 || d.Artifacts[0].Type != "vhdx" || len(d.Partitions) != 2 ||
		!d.Partitions[0].HasFlag("esp") || d.Partitions[1].End != 0 || efi.SystemConfigs[0].PartitionSettings[0].MountOptions != "umask=0077" ||
		!efi.SystemConfigs[0].DisableRpmDocs || efi.SystemConfigs[0].KernelOptions["default"] != "kernel" {
		t.Errorf("core-efi.json decoded as %+v", efi)
	}
	full, _ := Load(filepath.Join(dir, "full.json"))
	if got := full.SystemConfigs[0].AdditionalFiles["additionalconfigs/99-dhcp-en.network"]; !reflect.DeepEqual(got, FileTargets{{Path: "/etc/systemd/network/99-dhcp-en.network"}}) {
		t.Errorf("full.json AdditionalFiles = %+v", got)
	}
}

func TestBrokenConfigs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		changes map[string]any
		files   map[string]string // files written into the copy
		want    string            // "<path>: <message>" (a prefix of the message)
	}{
		{"duplicate partition ID", "core-efi.json", map[string]any{"Disks[0].Partitions[1].ID": "boot"}, nil,
			`Disks[0].Partitions[1].ID: "boot" is also the ID of Disks[0].Partitions[0]`},
		{"partition beyond MaxSize", "core-efi.json", map[string]any{"Disks[0].MaxSize": 8}, nil,
			`Disks[0].Partitions[0].End: 9 is beyond the disk's MaxSize 8`},
		{"End-0 partition without room", "core-efi.json", map[string]any{"Disks[0].MaxSize": 9}, nil,
			`Disks[0].Partitions[1].Start: 9 leaves no room before the disk's MaxSize 9`},
		{"overlapping partitions", "core-efi.json", map[string]any{"Disks[0].Partitions[1].Start": 5}, nil,
			`Disks[0].Partitions[1]: partition "rootfs" (5 MiB to the end) overlaps partition "boot" (1-9 MiB)`},
		{"partition after an End-0 one", "core-efi.json", map[string]any{"Disks[0].Partitions[0].Start": 100, "Disks[0].Partitions[0].End": 200}, nil,
			`Disks[0].Partitions[0]: partition "boot" (100-200 MiB) overlaps partition "rootfs" (9 MiB to the end)`},
		{"End before Start", "core-efi.json", map[string]any{"Disks[0].Partitions[0].End": 1}, nil,
			`Disks[0].Partitions[0].End: 1 is not after Start 1`},
		{"partition at 0", "core-efi.json", map[string]any{"Disks[0].Partitions[0].Start": 0}, nil,
			`Disks[0].Partitions[0].Start: 0 is where the partition table is`},
		{"no MaxSize", "core-efi.json", map[string]any{"Disks[0].MaxSize": nil}, nil,
			`Disks[0].MaxSize: a disk with partitions needs a MaxSize`},
		{"undefined partition", "core-efi.json", map[string]any{"SystemConfigs[0].PartitionSettings[0].ID": "esp"}, nil,
			`SystemConfigs[0].PartitionSettings[0].MountPoint: "/boot/efi" refers to partition "esp" that no disk defines`},
		{"relative mount point", "core-efi.json", map[string]any{"SystemConfigs[0].PartitionSettings[0].MountPoint": "boot/efi"}, nil,
			`SystemConfigs[0].PartitionSettings[0].MountPoint: "boot/efi" is not an absolute path`},
		{"duplicate mount point", "core-efi.json", map[string]any{"SystemConfigs[0].PartitionSettings[0].MountPoint": "/"}, nil,
			`SystemConfigs[0].PartitionSettings[1].MountPoint: "/" is also mounted by SystemConfigs[0].PartitionSettings[0]`},
		{"no root", "core-efi.json", map[string]any{"SystemConfigs[0].PartitionSettings[1].MountPoint": "/data"}, nil,
			`SystemConfigs[0].PartitionSettings: no partition is mounted at "/"`},
		{"no ESP", "core-efi.json", map[string]any{"Disks[0].Partitions[0].Flags": []any{"boot"}}, nil,
			`SystemConfigs[0].BootType: "efi" needs an EFI system partition: fat32 with the esp flag`},
		{"ESP not FAT", "core-efi.json", map[string]any{"Disks[0].Partitions[0].FsType": "ext4"}, nil,
			`Disks[0].Partitions[0].FsType: an EFI system partition (flag esp) must be FAT (fat32), not ext4`},
		{"legacy gpt without bios_grub", "core-efi.json", map[string]any{"SystemConfigs[0].BootType": "legacy"}, nil,
			`SystemConfigs[0].BootType: "legacy" on a gpt disk (Disks[0]) needs a partition with the bios_grub flag`},
		{"unknown FsType", "core-efi.json", map[string]any{"Disks[0].Partitions[1].FsType": "zfs"}, nil,
			`Disks[0].Partitions[1].FsType: unknown value "zfs" (known: fat32,`},
		{"unknown flag", "core-efi.json", map[string]any{"Disks[0].Partitions[0].Flags[1]": "bootable"}, nil,
			`Disks[0].Partitions[0].Flags[1]: unknown value "bootable"`},
		{"unknown artifact type", "core-efi.json", map[string]any{"Disks[0].Artifacts[0].Type": "vmdk"}, nil,
			`Disks[0].Artifacts[0].Type: unknown value "vmdk" (known: raw, vhd,`},
		{"unknown compression", "core-container.json", map[string]any{"Disks[0].Artifacts[0].Compression": "tar.bz3"}, nil,
			`Disks[0].Artifacts[0].Compression: unknown value "tar.bz3"`},
		{"unknown partition table type", "core-efi.json", map[string]any{"Disks[0].PartitionTableType": "dos"}, nil,
			`Disks[0].PartitionTableType: unknown value "dos" (known: gpt, mbr)`},
		{"unknown boot type", "core-efi.json", map[string]any{"SystemConfigs[0].BootType": "uefi"}, nil,
			`SystemConfigs[0].BootType: unknown value "uefi" (known: efi, legacy, none)`},
		{"unknown partition type name", "core-efi.json", map[string]any{"Disks[0].Partitions[1].Type": "root"}, nil,
			`Disks[0].Partitions[1].Type: unknown partition type "root"`},
		{"bad type GUID", "core-efi.json", map[string]any{"Disks[0].Partitions[1].TypeUUID": "1234"}, nil,
			`Disks[0].Partitions[1].TypeUUID: "1234" is not a GUID`},
		{"missing package list", "core-efi.json", map[string]any{"SystemConfigs[0].PackageLists[1]": "packagelists/nope.json"}, nil,
			`SystemConfigs[0].PackageLists[1]: package list "packagelists/nope.json" does not exist`},
		{"broken package list", "core-efi.json", nil, map[string]string{"packagelists/hyperv-packages.json": "{\n  \"packages\": [\"a\", 3]\n}\n"},
			`SystemConfigs[0].PackageLists[0]: package list "packagelists/hyperv-packages.json": `},
		{"bad package name", "core-efi.json", map[string]any{"SystemConfigs[0].Packages": []any{"vim emacs"}}, nil,
			`SystemConfigs[0].Packages[0]: "vim emacs" is not a package name`},
		{"missing additional file", "full.json", map[string]any{"SystemConfigs[1].AdditionalFiles": map[string]any{"additionalconfigs/nope.network": "/etc/nope"}}, nil,
			`SystemConfigs[1].AdditionalFiles["additionalconfigs/nope.network"]: additional file "additionalconfigs/nope.network" does not exist`},
		{"relative destination", "full.json", map[string]any{"SystemConfigs[0].AdditionalFiles": map[string]any{"additionalconfigs/99-dhcp-en.network": []any{"/etc/a", map[string]any{"Path": "etc/b"}}}}, nil,
			`SystemConfigs[0].AdditionalFiles["additionalconfigs/99-dhcp-en.network"][1]: destination "etc/b" is not an absolute path`},
		{"bad permissions", "full.json", map[string]any{"SystemConfigs[0].AdditionalFiles": map[string]any{"additionalconfigs/99-dhcp-en.network": map[string]any{"Path": "/etc/a", "Permissions": "rw-r--r--"}}}, nil,
			`SystemConfigs[0].AdditionalFiles["additionalconfigs/99-dhcp-en.network"].Permissions: "rw-r--r--" is not an octal file mode`},
		{"missing script", "core-container.json", map[string]any{"SystemConfigs[0].PostInstallScripts[0].Path": "postinstallscripts/nope.sh"}, nil,
			`SystemConfigs[0].PostInstallScripts[0].Path: script "postinstallscripts/nope.sh" does not exist`},
		{"missing pre-install script", "core-container.json", map[string]any{"SystemConfigs[0].PreInstallScripts": []any{map[string]any{"Path": "pre.sh", "Args": "-x"}}}, nil,
			`SystemConfigs[0].PreInstallScripts[0].Path: script "pre.sh" does not exist`},
		{"missing SSH key", "core-efi.json", map[string]any{"SystemConfigs[0].Users": []any{map[string]any{"Name": "azl", "SSHPubKeyPaths": []any{"keys/azl.pub"}}}}, nil,
			`SystemConfigs[0].Users[0].SSHPubKeyPaths[0]: SSH public key "keys/azl.pub" does not exist`},
		{"bad user name", "core-efi.json", map[string]any{"SystemConfigs[0].Users": []any{map[string]any{"Name": "Bad User"}}}, nil,
			`SystemConfigs[0].Users[0].Name: "Bad User" is not a valid user name`},
		{"duplicate user", "core-efi.json", map[string]any{"SystemConfigs[0].Users": []any{map[string]any{"Name": "azl"}, map[string]any{"Name": "azl"}}}, nil,
			`SystemConfigs[0].Users[1].Name: user "azl" is defined twice`},
		{"bad UID", "core-efi.json", map[string]any{"SystemConfigs[0].Users": []any{map[string]any{"Name": "azl", "UID": "-5"}}}, nil,
			`SystemConfigs[0].Users[0].UID: "-5" is not a number from 0 to 60000`},
		{"unhashed hashed password", "core-efi.json", map[string]any{"SystemConfigs[0].Users": []any{map[string]any{"Name": "azl", "Password": "secret", "PasswordHashed": true}}}, nil,
			`SystemConfigs[0].Users[0].Password: PasswordHashed is set but the password is not a crypt(3) hash`},
		{"bad group name", "core-efi.json", map[string]any{"SystemConfigs[0].Groups": []any{map[string]any{"Name": "9-lives!"}}}, nil,
			`SystemConfigs[0].Groups[0].Name: "9-lives!" is not a valid group name`},
		{"two defaults", "full.json", map[string]any{"SystemConfigs[0].IsDefault": true, "SystemConfigs[1].IsDefault": true}, nil,
			`SystemConfigs[1].IsDefault: more than one system config is the default`},
		{"bad hostname", "core-efi.json", map[string]any{"SystemConfigs[0].Hostname": "azure_linux"}, nil,
			`SystemConfigs[0].Hostname: "azure_linux" is not a valid host name`},
		{"no default kernel", "core-efi.json", map[string]any{"SystemConfigs[0].KernelOptions": map[string]any{"_comment": "none"}}, nil,
			`SystemConfigs[0].KernelOptions: a system with partitions needs a "default" kernel package`},
		{"nothing to install", "core-container.json", map[string]any{"SystemConfigs[0].PackageLists": nil}, nil,
			`SystemConfigs[0]: no PackageLists and no Packages`},
		{"unknown SELinux mode", "full.json", map[string]any{"SystemConfigs[0].KernelCommandLine.SELinux": "on"}, nil,
			`SystemConfigs[0].KernelCommandLine.SELinux: unknown value "on"`},
		{"no system config", "core-container.json", map[string]any{"SystemConfigs": []any{}}, nil,
			`SystemConfigs: no system config`},
		{"encryption without dmroot", "core-efi.json", map[string]any{"SystemConfigs[0].Encryption": map[string]any{"Enable": true}}, nil,
			`SystemConfigs[0].PartitionSettings: the partition mounted at "/" ("rootfs") needs the dmroot flag`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copySample(t)
			for name, text := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			path := mutate(t, dir, tc.file, tc.changes)
			cfg, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			problems := Validate(cfg, Options{})
			want := path + ": " + tc.want
			found := false
			for _, p := range problems {
				found = found || strings.HasPrefix(p.String(), want)
			}
			if !found || Errors(problems) == 0 {
				t.Errorf("want a problem starting with\n  %s\ngot %d:", want, len(problems))
				for _, p := range problems {
					t.Errorf("  %s", p)
				}
			}
		})
	}
}

func TestValidateReportsEverythingAndChangesNothing(t *testing.T) {
	dir := copySample(t)
	path := mutate(t, dir, "core-efi.json", map[string]any{
		"Disks[0].Partitions[1].ID":                        "boot",
		"Disks[0].Artifacts[0].Type":                       "vmdk",
		"SystemConfigs[0].BootType":                        "uefi",
		"SystemConfigs[0].PartitionSettings[1].ID":         "root",
		"SystemConfigs[0].PackageLists[0]":                 "nope.json",
		"SystemConfigs[0].PartitionSettings[0].MountPoint": "boot",
	})
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := Load(path)
	problems := Validate(cfg, Options{})
	for _, want := range []string{"Disks[0].Partitions[1].ID:", "Disks[0].Artifacts[0].Type:", "SystemConfigs[0].BootType:",
		"SystemConfigs[0].PartitionSettings[1].MountPoint:", "SystemConfigs[0].PackageLists[0]:", "SystemConfigs[0].PartitionSettings[0].MountPoint:"} {
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p.String(), ": "+want)
		}
		if !found {
			t.Errorf("no problem at %s in %v", want, problems)
		}
	}
	if !reflect.DeepEqual(cfg, before) {
		t.Error("Validate changed the config")
	}
}

func TestUnknownPackagesAreWarnings(t *testing.T) {
	dir := filepath.Join(testutil.SampleDir(t), "imageconfigs")
	cfg, err := Load(filepath.Join(dir, "full.json"))
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	problems := Validate(cfg, Options{
		KnownPackage:   func(name string) bool { asked = append(asked, name); return name != "shim" && name != "kernel" },
		UnknownPackage: "not provided by any spec or the toolchain",
	})
	if Errors(problems) != 0 {
		t.Errorf("errors: %v", problems)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	want := []string{
		"warning: " + cfg.Path() + `: SystemConfigs[0].KernelOptions.default: package "kernel" is not provided by any spec or the toolchain`,
		"warning: " + filepath.Join(dir, "packagelists/core-packages-image.json") + `: packages[0]: package "shim" is not provided by any spec or the toolchain`,
		"warning: " + cfg.Path() + `: SystemConfigs[1].KernelOptions.default: package "kernel" is not provided by any spec or the toolchain`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Lists shared by the two system configs are read once.
	n := 0
	for _, a := range asked {
		if a == "shim" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("shim checked %d times", n)
	}
}

func TestConfigPath(t *testing.T) {
	dir := filepath.Join(testutil.SampleDir(t), "imageconfigs")
	for _, tc := range []struct {
		arg, want string
		ok        bool
	}{
		{"core-efi", filepath.Join(dir, "core-efi.json"), true},
		{"some/where.json", "some/where.json", true},
		{"kernel", "", false},
	} {
		got, ok := ConfigPath(dir, tc.arg)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ConfigPath(%q) = %q, %v; want %q, %v", tc.arg, got, ok, tc.want, tc.ok)
		}
	}
}
