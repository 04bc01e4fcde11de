package repo

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"slipway/internal/fetch"
	"slipway/internal/testutil"
)

// azlBase is Azure Linux 3.0's toolkit/repos/azurelinux-official-base.repo.
const azlBase = `[azurelinux-official-base]
name=Azure Linux Official Base $releasever $basearch
baseurl=https://packages.microsoft.com/azurelinux/$releasever/prod/base/$basearch
gpgkey=file:///etc/pki/rpm-gpg/MICROSOFT-RPM-GPG-KEY
gpgcheck=1
repo_gpgcheck=1
enabled=1
skip_if_unavailable=True
sslverify=1

[azurelinux-official-base-debuginfo]
name=Azure Linux Official Base $releasever $basearch Debuginfo
baseurl=https://packages.microsoft.com/azurelinux/$releasever/prod/base/debuginfo/$basearch
gpgkey=file:///etc/pki/rpm-gpg/MICROSOFT-RPM-GPG-KEY
gpgcheck=1
repo_gpgcheck=1
enabled=0
skip_if_unavailable=True
sslverify=1
`

var azlVars = map[string]string{"releasever": "3.0", "basearch": "x86_64", "arch": "x86_64"}

func TestParseAzureLinuxRepoFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "azurelinux-official-base.repo")
	os.WriteFile(path, []byte(azlBase), 0o644)
	got, err := ParseRepoFile(path, azlVars)
	if err != nil {
		t.Fatal(err)
	}
	want := []RepoConfig{{
		ID:   "azurelinux-official-base",
		Name: "Azure Linux Official Base 3.0 x86_64", Enabled: true,
		BaseURLs: []string{"https://packages.microsoft.com/azurelinux/3.0/prod/base/x86_64"},
		GPGCheck: true, RepoGPGCheck: true, GPGKeys: []string{"file:///etc/pki/rpm-gpg/MICROSOFT-RPM-GPG-KEY"},
		SSLVerify: true, Priority: 99, SkipIfUnavailable: true,
	}, {
		ID:   "azurelinux-official-base-debuginfo",
		Name: "Azure Linux Official Base 3.0 x86_64 Debuginfo", Enabled: false,
		BaseURLs: []string{"https://packages.microsoft.com/azurelinux/3.0/prod/base/debuginfo/x86_64"},
		GPGCheck: true, RepoGPGCheck: true, GPGKeys: []string{"file:///etc/pki/rpm-gpg/MICROSOFT-RPM-GPG-KEY"},
		SSLVerify: true, Priority: 99, SkipIfUnavailable: true,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

// TestParseSampleRepoFiles reads every .repo file of the Azure Linux sample.
func TestParseSampleRepoFiles(t *testing.T) {
	dir := testutil.SampleDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "manifests", "*.repo"))
	more, _ := filepath.Glob(filepath.Join(dir, "manifests", "*", "*.repo"))
	files = append(files, more...)
	if len(files) == 0 {
		t.Skip("no .repo files in the sample")
	}
	ids := map[string]RepoConfig{}
	for _, f := range files {
		cfgs, err := ParseRepoFile(f, azlVars)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cfgs {
			if len(c.BaseURLs) == 0 || strings.Contains(c.Name, "$") || strings.Contains(c.BaseURLs[0], "$") {
				t.Errorf("%s: [%s] unexpanded or missing: %+v", f, c.ID, c)
			}
			ids[c.ID] = c
		}
	}
	if c, ok := ids["toolchain-repo"]; ok && (c.Priority != 1 || !c.Enabled || c.SSLVerify || c.BaseURLs[0] != "file:///toolchainrpms") {
		t.Errorf("toolchain-repo: %+v", c)
	}
	if c, ok := ids["fetcher-cloned-repo"]; ok && (c.Enabled || c.SkipIfUnavailable) {
		t.Errorf("fetcher-cloned-repo: %+v", c)
	}
}

