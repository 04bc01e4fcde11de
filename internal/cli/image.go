package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"slipway/internal/build"
	"slipway/internal/fetch"
	"slipway/internal/fsutil"
	"slipway/internal/image"
	"slipway/internal/image/compose"
	"slipway/internal/project"
	"slipway/internal/repo"
	"slipway/internal/report"
	"slipway/internal/workspace"
)

// unknownPackage completes the warning for a package no local source has.
const unknownPackage = "not provided by any spec or the toolchain (a remote repository may have it)"

// imageFlags are the image stage's flags (slipway image and slipway
// build-all).
type imageFlags struct {
	randomUUIDs, rebuild bool
	epoch                int64
}

func (f *imageFlags) add(fs *pflag.FlagSet) {
	fs.Int64Var(&f.epoch, "epoch", 0, "time of every image file, in seconds since 1970 (default: $SOURCE_DATE_EPOCH, else 2020-01-01)")
	fs.BoolVar(&f.rebuild, "rebuild", false, "make the images even if their inputs did not change since the last run")
	fs.BoolVar(&f.randomUUIDs, "random-uuids", false, "give the disks and partitions random UUIDs instead of ones derived from the config name")
}

func (a *app) imageCommand() *cobra.Command {
	var validateOnly bool
	var flags imageFlags
	cmd := &cobra.Command{
		Use:   "image [CONFIG...]",
		Short: "Check image configs and make their images (disks, containers, ISO)",
		Long: `Make the images that Azure Linux image configs describe, from the RPMs of
the package stage (out/RPMS) and the toolchain (build/toolchain/RPMS).

CONFIG is a path to a config (.json), or the name of a config in
[images] configs_dir (core-efi for <configs_dir>/core-efi.json). Without
CONFIG, every *.json directly in configs_dir is used.

Each config is first checked. It is decoded strictly: an unknown or misspelt
field, a value of the wrong type or a syntax error is reported with its
file:line:column and its JSON path. Then everything is checked at once, each
problem naming the file and the JSON path
(SystemConfigs[0].PartitionSettings[1].MountPoint):
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
With --validate-only that is all.

Otherwise each valid config is made, in these steps (each timed):
  install     dnf installs the packages and their dependencies into a new
              root, from out/RPMS first, then the toolchain; scriptlets run
              with /proc and /dev, and a failed one is an error
  manifest    the exact packages installed (name, EVR, arch, RPM, digest)
  configure   host name, /etc/fstab from PartitionSettings (PARTUUID by
              default), an empty machine-id, groups and users (passwords,
              SSH keys, homes), AdditionalFiles
  scripts     PostInstallScripts then FinalizeImageScripts, run in the
              root (no network); caches of dnf removed
  artifacts   per Disks[].Artifacts: for a disk with partitions, an
              initramfs (busybox and the storage drivers of the image's
              kernel), GRUB (BootType efi: on the ESP; legacy: after the
              MBR, or in a bios_grub partition of a GPT), the file systems
              (ext4, FAT) and the GPT or MBR disk, written as raw, vhd
              (fixed, whole MiB), vhdx or qcow2; for a disk without partitions, the root as
              tar.gz or tar.xz (Compression), or Type oci (OCI image layout
              in a tar), docker-archive, initrd (gzip cpio) or iso (a live
              ISO booting under BIOS and UEFI, the root as its initrd)
Artifacts go to out/images/<config>/ with manifest.json, all at once: a
failure leaves the previous ones. The log of every tool is in
build/logs/images/<config>.log. Times and UUIDs are fixed (--epoch,
SOURCE_DATE_EPOCH), so the same packages and config give the same bytes.

Exit status: 0 done, 1 problems found or a step failed, 2 usage error.`,
		Example: `  slipway image tiny-efi                      # make the example's EFI disk (vhdx)
  slipway image core-efi --validate-only
  slipway image imageconfigs/core-efi.json --validate-only
  slipway image --validate-only                 # every config in configs_dir
  slipway -C ~/azurelinux image full --validate-only`,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.loadProject()
			if err != nil {
				return err
			}
			configsDir := p.Path(p.Config.Images.ConfigsDir)
			paths, err := configPaths(configsDir, args)
			if err != nil {
				return usageError{err}
			}
			var t *workspace.Tree
			if validateOnly {
				t, err = a.loadTree(cmd.Context())
			} else {
				var unlock func()
				t, unlock, err = a.loadForWork(cmd.Context(), "slipway image")
				if err == nil {
					defer unlock()
				}
			}
			if err != nil {
				return err
			}
			configs, invalid, err := a.validateConfigs(t, paths)
			if err != nil {
				return err
			}
			if !validateOnly && len(configs) > 0 {
				err = a.runImages(cmd.Context(), t, configs, flags, &report.Run{})
			}
			if invalid > 0 && err == nil {
				err = problemsError{fmt.Sprintf("%d of %d image config(s) have problems", invalid, len(paths))}
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&validateOnly, "validate-only", false, "only check the config(s)")
	flags.add(cmd.Flags())
	return cmd
}

// runImages makes the images of valid configs, one after the other,
// and records them in run; a failed one does not stop the others.
func (a *app) runImages(ctx context.Context, t *workspace.Tree, configs []*image.Config, flags imageFlags, run *report.Run) error {
	if flags.epoch == 0 {
		flags.epoch = sourceDateEpoch()
	}
	start := time.Now()
	made, upToDate, failed := 0, 0, 0
	for _, cfg := range configs {
		res, err := a.makeImage(ctx, t, cfg, compose.Options{Epoch: flags.epoch, RandomUUIDs: flags.randomUUIDs, Rebuild: flags.rebuild})
		switch {
		case errors.Is(err, context.Canceled):
			return err
		case err != nil:
			fmt.Fprintf(a.stderr, "error: %v\n", err)
			failed++
			continue
		case res.Reused:
			upToDate++
		default:
			made++
		}
		for _, art := range res.Artifacts {
			run.Artifacts = append(run.Artifacts, report.Artifact{Image: configName(cfg), Type: art.Type, Path: art.Path, Size: art.Size})
		}
	}
	summary := fmt.Sprintf("%d made, %d up to date", made, upToDate)
	if failed > 0 {
		summary += fmt.Sprintf(", %d failed", failed)
	}
	run.Stages = append(run.Stages, report.Stage{Name: "images", Summary: summary, Duration: time.Since(start), Failed: failed > 0})
	if failed > 0 {
		return problemsError{fmt.Sprintf("%d of %d image config(s) failed", failed, len(configs))}
	}
	return nil
}

// configName is the name of a config: its file name without .json.
func configName(cfg *image.Config) string {
	return strings.TrimSuffix(filepath.Base(cfg.Path()), ".json")
}

// configsOf resolves and checks the CONFIG arguments (every config of
// [images] configs_dir when there are none) for a command that uses them
// all: any problem stops it, and the error says what did not happen.
func (a *app) configsOf(t *workspace.Tree, args []string, stopped string) ([]*image.Config, []string, error) {
	p := t.Project
	paths, err := configPaths(p.Path(p.Config.Images.ConfigsDir), args)
	if err != nil {
		return nil, nil, usageError{err}
	}
	configs, invalid, err := a.validateConfigs(t, paths)
	if err != nil {
		return nil, nil, err
	}
	if invalid > 0 {
		return nil, nil, problemsError{fmt.Sprintf("%d of %d image config(s) have problems: %s", invalid, len(paths), stopped)}
	}
	return configs, paths, nil
}

// validateConfigs decodes and checks configs, printing every problem; it
// returns the valid ones and how many were not.
func (a *app) validateConfigs(t *workspace.Tree, paths []string) ([]*image.Config, int, error) {
	opts := image.Options{
		KnownPackage: func(name string) bool {
			if _, ok := t.Graph.Lookup(name); ok {
				return true
			}
			for _, r := range t.Remotes {
				if len(r.ByName(name)) > 0 {
					return true
				}
			}
			return false
		},
		UnknownPackage: unknownPackage,
	}
	var valid []*image.Config
	invalid := 0
	for _, path := range paths {
		cfg, err := image.Load(path)
		var de *image.DecodeError
		switch {
		case errors.As(err, &de):
			for _, e := range unjoin(err) {
				fmt.Fprintln(a.stdout, a.relPath(e.Error()))
			}
			invalid++
			continue
		case err != nil:
			return nil, 0, usageError{err}
		}
		problems := image.Validate(cfg, opts)
		for _, pr := range problems {
			fmt.Fprintln(a.stdout, a.relPath(pr.String()))
		}
		switch errs, warnings := image.Errors(problems), len(problems)-image.Errors(problems); {
		case errs > 0:
			invalid++
			continue
		case warnings > 0:
			fmt.Fprintf(a.stdout, "ok: %s (%d warning(s))\n", a.relPath(cfg.Path()), warnings)
		default:
			fmt.Fprintf(a.stdout, "ok: %s\n", a.relPath(cfg.Path()))
		}
		valid = append(valid, cfg)
	}
	return valid, invalid, nil
}

// makeImage makes one config's artifacts and prints them with the time
// of each step.
func (a *app) makeImage(ctx context.Context, t *workspace.Tree, cfg *image.Config, o compose.Options) (*compose.Result, error) {
	p := t.Project
	name := configName(cfg)
	buildDir := p.Path(p.Config.Project.BuildDir)
	repos := localRepos(p)
	remote, origins, err := a.imageRemoteRepo(ctx, t, cfg, repos)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Path(), err)
	}
	o.Origins = publishedOrigins(buildDir)
	maps.Copy(o.Origins, origins)
	if remote != "" {
		repos = append(repos, remote)
	}
	if len(repos) == 0 {
		return nil, fmt.Errorf("%s: no repository to install from: run slipway toolchain and slipway build first", cfg.Path())
	}
	logDir := filepath.Join(buildDir, "logs", "images")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(logDir, name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	outDir := filepath.Join(p.Path(p.Config.Project.OutDir), "images", name)
	start := time.Now()
	o.Config, o.Repos, o.WorkDir, o.OutDir, o.Log = cfg, repos, filepath.Join(buildDir, "images", name), outDir, log
	o.Progress = func(step string) { fmt.Fprintf(a.stderr, "image %s: %s\n", name, step) }
	res, err := compose.Build(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("%w (log: %s)", err, a.relPath(logPath))
	}
	if res.Reused {
		fmt.Fprintf(a.stdout, "image %s: up to date (same config, packages and settings as the last run; --rebuild makes it again)\n", name)
	} else {
		fmt.Fprintf(a.stdout, "image %s: %d packages installed (%s)\n", name, len(res.Packages), a.relPath(filepath.Join(outDir, "manifest.json")))
	}
	for _, art := range res.Artifacts {
		fmt.Fprintf(a.stdout, "  %-8s %9.1f MiB  %s\n", art.Type, float64(art.Size)/(1<<20), a.relPath(art.Path))
	}
	if res.Reused {
		return res, nil
	}
	var steps []string
	for _, s := range res.Steps {
		steps = append(steps, fmt.Sprintf("%s %.1fs", s.Name, s.Duration.Seconds()))
	}
	fmt.Fprintf(a.stdout, "  steps: %s; total %.1fs\n", strings.Join(steps, ", "), time.Since(start).Seconds())
	return res, nil
}

