package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"slipway/internal/cachearchive"
	"slipway/internal/project"
	"slipway/internal/source"
	"slipway/internal/workspace"
)

func (a *app) cacheCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Export or import slipway's caches as one archive",
		Long: `Move what slipway has built and fetched to another machine as one tar
archive (.tar, or .tar.gz compressed), like Azure Linux's compress-rpms and
hydrate-rpms targets: for a CI job that starts from a warm cache, or an
air-gapped machine. The archive holds:

  store     build/store: every toolchain and package build's outputs
  sources   the source cache ([sources] cache_dir, else the user's cache)
  packages  the remote package cache ([remote] cache_dir, else the user's)
  srpms     published source RPMs (or their headers) from [remote] srpm_urls
  gpg-keys  repository GPG keys fetched over http(s)

Everything in them is named by its content or its inputs, so an import only
adds what is missing and never replaces a file. Sources and packages are
checked against their digests when used; a store entry comes in whole or
not at all.`,
		Example: `  slipway cache export caches.tar.gz     # on a machine that has built
  slipway cache import caches.tar.gz     # on the next one: builds are reused`,
	}
	for _, export := range []bool{true, false} {
		use, short := "import ARCHIVE", "Add an archive's files to the caches, keeping what is there"
		if export {
			use, short = "export ARCHIVE", "Write the caches into an archive"
		}
		cmd.AddCommand(&cobra.Command{
			Use: use, Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				p, err := a.loadProject()
				if err != nil {
					return err
				}
				parts, err := cacheParts(p)
				if err != nil {
					return err
				}
				unlock, err := a.lockDir(p, "slipway cache")
				if err != nil {
					return err
				}
				defer unlock()
				if export {
					c, err := cachearchive.Export(args[0], parts)
					if err != nil {
						return err
					}
					fmt.Fprintf(a.stdout, "%s: %d files, %.1f MiB\n", args[0], c.Files, float64(c.Bytes)/(1<<20))
					return nil
				}
				c, err := cachearchive.Import(args[0], parts)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s: %d files added (%.1f MiB), %d already there\n", args[0], c.Files, float64(c.Bytes)/(1<<20), c.Kept)
				return nil
			},
		})
	}
	return cmd
}

// cacheParts are the project's caches, as the archive names them.
func cacheParts(p *project.Project) ([]cachearchive.Part, error) {
	sources := source.ProjectOptions(p, nil).CacheDir
	if sources == "" {
		var err error
		if sources, err = source.DefaultCacheDir(); err != nil {
			return nil, err
		}
	}
	remote, err := workspace.RemoteCacheDir(p)
	if err != nil {
		return nil, err
	}
	return []cachearchive.Part{
		{Name: "store", Dir: filepath.Join(p.Path(p.Config.Project.BuildDir), "store")},
		{Name: "sources", Dir: sources},
		{Name: "packages", Dir: filepath.Join(remote, "packages")},
		{Name: "srpms", Dir: filepath.Join(remote, "srpms")},          // published SRPMs (or their headers)
		{Name: "gpg-keys", Dir: filepath.Join(remote, "gpg", "keys")}, // gpgkey files fetched over http(s)
	}, nil
}