func TestParseRepoFileOptions(t *testing.T) {
	const file = `# dnf.conf-style global options are not a repository
[main]
gpgcheck=1

; another comment
[extras]
name = Extras for ${releasever}
baseurl = https://a.example.com/$releasever/$arch/,
  https://b.example.com/$releasever/$basearch/ file:///mnt/mirror
gpgkey=https://a.example.com/key1
	https://a.example.com/key2
sslclientcert=/etc/pki/client.pem
sslclientkey=/etc/pki/client.key
sslcacert=/etc/pki/ca.pem
username=builder
password=env:REPO_PASSWORD
priority=5
metalink=https://mirrors.example.com/metalink?repo=$basearch
module_hotfixes=1
Enabled=No
cost=$unknown
`
	cfgs, err := ReadRepoFile(strings.NewReader(file), "extras.repo", map[string]string{"releasever": "3.0", "basearch": "x86_64", "arch": "aarch64"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 1 {
		t.Fatalf("want only [extras], got %+v", cfgs)
	}
	c := cfgs[0]
	want := RepoConfig{
		ID: "extras", Name: "Extras for 3.0",
		BaseURLs:   []string{"https://a.example.com/3.0/aarch64/", "https://b.example.com/3.0/x86_64/", "file:///mnt/mirror"},
		GPGKeys:    []string{"https://a.example.com/key1", "https://a.example.com/key2"},
		ClientCert: "/etc/pki/client.pem", ClientKey: "/etc/pki/client.key", CACert: "/etc/pki/ca.pem",
		Username: "builder", Password: "env:REPO_PASSWORD",
		SSLVerify: true, Priority: 5,
		Extra: map[string]string{"metalink": "https://mirrors.example.com/metalink?repo=x86_64", "module_hotfixes": "1", "cost": "$unknown"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got\n%+v\nwant\n%+v", c, want)
	}
	wantAuth := fetch.Auth{Username: "builder", Password: "env:REPO_PASSWORD",
		ClientCert: "/etc/pki/client.pem", ClientKey: "/etc/pki/client.key", CACert: "/etc/pki/ca.pem"}
	if c.Auth() != wantAuth {
		t.Errorf("Auth() = %#v", c.Auth())
	}
}

func TestParseRepoFileErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"baseurl=x\n", "r.repo:1: option \"baseurl\" comes before any [repository] section"},
		{"[a]\nname=x\n[a]\n", "r.repo:3: repository \"a\" is already defined at line 1"},
		{"[a\n", "r.repo:1: section header \"[a\" lacks a closing ']'"},
		{"[]\n", "r.repo:1: bad repository id \"\""},
		{"[a]\n\nenabled=maybe\n", "r.repo:3: [a] enabled: \"maybe\" is not a boolean"},
		{"[a]\n# c\npriority=100\n", "r.repo:3: [a] priority: \"100\" is not a whole number from 1 to 99"},
		{"[a]\nbaseurl\n", "r.repo:2: expected key=value, got \"baseurl\""},
		{"\n  continued\n", "r.repo:2: continuation line \"continued\" follows no option"},
	} {
		_, err := ReadRepoFile(strings.NewReader(tc.file), "r.repo", nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got error %v, want %q", tc.file, err, tc.want)
		}
	}
	if _, err := ParseRepoFile(filepath.Join(t.TempDir(), "none.repo"), nil); err == nil {
		t.Error("no error for a missing file")
	}
}

func TestExpandVars(t *testing.T) {
	vars := map[string]string{"releasever": "3.0", "basearch": "x86_64"}
	for in, want := range map[string]string{
		"$releasever/$basearch":   "3.0/x86_64",
		"${releasever}x":          "3.0x",
		"$releaseverx":            "$releaseverx",
		"$ $$ ${ ${unknown} end$": "$ $$ ${ ${unknown} end$",
		"a$basearch-b":            "ax86_64-b",
	} {
		if got := expandVars(in, vars); got != want {
			t.Errorf("expandVars(%q) = %q, want %q", in, got, want)
		}
	}
}
