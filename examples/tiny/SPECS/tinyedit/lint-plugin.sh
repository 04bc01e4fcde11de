#!/bin/sh
# tinyedit lint plugin: check the tiny-language file being edited.
exec tinylint "$@"
