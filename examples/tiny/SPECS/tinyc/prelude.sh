# tinyc run-time prelude (package tinyc-runtime), included in every program
# compiled by tinyc.
tc_say() { printf '%s\n' "$*"; }
tc_warn() { printf '%s\n' "$*" >&2; }
