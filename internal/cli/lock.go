package cli

import (
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"slipway/internal/workspace"
)

func (a *app) lockCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "lock [CONFIG...]",
		Short: "Pin the exact remote packages the builds and images use (" + workspace.LockFileName + ")",
		Long: `Resolve the project against its [remote] repositories, as slipway build
and slipway image would, and write ` + workspace.LockFileName + ` beside slipway.toml:
every remote package the package stage's build roots and the images
(CONFIG, else every config in [images] configs_dir) take, with its
repository, URL, SHA-256 and what it provides and requires.

While the lock file exists, its packages are the only remote packages
slipway considers: later builds and images use exactly them, whatever the
repositories publish since, and with --offline they run without the
network once the packages are in the cache (a package that is not is an
error naming it). Run slipway lock again to move to what the repositories
have now; commit the lock file with the project.`,
		Example: `  slipway lock                  # pin for the builds and every image config
  slipway build-all --offline   # then: exactly those packages, no network`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a.ignoreLock = true
			t, err := a.loadTree(ctx)
			if err != nil {
				return err
			}
			if err := evalProblems(t); err != nil {
				return err
			}
			if len(t.Remotes) == 0 {
				return usageError{fmt.Errorf("%s has no [remote] repositories: nothing to lock", t.Project.File)}
			}
			var pkgs []workspace.RemotePackage
			for _, name := range slices.Sorted(maps.Keys(t.Remote)) {
				pkgs = append(pkgs, t.Remote[name])
			}
			configs, _, err := a.configsOf(t, args, "nothing was locked")
			if err != nil {
				return err
			}
			for _, cfg := range configs {
				names, err := cfg.Packages()
				if err != nil {
					return err
				}
				more, err := workspace.ImageRemotePackages(ctx, t, localRepos(t.Project), names)
				if err != nil {
					return problemsError{fmt.Sprintf("%s: %v", cfg.Path(), err)}
				}
				pkgs = append(pkgs, more...)
			}
			n, err := workspace.WriteLock(t.Project, pkgs)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: %d remote packages pinned (%d of them for build roots), for the builds and %d image configs\n",
				a.relPath(workspace.LockPath(t.Project)), n, len(t.Remote), len(configs))
			return nil
		},
	}
}
