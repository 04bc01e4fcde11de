#!/bin/sh
# Installs the Debian 12 packages slipway and its tests need. Run as root
# (or through sudo). Used by README's set-up command and by CI (.ci/run).
set -eu
packages="
  rpm rpm2cpio cpio librpm-dev python3-rpm gcc libc6-dev pkg-config
  createrepo-c dnf mmdebstrap
  graphviz
  qemu-system-x86 qemu-utils ovmf grub-efi-amd64-bin grub-pc-bin mtools dosfstools gdisk e2fsprogs busybox-static
  xorriso umoci skopeo xz-utils openssl fdisk
  chromium
  git ca-certificates gnupg
"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (sudo $0)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $packages >/dev/null
echo "install-deps.sh: installed:$(echo $packages | tr -s ' \n' ' ')"
