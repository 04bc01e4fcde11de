#!/bin/sh
# Sets a fresh Debian 12 machine up for slipway: host packages, then the
# slipway binary in bin/. Needs Go 1.26 or newer on PATH (see README.md).
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then
  scripts/install-deps.sh
else
  sudo scripts/install-deps.sh
fi
command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"
go build -o bin/slipway ./cmd/slipway
echo "setup.sh: built bin/slipway"
