// Command slipway builds an RPM-based Linux distribution from a tree of
// spec files. See README.md, or run `slipway --help`.
package main

import (
	"os"

	"slipway/internal/buildroot"
	"slipway/internal/cli"
)

func main() {
	if buildroot.IsSandboxInit() {
		buildroot.SandboxInit() // never returns: this process is a build root's init
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
