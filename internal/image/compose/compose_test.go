package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/buildroot"
	"slipway/internal/image"
	"slipway/internal/testutil"
)

func TestMain(m *testing.M) {
	if buildroot.IsSandboxInit() {
		buildroot.SandboxInit()
	}
	os.Exit(m.Run())
}

// testRepo is a repository of a busybox system: a base package with the
// shell and the account files, and an app that needs it.
func testRepo(t *testing.T) string {
	busybox := testutil.StaticBusybox(t)
	return testutil.RPMRepo(t, map[string]string{
		"box-base": fmt.Sprintf(`Provides: /bin/sh
%%install
install -D -m 755 %s %%{buildroot}/usr/bin/busybox
mkdir -p %%{buildroot}/bin %%{buildroot}/etc %%{buildroot}/tmp %%{buildroot}/home
ln -s ../usr/bin/busybox %%{buildroot}/bin/sh
printf 'root:x:0:0:root:/root:/bin/sh\n' > %%{buildroot}/etc/passwd
printf 'root:x:0:\nusers:x:100:\n' > %%{buildroot}/etc/group
printf 'root:*:19000:0:99999:7:::\n' > %%{buildroot}/etc/shadow
printf 'tmpfs /tmp tmpfs defaults 0 0\n' > %%{buildroot}/etc/fstab
%%files
/usr/bin/busybox
/bin/sh
/etc/passwd
/etc/group
/etc/shadow
/etc/fstab
%%dir /tmp
%%dir /home
`, busybox),
		"box-app": `Requires: box-base
%install
mkdir -p %{buildroot}/usr/share/box-app
echo app > %{buildroot}/usr/share/box-app/data
%files
/usr/share/box-app
`,
	})
}

// writeConfig writes an image config and its files into a new directory.
func writeConfig(t *testing.T, cfg map[string]any, files map[string]string) *image.Config {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644)
	}
	data, _ := json.MarshalIndent(cfg, "", "  ")
	path := filepath.Join(dir, "box.json")
	os.WriteFile(path, data, 0o644)
	c, err := image.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if problems := image.Validate(c, image.Options{}); image.Errors(problems) > 0 {
		t.Fatalf("config: %v", problems)
	}
	return c
}

func containerConfig(system map[string]any) map[string]any {
	return map[string]any{
		"Disks": []any{map[string]any{"Artifacts": []any{
			map[string]any{"Name": "box", "Compression": "tar.gz"},
			map[string]any{"Name": "box", "Type": "oci"},
		}}},
		"SystemConfigs": []any{system},
	}
}

func TestContainerImageWithAccountsFilesAndScripts(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "dnf", "openssl")
	repo := testRepo(t)
	cfg := writeConfig(t, containerConfig(map[string]any{
		"Name": "box", "Packages": []string{"box-app"}, "Hostname": "box",
		"Groups": []any{map[string]any{"Name": "wheel", "GID": "10"}},
		"Users": []any{map[string]any{"Name": "alice", "Password": "secret", "SSHPubKeys": []string{"ssh-ed25519 AAAAC3Nza test@box"},
			"SecondaryGroups": []string{"wheel"}}},
		"AdditionalFiles":    map[string]any{"motd": map[string]any{"Path": "/etc/motd", "Permissions": "600"}},
		"PostInstallScripts": []any{map[string]any{"Path": "post.sh", "Args": "one two"}},
	}), map[string]string{"motd": "welcome\n", "post.sh": "echo \"$@\" > /etc/post-args\n"})

	build := func(out string) *Result {
		t.Helper()
		var log strings.Builder
		res, err := Build(context.Background(), Options{Config: cfg, Repos: []string{repo}, WorkDir: filepath.Join(t.TempDir(), "work"),
			OutDir: out, Log: &log})
		if err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		return res
	}
	out := t.TempDir()
	res := build(out)
	if len(res.Artifacts) != 2 || len(res.Packages) != 2 || res.Packages[0].Name != "box-app" || res.Packages[0].SHA256 == "" {
		t.Fatalf("artifacts %+v, packages %+v", res.Artifacts, res.Packages)
	}
	hdrs, files := testutil.ReadTarGz(t, filepath.Join(out, "box.tar.gz"))
	checks := map[string]bool{
		"hostname":        files["etc/hostname"] == "box\n",
		"alice in passwd": strings.Contains(files["etc/passwd"], "alice:x:1000:1000::/home/alice:/bin/sh\n"),
		"groups":          strings.Contains(files["etc/group"], "wheel:x:10:alice\n") && strings.Contains(files["etc/group"], "alice:x:1000:\n"),
		"sha-512 hash":    strings.Contains(files["etc/shadow"], "alice:$6$"),
		"ssh key":         files["home/alice/.ssh/authorized_keys"] == "ssh-ed25519 AAAAC3Nza test@box\n" && hdrs["home/alice/.ssh/authorized_keys"].Uid == 1000,
		"motd":            files["etc/motd"] == "welcome\n" && hdrs["etc/motd"].Mode&0o777 == 0o600,
		"script args":     files["etc/post-args"] == "one two\n",
		"machine-id":      hdrs["etc/machine-id"] != nil && files["etc/machine-id"] == "",
		"rpm database":    hdrs["var/lib/rpm"] != nil,
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("%s: wrong in the image", what)
		}
	}
	for _, junk := range []string{"tmp/slipway-script", "var/cache/dnf", "var/lib/dnf", "var/log/dnf.log"} {
		if hdrs[junk] != nil {
			t.Errorf("%s left in the image", junk)
		}
	}
	var manifest struct{ Packages []Package }
	data, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	if json.Unmarshal(data, &manifest); len(manifest.Packages) != 2 {
		t.Errorf("manifest.json: %s", data)
	}

	// Nothing changed: the last run's artifacts are kept.
	if res := build(out); !res.Reused || len(res.Artifacts) != 2 {
		t.Errorf("a second run into the same directory should reuse the artifacts: %+v", res)
	}
	// The same packages and config give the same bytes.
	again := build(t.TempDir())
	for i, a := range res.Artifacts {
		if again.Artifacts[i].SHA256 != a.SHA256 {
			t.Errorf("%s differs between two runs: %s, %s", filepath.Base(a.Path), a.SHA256, again.Artifacts[i].SHA256)
		}
	}
	for _, s := range res.Steps {
		t.Logf("step %-20s %v", s.Name, s.Duration)
	}
}

