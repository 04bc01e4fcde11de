package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"slipway/internal/image"
)

// unknownPackage completes the warning for a package no local source has.
const unknownPackage = "not provided by any spec or the toolchain (a remote repository may have it)"

func (a *app) imageCommand() *cobra.Command {
	var validateOnly bool
	cmd := &cobra.Command{
		Use:   "image [CONFIG] --validate-only",
		Short: "Check image configs (building images is not implemented yet)",
		Long: `Read Azure Linux image configs as they are and check them. Building the
images themselves is the next part of the image stage and is not
implemented yet: for now the command needs --validate-only.

CONFIG is a path to a config (.json), or the name of a config in
[images] configs_dir (core-efi for <configs_dir>/core-efi.json). Without
CONFIG, every *.json directly in configs_dir is checked.

A config is decoded strictly: an unknown or misspelt field, a value of the
wrong type or a syntax error is reported with its file:line:column and its
JSON path. Then everything is checked at once, each problem naming the file
and the JSON path (SystemConfigs[0].PartitionSettings[1].MountPoint):
  - disks: partition table type, partition IDs unique, partitions inside
    MaxSize and not overlapping (End 0 runs to the end of the disk), known
    FsType, flags, partition types and artifact types;
  - systems: BootType, PartitionSettings that refer to partitions of the
    disks, absolute and unique mount points, exactly one "/" when there are
    partitions, an EFI system partition (fat32 + esp) for BootType efi,
    a default kernel, valid host, user and group names, at most one
    IsDefault system config;
  - files, relative to the config's directory: package lists (decoded
    strictly too), AdditionalFiles sources, Pre/PostInstall and
    FinalizeImage scripts, SSH public keys, raw binaries;
  - packages: every package of the lists, Packages and KernelOptions should
    be built by a spec of the project or be in the toolchain manifest. A
    name neither has is a warning, not an error: a remote repository may
    provide it.

Prints "ok: <file>" for each valid config, else every problem. Exit status:
0 valid (warnings allowed), 1 problems found, 2 usage error (no such
config, no --validate-only).`,
		Example: `  slipway image core-efi --validate-only
  slipway image imageconfigs/core-efi.json --validate-only
  slipway image --validate-only                 # every config in configs_dir
  slipway -C ~/azurelinux image full --validate-only`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{fmt.Errorf("image takes at most one CONFIG, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if !validateOnly {
				return usageError{errors.New("building images is not implemented yet; use --validate-only to check image configs")}
			}
			p, err := a.loadProject()
			if err != nil {
				return err
			}
			configsDir := p.Path(p.Config.Images.ConfigsDir)
			paths, err := configPaths(configsDir, args)
			if err != nil {
				return usageError{err}
			}

			// Decode first: the graph is only needed for configs that decode.
			configs := make([]*image.Config, len(paths))
			failed := 0
			for i, path := range paths {
				cfg, err := image.Load(path)
				var de *image.DecodeError
				switch {
				case errors.As(err, &de):
					for _, e := range unjoin(err) {
						fmt.Fprintln(a.stdout, a.relPath(e.Error()))
					}
					failed++
				case err != nil:
					return usageError{err}
				}
				configs[i] = cfg
			}
			if failed == len(paths) {
				return problemsError{fmt.Sprintf("%d of %d image config(s) could not be read", failed, len(paths))}
			}

			t, err := a.loadTree(cmd.Context())
			if err != nil {
				return err
			}
			opts := image.Options{
				KnownPackage: func(name string) bool {
					_, ok := t.Graph.Lookup(name)
					return ok
				},
				UnknownPackage: unknownPackage,
			}
			invalid := failed
			for _, cfg := range configs {
				if cfg == nil {
					continue
				}
				problems := image.Validate(cfg, opts)
				for _, pr := range problems {
					fmt.Fprintln(a.stdout, a.relPath(pr.String()))
				}
				switch errs, warnings := image.Errors(problems), len(problems)-image.Errors(problems); {
				case errs > 0:
					invalid++
				case warnings > 0:
					fmt.Fprintf(a.stdout, "ok: %s (%d warning(s))\n", a.relPath(cfg.Path()), warnings)
				default:
					fmt.Fprintf(a.stdout, "ok: %s\n", a.relPath(cfg.Path()))
				}
			}
			if invalid > 0 {
				return problemsError{fmt.Sprintf("%d of %d image config(s) have problems", invalid, len(paths))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&validateOnly, "validate-only", false, "only check the config(s); building images is not implemented yet")
	return cmd
}

// configPaths resolves the CONFIG argument, or lists every config directly
// in configsDir when there is none.
func configPaths(configsDir string, args []string) ([]string, error) {
	if len(args) == 1 {
		path, ok := image.ConfigPath(configsDir, args[0])
		if !ok {
			return nil, fmt.Errorf("%q is not an image config: give a .json path or the name of a config in %s", args[0], configsDir)
		}
		if st, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("image config %s: %w", path, errors.Unwrap(err))
		} else if st.IsDir() {
			return nil, fmt.Errorf("image config %s is a directory", path)
		}
		return []string{path}, nil
	}
	entries, err := os.ReadDir(configsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("images.configs_dir %s does not exist", configsDir)
	} else if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			paths = append(paths, filepath.Join(configsDir, e.Name()))
		}
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		return nil, fmt.Errorf("no image config (*.json) in %s", configsDir)
	}
	return paths, nil
}

// relPath shortens the absolute paths under the current directory that
// start a message.
func (a *app) relPath(msg string) string {
	wd, err := os.Getwd()
	if err != nil || !filepath.IsAbs(wd) {
		return msg
	}
	prefix := wd + string(filepath.Separator)
	if rest, ok := strings.CutPrefix(msg, prefix); ok {
		return rest
	}
	if rest, ok := strings.CutPrefix(msg, "warning: "+prefix); ok {
		return "warning: " + rest
	}
	return msg
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
