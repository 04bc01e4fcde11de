package project

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// FuzzParse checks that Parse never panics, that every error it returns is
// located in the file, and that a config it accepts survives being encoded
// with go-toml and parsed again. Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(FileName, data)
		if err != nil {
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, e := range leaves(err) {
				var pe *Error
				if !errors.As(e, &pe) || pe.File != FileName || pe.Line < 0 || pe.Line > lines || pe.Msg == "" {
					t.Fatalf("badly located error %#v", e)
				}
			}
			return
		}
		b, err := toml.Marshal(c)
		if err != nil {
			t.Fatalf("encoding %+v: %v", c, err)
		}
		c2, err := Parse(FileName, b)
		if err != nil {
			t.Fatalf("parsing the encoded config: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(normalize(c), normalize(c2)) {
			t.Fatalf("config changed by encoding:\n%+v\n%+v\n%s", c, c2, b)
		}
	})
}

// normalize makes empty slices and maps nil: an absent array and an empty
// one mean the same.
func normalize(c Config) Config {
	if len(c.RPM.Defines) == 0 {
		c.RPM.Defines = nil
	}
	if len(c.RPM.MacroFiles) == 0 {
		c.RPM.MacroFiles = nil
	}
	if len(c.RPM.LuaModules) == 0 {
		c.RPM.LuaModules = nil
	}
	if len(c.Toolchain.Prebuilt) == 0 {
		c.Toolchain.Prebuilt = nil
	}
	if len(c.Sources.URLs) == 0 {
		c.Sources.URLs = nil
	}
	if len(c.Toolchain.GPGKeys) == 0 {
		c.Toolchain.GPGKeys = nil
	}
	if len(c.Toolchain.URLs) == 0 {
		c.Toolchain.URLs = nil
	}
	if len(c.Toolchain.Bootstrap.Packages) == 0 {
		c.Toolchain.Bootstrap.Packages = nil
	}
	if len(c.Remote.RepoFiles) == 0 {
		c.Remote.RepoFiles = nil
	}
	if len(c.Remote.Vars) == 0 {
		c.Remote.Vars = nil
	}
	if len(c.Remote.Repos) == 0 {
		c.Remote.Repos = nil
	}
	if len(c.Remote.RebuildList) == 0 {
		c.Remote.RebuildList = nil
	}
	if len(c.Remote.SRPMURLs) == 0 {
		c.Remote.SRPMURLs = nil
	}
	if len(c.Remote.SRPMKeys) == 0 {
		c.Remote.SRPMKeys = nil
	}
	for i := range c.Remote.Repos {
		if len(c.Remote.Repos[i].BaseURLs) == 0 {
			c.Remote.Repos[i].BaseURLs = nil
		}
		if len(c.Remote.Repos[i].GPGKeys) == 0 {
			c.Remote.Repos[i].GPGKeys = nil
		}
	}
	return c
}
