package image

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"slipway/internal/testutil"
)

func TestDecodeErrorsNamePositionAndPath(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"unknown field", `{
  "SystemConfigs": [
    {
      "Name": "x",
      "Pakages": ["a"]
    }
  ]
}`, []string{`img.json:5:7: SystemConfigs[0].Pakages: unknown field (did you mean "Packages"?)`}},
		{"unknown top-level field", `{"Disks": [], "Systemconfig": []}`,
			[]string{`img.json:1:15: Systemconfig: unknown field (did you mean "SystemConfigs"?)`}},
		{"wrong type", "{\n  \"Disks\": [{\"MaxSize\": \"4096\"}]\n}",
			[]string{`img.json:2:25: Disks[0].MaxSize: expected a whole number, found "4096"`}},
		{"negative size", `{"Disks": [{"Partitions": [{"ID": "a", "Start": -1}]}]}`,
			[]string{`img.json:1:49: Disks[0].Partitions[0].Start: -1 is not a whole number from 0 to 18446744073709551615`}},
		{"object for a list", `{"SystemConfigs": {"Name": "x"}}`,
			[]string{`img.json:1:19: SystemConfigs: expected a list, found an object`}},
		{"duplicate field", `{"SystemConfigs": [{"Name": "a", "Name": "b"}]}`,
			[]string{`img.json:1:34: SystemConfigs[0].Name: duplicate field`}},
		{"every problem at once", `{"SystemConfigs": [{"Nme": "a", "IsDefault": "yes", "KernelOptions": {"default": 1}}], "Disk": []}`,
			[]string{
				`img.json:1:21: SystemConfigs[0].Nme: unknown field (did you mean "Name"?)`,
				`img.json:1:46: SystemConfigs[0].IsDefault: expected true or false, found "yes"`,
				`img.json:1:82: SystemConfigs[0].KernelOptions.default: expected a string, found the number 1`,
				`img.json:1:88: Disk: unknown field (did you mean "Disks"?)`,
			}},
		{"bad additional file", `{"SystemConfigs": [{"AdditionalFiles": {"a b": [{"Path": "/x", "Mode": "644"}, 7]}}]}`,
			[]string{
				`img.json:1:64: SystemConfigs[0].AdditionalFiles["a b"][0].Mode: unknown field`,
				`img.json:1:80: SystemConfigs[0].AdditionalFiles["a b"][1]: expected a destination path or {"Path", "Permissions"}, found the number 7`,
			}},
		{"syntax error", "{\n  \"Disks\": [\n    {\"MaxSize\": 1,}\n  ]\n}", []string{`img.json:3:19: invalid JSON: invalid character '}' looking for beginning of object key string`}},
		{"missing comma", "{\n  \"Disks\": []\n  \"SystemConfigs\": []\n}", []string{`img.json:3:3: invalid JSON: invalid character '"' after object key:value pair`}},
		{"truncated", `{"Disks": [`, []string{`img.json:1:12: invalid JSON: unexpected end of file`}},
		{"empty", "  \n", []string{`img.json:1:1: empty file: expected a JSON object`}},
		{"trailing data", `{} {}`, []string{`img.json:1:4: unexpected data after the top-level object`}},
		{"not an object", `[1]`, []string{`img.json:1:1: expected an object, found a list`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode("img.json", []byte(tc.text))
			if err == nil {
				t.Fatal("no error")
			}
			var got []string
			for _, e := range unjoin(err) {
				var de *DecodeError
				if !errors.As(e, &de) {
					t.Errorf("%v is not a *DecodeError", e)
				}
				got = append(got, e.Error())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestDecodeAcceptsAzureLinuxForms(t *testing.T) {
	// Keys match case-insensitively as in Azure Linux's (encoding/json)
	// reader; AdditionalFiles take a path, an object or a list of both.
	cfg, err := Decode("img.json", []byte(`{
  "SystemConfigs": [{
    "Name": "s",
    "Users": [{"Name": "u", "SSHPubkeyPaths": ["k.pub"]}],
    "AdditionalFiles": {
      "a": "/etc/a",
      "b": {"Path": "/etc/b", "Permissions": "600"},
      "c": ["/etc/c1", {"Path": "/etc/c2"}]
    },
    "PackageRepos": [{"Name": "r", "BaseUrl": "https://r.example", "GPGCheck": false}],
    "Encryption": null
  }]
}`))
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg.SystemConfigs[0]
	if !reflect.DeepEqual(sc.Users[0].SSHPubKeyPaths, []string{"k.pub"}) {
		t.Errorf("SSHPubkeyPaths: %+v", sc.Users[0])
	}
	want := map[string]FileTargets{
		"a": {{Path: "/etc/a"}},
		"b": {{Path: "/etc/b", Permissions: "600"}},
		"c": {{Path: "/etc/c1"}, {Path: "/etc/c2"}},
	}
	if !reflect.DeepEqual(sc.AdditionalFiles, want) {
		t.Errorf("AdditionalFiles = %+v", sc.AdditionalFiles)
	}
	if g := sc.PackageRepos[0].GPGCheck; g == nil || *g {
		t.Errorf("GPGCheck = %v", g)
	}
}

func TestPackageListAllowsComments(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "l.json")
	os.WriteFile(p, []byte(`{"_comment": ["any", {"thing": 1}], "packages": ["a", "b"]}`), 0o644)
	l, err := LoadPackageList(p)
	if err != nil || !reflect.DeepEqual(l.Packages, []string{"a", "b"}) {
		t.Errorf("%+v, %v", l, err)
	}
	os.WriteFile(p, []byte(`{"packges": ["a"]}`), 0o644)
	if _, err := LoadPackageList(p); err == nil || !strings.Contains(err.Error(), `l.json:1:2: packges: unknown field (did you mean "packages"?)`) {
		t.Errorf("error = %v", err)
	}
	if _, err := LoadPackageList(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: error = %v", err)
	}
}

// FuzzDecode: no input makes Decode (or Validate on what it accepts)
// panic, and every error is a DecodeError with a position in the input.
func FuzzDecode(f *testing.F) {
	dir := filepath.Join(testutil.SampleDir(f), "imageconfigs")
	for _, name := range sampleConfigs {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			f.Add(data)
		}
	}
	empty := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Decode("fuzz.json", data)
		if err != nil {
			if cfg != nil {
				t.Fatal("a config and an error")
			}
			lines := strings.Count(string(data), "\n") + 1
			for _, e := range unjoin(err) {
				var de *DecodeError
				if !errors.As(e, &de) {
					t.Fatalf("%v (%T) is not a *DecodeError", e, e)
				}
				if de.Line < 1 || de.Line > lines || de.Col < 1 || de.Col > len(data)+1 {
					t.Fatalf("%v: position out of the input", e)
				}
			}
			return
		}
		// Paths are relative to an empty directory: nothing is found.
		cfg.path = filepath.Join(empty, "fuzz.json")
		for _, p := range Validate(cfg, Options{KnownPackage: func(string) bool { return false }}) {
			_ = p.String()
		}
	})
}
