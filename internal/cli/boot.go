package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"slipway/internal/image"
	"slipway/internal/image/compose"
	"slipway/internal/image/qemu"
	"slipway/internal/project"
)

func (a *app) bootCommand() *cobra.Command {
	var expect, artifactType string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "boot [CONFIG]",
		Short: "Boot an image slipway made in QEMU",
		Long: `Boot the disk or ISO that the last slipway image run made of an image
config, in QEMU (qemu-system-x86_64, emulated: no KVM needed, 512 MiB).

CONFIG is a path to a config (.json), or the name of a config in
[images] configs_dir, as for slipway image. Without CONFIG, the one config
of configs_dir whose image has a bootable artifact is used; when there are
several, they are listed. The artifacts are the ones
out/images/<config>/manifest.json names. A disk (raw, vhd, vhdx, qcow2)
boots as a virtio drive, an ISO as the CD-ROM; the first disk of the
manifest is chosen, else the ISO, and --artifact TYPE chooses another.
The firmware follows the config's BootType: OVMF (UEFI, package ovmf) for
efi, SeaBIOS for legacy; an ISO boots under SeaBIOS unless BootType is efi.

Without --expect the boot is interactive: the guest's serial console is
this terminal (Ctrl-A X quits QEMU, Ctrl-A C switches to its monitor) and
the guest's writes go to a temporary snapshot, never to the artifact.

With --expect TEXT the boot is a test: QEMU runs headless, the console
lines are printed to stderr as they come, and slipway waits until TEXT
appears on the console, then prints how long it took; the guest has 10 s
more to power off before QEMU is stopped. The disk is read-only.

Exit status: 0 booted (TEXT appeared, or QEMU exited with 0), 1 TEXT did
not appear within --timeout (the error shows the last console lines), QEMU
failed, or no image was made yet, 2 usage error, 3 QEMU or OVMF missing.`,
		Example: `  slipway -C examples/tiny boot tiny-efi            # interactive; Ctrl-A X quits
  slipway boot tiny-efi --expect "tiny: booted Tiny Linux"
  slipway boot tiny-efi --artifact vhd --expect "tiny: booted Tiny Linux" --timeout 5m
  slipway boot tiny-legacy
  slipway boot tiny-iso`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.MaximumNArgs(1)(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("timeout") && expect == "" {
				return usageError{errors.New("--timeout is the limit of --expect: give --expect TEXT")}
			}
			if timeout <= 0 {
				return usageError{fmt.Errorf("--timeout %v: want a positive duration", timeout)}
			}
			p, err := a.loadProject()
			if err != nil {
				return err
			}
			t, err := a.findBootTarget(p, args, artifactType)
			if err != nil {
				return err
			}
			interactive := expect == ""
			argv, err := qemu.Args(t.opts, interactive)
			if err != nil {
				return err
			}
			if err := qemu.Installed(); err != nil {
				return err
			}
			what := fmt.Sprintf("%s (%s)", a.relPath(t.path), t.opts.Firmware)
			if interactive {
				fmt.Fprintf(a.stderr, "booting %s in QEMU; Ctrl-A X quits\n", what)
				qc := exec.CommandContext(cmd.Context(), argv[0], argv[1:]...)
				qc.Stdin, qc.Stdout, qc.Stderr = os.Stdin, a.stdout, a.stderr
				var ee *exec.ExitError
				if err := qc.Run(); errors.As(err, &ee) && cmd.Context().Err() == nil {
					return problemsError{fmt.Sprintf("%s: %s exited with status %d", what, qemu.Binary, ee.ExitCode())}
				} else if err != nil {
					return err
				}
				return nil
			}
			fmt.Fprintf(a.stderr, "booting %s in QEMU until %q appears (timeout %v)\n", what, expect, timeout)
			t.opts.Marker, t.opts.Timeout, t.opts.Console = expect, timeout, a.stderr
			took, err := qemu.Boot(cmd.Context(), t.opts)
			if err != nil {
				if cmd.Context().Err() != nil {
					return err
				}
				return problemsError{err.Error()}
			}
			fmt.Fprintf(a.stdout, "booted %s: %q after %.1fs\n", what, expect, took.Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&expect, "expect", "", "boot headless until `TEXT` appears on the serial console (a boot test)")
	f.StringVar(&artifactType, "artifact", "", "the artifact to boot, by `TYPE`: raw, vhd, vhdx, qcow2 or iso (default: the first disk, else the ISO)")
	f.DurationVar(&timeout, "timeout", qemu.DefaultBootTimeout, "how long --expect waits for TEXT")
	return cmd
}

// bootTarget is what slipway boot boots.
type bootTarget struct {
	path string           // the artifact
	opts qemu.BootOptions // Firmware, and Disk or CDROM
}

// findBootTarget finds the config of args (or the one config with a
// bootable image), picks its artifact and the firmware that boots it.
func (a *app) findBootTarget(p *project.Project, args []string, artifactType string) (*bootTarget, error) {
	configsDir := p.Path(p.Config.Images.ConfigsDir)
	imagesDir := filepath.Join(p.Path(p.Config.Project.OutDir), "images")
	if len(args) == 0 {
		return a.onlyBootable(configsDir, imagesDir, artifactType)
	}
	paths, err := configPaths(configsDir, args)
	if err != nil {
		return nil, usageError{err}
	}
	cfg, err := image.Load(paths[0])
	if err != nil {
		return nil, usageError{err}
	}
	name := configName(cfg)
	m, err := compose.ReadManifest(filepath.Join(imagesDir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, problemsError{fmt.Sprintf("%s: no image made yet: run slipway image %s",
			a.relPath(filepath.Join(imagesDir, name, compose.ManifestFile)), name)}
	} else if err != nil {
		return nil, err
	}
	return a.chooseArtifact(cfg, m, artifactType)
}

// chooseArtifact picks the artifact of cfg's image m to boot (see
// pickArtifact) and the firmware from cfg's BootType.
func (a *app) chooseArtifact(cfg *image.Config, m *compose.Manifest, artifactType string) (*bootTarget, error) {
	name := configName(cfg)
	chosen, bootable := pickArtifact(m, artifactType)
	switch {
	case len(bootable) == 0:
		var types []string
		for _, art := range m.Artifacts {
			types = append(types, art.Type)
		}
		return nil, usageError{fmt.Errorf("image %s has no disk or ISO to boot (it has: %s)", name, strings.Join(types, ", "))}
	case chosen == nil:
		return nil, usageError{fmt.Errorf("--artifact %s: image %s has no such artifact to boot (it has: %s)", artifactType, name, strings.Join(bootable, ", "))}
	}
	if _, err := os.Stat(chosen.Path); err != nil {
		return nil, problemsError{fmt.Sprintf("%s: %v: run slipway image %s", a.relPath(chosen.Path), errors.Unwrap(err), name)}
	}

	t := &bootTarget{path: chosen.Path, opts: qemu.BootOptions{Firmware: "bios"}}
	bootType := ""
	if sys := cfg.DefaultSystem(); sys != nil {
		bootType = sys.BootType
	}
	if bootType == "efi" {
		t.opts.Firmware = "efi"
	}
	if chosen.Type == "iso" {
		t.opts.CDROM = chosen.Path
		return t, nil
	}
	if bootType != "efi" && bootType != "legacy" {
		return nil, usageError{fmt.Errorf("%s: BootType %q: the disk of image %s has no boot loader (BootType efi or legacy)", a.relPath(cfg.Path()), bootType, name)}
	}
	t.opts.Disk, t.opts.DiskFormat = chosen.Path, qemu.DiskFormat(chosen.Type)
	return t, nil
}

// onlyBootable boots the one config in configsDir whose last image has
// an artifact to boot; several or none is a usage error that lists them.
func (a *app) onlyBootable(configsDir, imagesDir, artifactType string) (*bootTarget, error) {
	paths, err := configPaths(configsDir, nil)
	if err != nil {
		return nil, usageError{err}
	}
	var all, names []string
	var cfg *image.Config
	var m *compose.Manifest
	for _, path := range paths {
		c, err := image.Load(path)
		if err != nil {
			continue // slipway image says what is wrong with it
		}
		all = append(all, configName(c))
		mc, err := compose.ReadManifest(filepath.Join(imagesDir, configName(c)))
		if err != nil {
			continue
		}
		if art, _ := pickArtifact(mc, ""); art != nil {
			cfg, m = c, mc
			names = append(names, configName(c))
		}
	}
	switch len(names) {
	case 0:
		return nil, usageError{fmt.Errorf("no config in %s has a disk or ISO made yet (configs: %s): run slipway image CONFIG first",
			a.relPath(configsDir), strings.Join(all, ", "))}
	case 1:
		return a.chooseArtifact(cfg, m, artifactType)
	}
	return nil, usageError{fmt.Errorf("%d configs have an image to boot: give one of %s", len(names), strings.Join(names, ", "))}
}

// pickArtifact returns the artifact of m to boot: the first of type typ,
// or when typ is "" the first disk, else the first ISO; nil if there is
// none. bootable lists the types of m's disks and ISOs.
func pickArtifact(m *compose.Manifest, typ string) (chosen *compose.Artifact, bootable []string) {
	var iso *compose.Artifact
	for i, art := range m.Artifacts {
		isDisk := qemu.DiskFormat(art.Type) != ""
		if !isDisk && art.Type != "iso" {
			continue
		}
		bootable = append(bootable, art.Type)
		switch {
		case chosen != nil:
		case typ != "":
			if art.Type == typ {
				chosen = &m.Artifacts[i]
			}
		case isDisk:
			chosen = &m.Artifacts[i]
		case iso == nil:
			iso = &m.Artifacts[i]
		}
	}
	if chosen == nil && typ == "" {
		chosen = iso
	}
	return chosen, bootable
}