// localRepos are the project's repositories images install from, in
// priority order: out/RPMS and the toolchain's, those that exist.
func localRepos(p *project.Project) []string {
	var repos []string
	if local := filepath.Join(p.Path(p.Config.Project.OutDir), "RPMS"); fileExists(filepath.Join(local, "repodata", "repomd.xml")) {
		repos = append(repos, local)
	}
	if tc := workspace.ToolchainRepoDir(p.Path(p.Config.Project.BuildDir)); fileExists(filepath.Join(tc, "repodata", "repomd.xml")) {
		repos = append(repos, tc)
	}
	return repos
}

// publishedOrigins are the packages the last package stage took from
// repositories into out/RPMS (build/summary.json), file -> "<repo> <url>".
func publishedOrigins(buildDir string) map[string]string {
	out := map[string]string{}
	var sum build.Summary
	if data, err := os.ReadFile(filepath.Join(buildDir, "summary.json")); err == nil && json.Unmarshal(data, &sum) == nil {
		for _, r := range sum.Remote {
			if r.Published {
				out[r.File] = r.Repo + " " + fetch.Redact(r.URL)
			}
		}
	}
	return out
}

// imageRemoteRepo puts the packages the image takes from the [remote]
// repositories (what neither out/RPMS nor the toolchain provide) into a
// local repository, build/remote-rpms/<config>, and returns it with where
// each came from (file -> "<repo> <url>"); "" when there are no remote
// repositories. The installer runs without network.
func (a *app) imageRemoteRepo(ctx context.Context, t *workspace.Tree, cfg *image.Config, local []string) (string, map[string]string, error) {
	if len(t.Remotes) == 0 {
		return "", nil, nil
	}
	names, err := cfg.Packages()
	if err != nil {
		return "", nil, err
	}
	pkgs, err := workspace.ImageRemotePackages(ctx, t, local, names)
	if err != nil {
		return "", nil, err
	}
	cacheDir, err := workspace.RemoteCacheDir(t.Project)
	if err != nil {
		return "", nil, err
	}
	// The directory keeps the files of the last run that are still
	// wanted, so unchanged choices leave its metadata, and the image's
	// key, as they were.
	dir := filepath.Join(t.Project.Path(t.Project.Config.Project.BuildDir), "remote-rpms", configName(cfg))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	paths := make([]string, len(pkgs))
	var downloads errgroup.Group
	downloads.SetLimit(4)
	for i, rp := range pkgs {
		downloads.Go(func() (err error) {
			if paths[i], err = rp.Download(ctx, cacheDir); err != nil {
				return fmt.Errorf("remote repository %s: %w", rp.Repo.ID, err)
			}
			return nil
		})
	}
	if err := downloads.Wait(); err != nil {
		return "", nil, err
	}
	origins := map[string]string{}
	for i, rp := range pkgs {
		origins[filepath.Base(paths[i])] = rp.Repo.ID + " " + fetch.Redact(rp.URL())
		if err := fsutil.LinkInto(paths[i], filepath.Join(dir, filepath.Base(paths[i]))); err != nil {
			return "", nil, err
		}
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.rpm"))
	for _, f := range old {
		if origins[filepath.Base(f)] == "" {
			if err := os.Remove(f); err != nil {
				return "", nil, err
			}
		}
	}
	fmt.Fprintf(a.stderr, "image %s: %d packages from remote repositories\n", configName(cfg), len(pkgs))
	if err := repo.Create(ctx, dir); err != nil {
		return "", nil, err
	}
	return dir, origins, nil
}

// sourceDateEpoch is $SOURCE_DATE_EPOCH, or 0 when it is unset or bad.
func sourceDateEpoch() int64 {
	n, _ := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64)
	return n
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// configPaths resolves the CONFIG argument, or lists every config directly
// in configsDir when there is none.
func configPaths(configsDir string, args []string) ([]string, error) {
	if len(args) > 0 {
		var paths []string
		for _, arg := range args {
			path, ok := image.ConfigPath(configsDir, arg)
			if !ok {
				return nil, fmt.Errorf("%q is not an image config: give a .json path or the name of a config in %s", arg, configsDir)
			}
			if st, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("image config %s: %w", path, errors.Unwrap(err))
			} else if st.IsDir() {
				return nil, fmt.Errorf("image config %s is a directory", path)
			}
			paths = append(paths, path)
		}
		return paths, nil
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
