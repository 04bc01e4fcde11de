package compose

import (
	"strings"
	"testing"

	"slipway/internal/image"
)

func TestFstabFromPartitionSettings(t *testing.T) {
	for _, table := range []string{"gpt", "mbr"} {
		disk := map[string]any{"PartitionTableType": table, "MaxSize": 100, "Partitions": []any{
			map[string]any{"ID": "boot", "Start": 1, "End": 9, "FsType": "fat32", "Flags": []string{"esp", "boot"}},
			map[string]any{"ID": "root", "Start": 9, "End": 0, "FsType": "ext4"}}}
		cfg := writeConfig(t, map[string]any{"Disks": []any{disk}, "SystemConfigs": []any{map[string]any{
			"Name": "s", "BootType": "efi", "Packages": []string{"x"}, "KernelOptions": map[string]any{"default": "kernel"},
			"PartitionSettings": []any{
				map[string]any{"ID": "boot", "MountPoint": "/boot/efi", "MountOptions": "umask=0077", "MountIdentifier": "uuid"},
				map[string]any{"ID": "root", "MountPoint": "/"}}}}}, nil)
		j := &job{o: Options{Config: cfg, Seed: "fstab"}, sc: &cfg.SystemConfigs[0], epoch: image.DefaultEpoch}
		dp, err := j.planDisk()
		if err != nil {
			t.Fatal(err)
		}
		got := dp.fstab("# packages' fstab\ntmpfs /tmp tmpfs defaults 0 0\n/dev/old / ext4 defaults 0 1\n")
		rootDev := "PARTUUID=" + dp.layout.Partitions[1].UUID
		if table == "mbr" {
			rootDev = "PARTUUID=" + strings.ToLower(strings.ReplaceAll(dp.layout.DiskGUID, "-", "")[:8]) + "-02"
		}
		esp := strings.ToUpper(strings.ReplaceAll(dp.layout.Partitions[0].UUID, "-", "")[:8])
		for _, want := range []string{
			"tmpfs /tmp tmpfs defaults 0 0\n",
			rootDev + " / ext4 defaults 0 1\n",
			"UUID=" + esp[:4] + "-" + esp[4:] + " /boot/efi vfat umask=0077 0 2\n",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: fstab lacks %q:\n%s", table, want, got)
			}
		}
		if strings.Contains(got, "/dev/old") {
			t.Errorf("%s: the packages' line for / should be replaced:\n%s", table, got)
		}
	}
}
