// Package compose makes the images an Azure Linux image config describes:
// it installs the config's packages into a root directory (dnf, from
// local repositories), sets the system up as the config says (host name,
// fstab, users, files, scripts), and writes the config's artifacts (disk
// images, root archives, container images, initrd, ISO) into an output
// directory, all of them or none.
//
// The steps are timed (Result.Steps). With the same packages, config and
// Epoch the raw disk, the root archives and the container image are the
// same bytes on every run: times are clamped to Epoch, UUIDs derive from
// the config's name, and rpm records Epoch as the install time.
package compose

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"slipway/internal/buildroot"
	"slipway/internal/fsutil"
	"slipway/internal/image"
	"slipway/internal/image/container"
)

// Options say what to make and where.
type Options struct {
	Config *image.Config // decoded and validated
	// Repos are local rpm-md repositories, highest priority first (the
	// package stage's, then the toolchain's).
	Repos []string
	// WorkDir is scratch space for this config (build/images/<name>); it
	// is emptied first.
	WorkDir string
	// OutDir receives the artifacts (out/images/<name>) and manifest.json.
	OutDir string
	// Epoch is SOURCE_DATE_EPOCH: the time of every file; 0 = image.DefaultEpoch.
	Epoch int64
	// Seed makes the disk and partition UUIDs; "" = the config's file
	// name. RandomUUIDs uses new random ones instead.
	Seed        string
	RandomUUIDs bool
	// Log receives the output of every tool; nil discards it.
	Log io.Writer
	// Progress, when set, is told as each step starts.
	Progress func(step string)
	// Rebuild makes the image even when the last run's inputs were the same.
	Rebuild bool
	// Origins says where RPMs of Repos were downloaded from, by file name
	// ("<repository id> <url>"), for the manifest.
	Origins map[string]string
}

// Result is what Build made.
type Result struct {
	Artifacts []Artifact
	Packages  []Package // installed in the image: the manifest
	Steps     []Step
	// Reused says the artifacts of the last run were kept: its inputs
	// (config directory, repositories, epoch, seed) had not changed.
	Reused bool
}

// Artifact is one file made.
type Artifact struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Step is one timed part of the work.
type Step struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration"`
}

// job is one Build in progress.
type job struct {
	o      Options
	sc     *image.SystemConfig
	root   buildroot.ImageRoot
	staged string    // OutDir's staging directory
	disk   *diskPlan // the partitioned disk, if the config has one
	res    Result
	epoch  int64
	key    string           // of the inputs
	layer  *container.Layer // the root as a container layer, made once
}

// Build makes every artifact of the config. Artifacts are written into a
// staging directory and moved into OutDir only when all of them are made:
// a failure leaves OutDir as it was.
func Build(ctx context.Context, o Options) (*Result, error) {
	cfg := o.Config
	if len(cfg.SystemConfigs) == 0 {
		return nil, fmt.Errorf("%s: no SystemConfigs", cfg.Path())
	}
	j := &job{o: o, sc: cfg.DefaultSystem(), epoch: image.EpochOrDefault(o.Epoch)}
	if j.o.Seed == "" {
		j.o.Seed = strings.TrimSuffix(filepath.Base(cfg.Path()), ".json")
	}
	if j.o.Log == nil {
		j.o.Log = io.Discard
	}
	if err := j.unsupported(); err != nil {
		return nil, err
	}
	dp, err := j.planDisk()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Path(), err)
	}
	j.disk = dp
	key, err := j.inputsKey()
	if err != nil {
		return nil, err
	}
	j.key = key
	if prev := previous(o.OutDir, key); prev != nil && !o.Rebuild && !o.RandomUUIDs {
		return prev, nil
	}
	if err := os.RemoveAll(o.WorkDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	staged, err := os.MkdirTemp(o.OutDir, ".staging-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staged)
	j.staged = staged
	j.root = buildroot.ImageRoot{Dir: filepath.Join(o.WorkDir, "root"), Log: j.o.Log}

	packages, err := cfg.Packages()
	if err != nil {
		return nil, err
	}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"install", func(ctx context.Context) error {
			return j.root.InstallPackages(ctx, buildroot.PackageInstall{Repos: o.Repos, Packages: packages,
				NoDocs: j.sc.DisableRpmDocs, Epoch: j.epoch})
		}},
		{"manifest", j.manifest},
		{"configure", j.configure},
		{"scripts", j.scripts},
	}
	for _, s := range steps {
		if err := j.timed(ctx, s.name, func() error { return s.run(ctx) }); err != nil {
			return nil, err
		}
	}
	if err := j.artifacts(ctx); err != nil { // timed artifact by artifact
		return nil, err
	}
	if err := j.publish(); err != nil {
		return nil, err
	}
	return &j.res, nil
}

// unsupported rejects what the config asks for that slipway does not make
// yet, before any work is done.
func (j *job) unsupported() error {
	var errs []error
	no := func(path, what string) {
		errs = append(errs, fmt.Errorf("%s: %s: %s is not supported yet", j.o.Config.Path(), path, what))
	}
	sc := j.sc
	switch {
	case sc.Encryption.Enable:
		no("Encryption", "disk encryption")
	case sc.ReadOnlyVerityRoot.Enable:
		no("ReadOnlyVerityRoot", "a dm-verity root")
	}
	for d, dk := range j.o.Config.Disks {
		if t := dk.PartitionTableType; len(dk.Partitions) > 0 && t != "gpt" && t != "mbr" {
			no(fmt.Sprintf("Disks[%d].PartitionTableType", d), fmt.Sprintf("partition table %q (gpt and mbr)", t))
		}
		for p, part := range dk.Partitions {
			if len(part.Artifacts) > 0 {
				no(fmt.Sprintf("Disks[%d].Partitions[%d].Artifacts", d, p), "an artifact of a single partition")
			}
			switch part.FsType {
			case "", "ext4", "fat32", "fat16", "vfat":
			default:
				no(fmt.Sprintf("Disks[%d].Partitions[%d].FsType", d, p), fmt.Sprintf("file system %q (ext4 and fat)", part.FsType))
			}
		}
		for a, art := range dk.Artifacts {
			if _, err := artifactKind(dk, art); err != nil {
				errs = append(errs, fmt.Errorf("%s: Disks[%d].Artifacts[%d]: %w", j.o.Config.Path(), d, a, err))
			}
		}
	}
	return errors.Join(errs...)
}

// publish moves the staged artifacts into OutDir, replacing the previous
// run's, and writes manifest.json last.
func (j *job) publish() error {
	for i, a := range j.res.Artifacts {
		final := filepath.Join(j.o.OutDir, filepath.Base(a.Path))
		if err := os.Rename(a.Path, final); err != nil {
			return err
		}
		j.res.Artifacts[i].Path = final
	}
	data, err := manifestJSON(j.o.Config.Path(), j.key, &j.res)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(j.o.OutDir, ManifestFile), data, 0o644)
}

// addArtifact records a staged artifact with its size and digest.
func (j *job) addArtifact(name, typ, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	j.res.Artifacts = append(j.res.Artifacts, Artifact{Name: name, Type: typ, Path: path, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}
