package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/image/qemu"
)

// bootProject is a project with image configs (name -> BootType) whose
// images were made: out/images/<name>/ holds a manifest.json listing
// artifacts (type -> file name) and the files themselves.
func bootProject(t *testing.T, configs map[string]string, artifacts map[string][][2]string) string {
	t.Helper()
	files := map[string]string{}
	for name, bootType := range configs {
		files[name+".json"] = `{"SystemConfigs": [{"Name": "s", "BootType": "` + bootType + `"}]}`
	}
	dir := imageProject(t, files)
	for name, arts := range artifacts {
		out := filepath.Join(dir, "out", "images", name)
		os.MkdirAll(out, 0o755)
		var list []map[string]any
		for _, a := range arts {
			list = append(list, map[string]any{"name": name, "type": a[0], "path": a[1], "size": 0})
			os.WriteFile(filepath.Join(out, a[1]), nil, 0o644)
		}
		data, _ := json.Marshal(map[string]any{"config": name, "artifacts": list})
		if err := os.WriteFile(filepath.Join(out, "manifest.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeQEMU puts a qemu-system-x86_64 on PATH that prints its arguments,
// then script's output.
func fakeQEMU(t *testing.T, script string) {
	bin := t.TempDir()
	text := "#!/bin/sh\necho \"qemu $*\"\n" + script + "\n"
	if err := os.WriteFile(filepath.Join(bin, qemu.Binary), []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("TMPDIR", t.TempDir()) // qemu.Boot's lock: not shared with real boots
}

var bootConfigs = map[string]string{"efi": "efi", "legacy": "legacy", "live": "", "ctr": "", "nothing": "none"}

var bootArtifacts = map[string][][2]string{
	"efi":     {{"vhd", "efi.vhd"}, {"vhdx", "efi.vhdx"}},
	"legacy":  {{"qcow2", "legacy.qcow2"}},
	"live":    {{"tar.gz", "live.tar.gz"}, {"iso", "live.iso"}},
	"ctr":     {{"oci", "ctr.oci.tar"}},
	"nothing": {{"raw", "nothing.raw"}},
}

func TestBootUsage(t *testing.T) {
	dir := bootProject(t, bootConfigs, bootArtifacts)
	os.WriteFile(filepath.Join(dir, "imageconfigs", "new.json"), []byte(`{"SystemConfigs": [{"Name": "s"}]}`), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"nothere"}, exitUsage, `"nothere" is not an image config`},
		{[]string{"new"}, exitFailed, filepath.Join("out", "images", "new", "manifest.json") + ": no image made yet: run slipway image new"},
		{[]string{"efi", "--artifact", "qcow2"}, exitUsage, "--artifact qcow2: image efi has no such artifact to boot (it has: vhd, vhdx)"},
		{[]string{"ctr"}, exitUsage, "image ctr has no disk or ISO to boot (it has: oci)"},
		{[]string{"nothing"}, exitUsage, `nothing.json: BootType "none": the disk of image nothing has no boot loader (BootType efi or legacy)`},
		{nil, exitUsage, "4 configs have an image to boot: give one of efi, legacy, live, nothing"},
		{[]string{"efi", "legacy"}, exitUsage, "accepts at most 1 arg(s)"},
		{[]string{"efi", "--timeout", "1m"}, exitUsage, "--timeout is the limit of --expect"},
	} {
		code, _, stderr := run(t, append([]string{"boot", "-C", dir}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("boot %v: exit %d, want %d and %q; stderr:\n%s", tc.args, code, tc.code, tc.want, stderr)
		}
	}

	os.Remove(filepath.Join(dir, "out", "images", "legacy", "legacy.qcow2"))
	code, _, stderr := run(t, "boot", "-C", dir, "legacy")
	if code != exitFailed || !strings.Contains(stderr, "legacy.qcow2: no such file or directory: run slipway image legacy") {
		t.Errorf("missing artifact: exit %d:\n%s", code, stderr)
	}

	empty := imageProject(t, map[string]string{"a.json": `{"SystemConfigs": [{"Name": "s"}]}`})
	code, _, stderr = run(t, "boot", "-C", empty)
	if code != exitUsage || !strings.Contains(stderr, "has a disk or ISO made yet (configs: a): run slipway image CONFIG first") {
		t.Errorf("nothing made: exit %d:\n%s", code, stderr)
	}

	t.Setenv("PATH", t.TempDir())
	code, _, stderr = run(t, "boot", "-C", dir, "live")
	if code != exitBroken || !strings.Contains(stderr, "qemu-system-x86_64 is not installed") {
		t.Errorf("without QEMU: exit %d:\n%s", code, stderr)
	}

	code, stdout, _ := run(t, "boot", "--help")
	if code != exitOK || !strings.Contains(stdout, "Ctrl-A X quits") || !strings.Contains(stdout, "--expect") {
		t.Errorf("help: exit %d:\n%s", code, stdout)
	}
}

// TestBootChoosesArtifactAndFirmware runs a fake QEMU: the artifact,
// its format and the firmware are chosen as the help says.
func TestBootChoosesArtifactAndFirmware(t *testing.T) {
	dir := bootProject(t, bootConfigs, bootArtifacts)
	images := filepath.Join(dir, "out", "images")
	ovmf := filepath.Join(t.TempDir(), "OVMF.fd")
	os.WriteFile(ovmf, nil, 0o644)
	defer func(saved []string) { qemu.OVMFPaths = saved }(qemu.OVMFPaths)
	qemu.OVMFPaths = []string{ovmf}
	fakeQEMU(t, `echo "tiny: booted"`)

	for _, tc := range []struct {
		args       []string
		want, path string
	}{
		{[]string{"efi"}, "-bios " + ovmf + " -drive file=%s,format=vpc,if=virtio,readonly=on", "efi/efi.vhd"},
		{[]string{"efi", "--artifact", "vhdx"}, "-bios " + ovmf + " -drive file=%s,format=vhdx,if=virtio,readonly=on", "efi/efi.vhdx"},
		{[]string{"legacy"}, "-serial stdio -drive file=%s,format=qcow2,if=virtio,readonly=on", "legacy/legacy.qcow2"},
		{[]string{"live"}, "-serial stdio -cdrom %s", "live/live.iso"},
	} {
		path := filepath.Join(images, tc.path)
		fw := "bios"
		if strings.Contains(tc.want, "-bios") {
			fw = "efi"
		}
		code, stdout, stderr := run(t, append([]string{"boot", "-C", dir, "--expect", "tiny: booted"}, tc.args...)...)
		if code != exitOK || !strings.Contains(stderr, strings.Replace(tc.want, "%s", path, 1)+"\n") ||
			!strings.HasPrefix(stdout, "booted "+path+" ("+fw+`): "tiny: booted" after `) {
			t.Errorf("boot %v: exit %d\nstdout: %s\nstderr:\n%s", tc.args, code, stdout, stderr)
		}
	}

	code, stdout, stderr := run(t, "boot", "-C", dir, "legacy")
	want := "-nographic -snapshot -drive file=" + filepath.Join(images, "legacy", "legacy.qcow2") + ",format=qcow2,if=virtio\n"
	if code != exitOK || !strings.Contains(stdout, want) || !strings.Contains(stderr, "Ctrl-A X quits") {
		t.Errorf("interactive: exit %d\nstdout: %s\nstderr:\n%s", code, stdout, stderr)
	}

	code, _, stderr = run(t, "boot", "-C", dir, "live", "--expect", "never printed", "--timeout", "5s")
	if code != exitFailed || !strings.Contains(stderr, "did not print never printed") || !strings.Contains(stderr, "last console lines:\nqemu ") {
		t.Errorf("marker missing: exit %d:\n%s", code, stderr)
	}

	fakeQEMU(t, "exit 3")
	code, _, stderr = run(t, "boot", "-C", dir, "legacy")
	if code != exitFailed || !strings.Contains(stderr, "qemu-system-x86_64 exited with status 3") {
		t.Errorf("QEMU failing: exit %d:\n%s", code, stderr)
	}
}

// TestBootTheOnlyImage boots the one config with a bootable image when
// no CONFIG is given.
func TestBootTheOnlyImage(t *testing.T) {
	dir := bootProject(t, map[string]string{"legacy": "legacy", "ctr": ""},
		map[string][][2]string{"legacy": bootArtifacts["legacy"], "ctr": bootArtifacts["ctr"]})
	fakeQEMU(t, `echo "tiny: booted"`)
	code, stdout, stderr := run(t, "boot", "-C", dir, "--expect", "tiny: booted")
	if code != exitOK || !strings.Contains(stdout, "legacy.qcow2 (bios)") {
		t.Errorf("exit %d\nstdout: %s\nstderr:\n%s", code, stdout, stderr)
	}
}