func TestFailuresLeaveNoArtifact(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "dnf")
	repo := testRepo(t)
	cases := []struct {
		name   string
		system map[string]any
		files  map[string]string
		want   string
	}{
		{"failing script", map[string]any{"Name": "box", "Packages": []string{"box-app"},
			"PostInstallScripts": []any{map[string]any{"Path": "fail.sh"}}},
			map[string]string{"fail.sh": "echo something went wrong; exit 4\n"},
			"PostInstallScripts[0] (fail.sh) exited 4; its last output:\nsomething went wrong"},
		{"missing package", map[string]any{"Name": "box", "Packages": []string{"box-app", "no-such-package"}}, nil,
			"no-such-package"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := writeConfig(t, containerConfig(c.system), c.files)
			out := t.TempDir()
			os.WriteFile(filepath.Join(out, "box.tar.gz"), []byte("previous"), 0o644)
			_, err := Build(context.Background(), Options{Config: cfg, Repos: []string{repo}, WorkDir: filepath.Join(t.TempDir(), "w"), OutDir: out})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			ents, _ := os.ReadDir(out)
			if len(ents) != 1 {
				t.Errorf("out has %v, want only the previous run's box.tar.gz", ents)
			}
			if data, _ := os.ReadFile(filepath.Join(out, "box.tar.gz")); string(data) != "previous" {
				t.Errorf("the previous artifact was changed")
			}
		})
	}
}

func TestUnsupportedIsRefusedBeforeWork(t *testing.T) {
	cfg := writeConfig(t, map[string]any{
		"Disks": []any{map[string]any{"PartitionTableType": "gpt", "MaxSize": 100,
			"Artifacts":  []any{map[string]any{"Name": "d", "Type": "vhdx", "Compression": "xz"}},
			"Partitions": []any{map[string]any{"ID": "root", "Start": 1, "End": 0, "FsType": "ext4", "Flags": []string{"dmroot"}}}}},
		"SystemConfigs": []any{map[string]any{"Name": "s", "BootType": "none", "Packages": []string{"x"},
			"KernelOptions":     map[string]any{"default": "kernel"},
			"PartitionSettings": []any{map[string]any{"ID": "root", "MountPoint": "/"}},
			"Encryption":        map[string]any{"Enable": true, "Password": "x"}}},
	}, nil)
	work := filepath.Join(t.TempDir(), "w")
	_, err := Build(context.Background(), Options{Config: cfg, Repos: []string{"/nonexistent"}, WorkDir: work, OutDir: t.TempDir()})
	for _, want := range []string{"Encryption: disk encryption is not supported yet", "Disks[0].Artifacts[0]: compressed disk images"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
	if _, err := os.Stat(work); !os.IsNotExist(err) {
		t.Errorf("work was started: %v", err)
	}
}
