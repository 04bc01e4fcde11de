package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/testutil"
)

// imageProject is a project with one spec (tool) and an image config
// directory holding files (name -> text).
func imageProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := writeProject(t, "", map[string]string{"tool": specText("tool", "")})
	for name, text := range files {
		p := filepath.Join(dir, "imageconfigs", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const goodImage = `{
  "Disks": [{"Artifacts": [{"Name": "img", "Compression": "tar.gz"}]}],
  "SystemConfigs": [{"Name": "s", "PackageLists": ["lists/base.json"]}]
}`

func TestImageUsage(t *testing.T) {
	dir := imageProject(t, map[string]string{"img.json": goodImage, "lists/base.json": `{"packages": ["tool"]}`})
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"image", "img"}, exitFailed, "no repository to install from: run slipway toolchain and slipway build first"},
		{[]string{"image", "nothere", "--validate-only"}, exitUsage, `"nothere" is not an image config`},
		{[]string{"image", "nothere.json", "--validate-only"}, exitUsage, "image config nothere.json: no such file or directory"},
		{[]string{"image", "img", "other", "--validate-only"}, exitUsage, `"other" is not an image config`},
	} {
		code, _, stderr := run(t, append(tc.args, "-C", dir)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr:\n%s", tc.args, code, stderr)
		}
	}
	code, stdout, _ := run(t, "image", "--help")
	if code != exitOK || !strings.Contains(stdout, "--validate-only") || !strings.Contains(stdout, "out/images/<config>/") {
		t.Errorf("help: exit %d:\n%s", code, stdout)
	}
}

func TestImageValidateOnly(t *testing.T) {
	testutil.RequireSpecEval(t)
	dir := imageProject(t, map[string]string{
		"img.json":        goodImage,
		"lists/base.json": `{"packages": ["tool", "from-elsewhere"]}`,
		"broken.json": `{
  "Disks": [{"PartitionTableType": "gpt", "MaxSize": 100,
    "Partitions": [{"ID": "root", "Start": 1, "End": 200, "FsType": "ext4"}]}],
  "SystemConfigs": [{"Name": "s", "Packages": ["tool"], "KernelOptions": {"default": "tool"},
    "PartitionSettings": [{"ID": "root", "MountPoint": "/"}, {"ID": "esp", "MountPoint": "/boot/efi"}]}]
}`,
		"typo.json": "{\n  \"SystemConfigs\": [{\"Name\": \"s\", \"Pakages\": []}]\n}",
	})
	cfgs := filepath.Join(dir, "imageconfigs")

	code, stdout, stderr := run(t, "-C", dir, "image", "img", "--validate-only")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s\n%s", code, stdout, stderr)
	}
	want := "warning: " + filepath.Join(cfgs, "lists/base.json") + `: packages[1]: package "from-elsewhere" is not provided by any spec or the toolchain (a remote repository may have it)` + "\n" +
		"ok: " + filepath.Join(cfgs, "img.json") + " (1 warning(s))\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}

	code, stdout, stderr = run(t, "-C", dir, "image", filepath.Join(cfgs, "broken.json"), "--validate-only")
	broken := filepath.Join(cfgs, "broken.json") + ": "
	for _, w := range []string{
		broken + "Disks[0].Partitions[0].End: 200 is beyond the disk's MaxSize 100",
		broken + `SystemConfigs[0].PartitionSettings[1].MountPoint: "/boot/efi" refers to partition "esp" that no disk defines`,
	} {
		if !strings.Contains(stdout, w+"\n") {
			t.Errorf("missing %q in:\n%s", w, stdout)
		}
	}
	if code != exitFailed || strings.Contains(stdout, "ok:") || !strings.Contains(stderr, "1 of 1 image config(s) have problems") {
		t.Errorf("exit %d:\n%s\n%s", code, stdout, stderr)
	}

	// Without CONFIG: every config of configs_dir, each reported.
	code, stdout, stderr = run(t, "-C", dir, "image", "--validate-only")
	if code != exitFailed || !strings.Contains(stdout, "ok: "+filepath.Join(cfgs, "img.json")) ||
		!strings.Contains(stdout, filepath.Join(cfgs, "typo.json")+`:2:35: SystemConfigs[0].Pakages: unknown field (did you mean "Packages"?)`) ||
		!strings.Contains(stderr, "2 of 3 image config(s) have problems") {
		t.Errorf("exit %d:\n%s\n%s", code, stdout, stderr)
	}
}
