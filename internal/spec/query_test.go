package spec

import (
	"slices"
	"testing"
)

func TestFileEntries(t *testing.T) {
	for line, want := range map[string][]string{
		"/usr/bin/tinysh": {"/usr/bin/tinysh"},
		"%dir /usr/bin":   {"/usr/bin/"},
		"%attr(0755, root, root) %dir /var/lib/x":           {"/var/lib/x/"},
		"%config(noreplace,missingok) /etc/sysconfig/kdump": {"/etc/sysconfig/kdump"},
		"%exclude /usr/sbin/x":                              nil,
		"%doc README":                                       nil,
		"%license LICENSE /usr/share/licenses/x/LICENSE":    {"/usr/share/licenses/x/LICENSE"},
	} {
		if got := fileEntries(line); !slices.Equal(got, want) {
			t.Errorf("fileEntries(%q) = %q, want %q", line, got, want)
		}
	}
}
