// Command slipway builds an RPM-based Linux distribution from a tree of
// spec files. See README.md, or run `slipway --help`.
package main

import (
	"os"

	"slipway/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
