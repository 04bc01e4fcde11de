package project

import (
	"net/url"
	"strings"

	"slipway/internal/fetch"
)

// toolchain checks the [toolchain] table beyond its manifest and prebuilt list.
func (v *validator) toolchain(t ToolchainSection) {
	switch t.Mode {
	case "rebuild":
		// build_order is checked when the toolchain stage runs: a project
		// may use slipway without one (graph, plan).
		b := t.Bootstrap
		given := 0
		for _, s := range []bool{b.Rootfs != "", b.Command != "", len(b.Packages) > 0} {
			if s {
				given++
			}
		}
		if given > 1 {
			v.errorf(key("toolchain", "bootstrap"), "give one of rootfs, command or packages")
		}
		for i, p := range b.Packages {
			if !packageRE.MatchString(p) {
				v.errorf(key("toolchain", "bootstrap", "packages").at(i), "%q is not a package name", p)
			}
		}
		if u, err := url.Parse(b.Mirror); err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file") {
			v.errorf(key("toolchain", "bootstrap", "mirror"), "%q is not an http, https or file URL", fetch.Redact(b.Mirror))
		}
		if strings.ContainsAny(b.Suite, " /\t") || b.Suite == "" {
			v.errorf(key("toolchain", "bootstrap", "suite"), "%q is not a suite name", b.Suite)
		}
	case "download", "archive":
	default:
		v.errorf(key("toolchain", "mode"), "%q: want rebuild, download or archive", t.Mode)
	}
	if t.Mode != "download" && len(t.URLs) > 0 {
		v.errorf(key("toolchain", "urls"), "only used in download mode (mode is %q)", t.Mode)
	}
	if t.Mode != "rebuild" && t.DownloadSRPMs {
		v.errorf(key("toolchain", "download_srpms"), "only used in rebuild mode (mode is %q)", t.Mode)
	}
	for i, raw := range t.URLs {
		if msg := checkSourceURL(raw); msg != "" {
			v.errorf(key("toolchain", "urls").at(i), "%q %s", fetch.Redact(raw), msg)
		}
	}
	v.path(key("toolchain", "build_order"), t.BuildOrder)
	v.path(key("toolchain", "archive"), t.Archive)
	v.path(key("toolchain", "bootstrap", "rootfs"), t.Bootstrap.Rootfs)
	v.auth(key("toolchain", "auth"), t.Auth)
	for i, k := range t.GPGKeys {
		v.path(key("toolchain", "gpg_keys").at(i), k)
	}
}
