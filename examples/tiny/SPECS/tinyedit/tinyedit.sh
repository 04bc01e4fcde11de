#!/bin/sh
# tinyedit - start the full-screen tiny editor on a terminal when it is
# installed, else the line editor. One of them is always installed: the
# tinyedit package requires (tiny-editor-gui or tiny-editor-cli).
if [ -t 1 ] && [ -x /usr/bin/tinyedit-gui ]; then
    exec /usr/bin/tinyedit-gui "$@"
fi
if [ -x /usr/bin/tinyedit-cli ]; then
    exec /usr/bin/tinyedit-cli "$@"
fi
echo "tinyedit: neither tinyedit-gui nor tinyedit-cli is installed" >&2
exit 1
