# /etc/profile.d/tiny.sh - login environment of Tiny Linux.
if [ -r /etc/tiny-release ]; then
    TINY_RELEASE=$(cat /etc/tiny-release)
    export TINY_RELEASE
fi
TINY_DOCDIR=/usr/share/doc/tiny
export TINY_DOCDIR
