#!/bin/sh
# Post-install script of the container image (like Azure Linux's
# core-container cleanup.sh): a container needs no documentation, no
# kernel modules and no boot files.
set -e
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/*
rm -rf /boot/* /usr/lib/modules/*
echo "container-cleanup: done"
