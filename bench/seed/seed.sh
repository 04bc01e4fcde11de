#!/bin/bash
# Seeding the example's packages from a published repository versus
# building them: the package stage of the bundled example, run twice on
# the same toolchain in the same run:
#   built:  every package built (a fresh copy of the example, empty store);
#   seeded: [remote] rebuild = "listed" with an empty list, the packages of
#           every spec downloaded from the first copy's out/RPMS, served
#           over HTTP on 127.0.0.1, into out/RPMS;
#   changed: [remote] rebuild = "changed" on an unchanged copy: every
#           spec's published SRPM (the first copy's out/SRPMS) downloaded
#           and compared with the spec before its packages are taken.
# Prints the times, what each made, and the ratios. Needs root and the
# tools of scripts/install-deps.sh; takes about four minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
go build -o bin/slipway ./cmd/slipway
slipway=$PWD/bin/slipway

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
copy() { mkdir -p "$1"; (cd examples/tiny && tar --exclude=./build --exclude=./out -cf - .) | tar -xf - -C "$1"; }
seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

copy "$work/built"
echo "toolchain (not timed)..." >&2
"$slipway" -C "$work/built" toolchain >"$work/toolchain.log" 2>&1

echo "built: the package stage from an empty store..." >&2
start=$(date +%s.%N)
"$slipway" -C "$work/built" build >"$work/built.log" 2>&1
built=$(seconds "$start" "$(date +%s.%N)")

port=$((20000 + RANDOM % 20000))
python3 -m http.server --bind 127.0.0.1 --directory "$work/built/out" "$port" >/dev/null 2>&1 &
server=$!
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/RPMS/repodata/repomd.xml"); break
    except OSError:
        time.sleep(0.1)
PY

# seeded RUN POLICY: the package stage of a fresh copy with [remote]
# rebuild = POLICY against the served repository; prints its seconds.
seeded() {
  copy "$work/$1"
  mkdir -p "$work/$1/build"
  cp -a "$work/built/build/toolchain" "$work/$1/build/"
  cat >>"$work/$1/slipway.toml" <<TOML

[remote]
cache_dir = "cache"
rebuild = "$2"
rebuild_list = []
srpm_urls = ["http://127.0.0.1:$port/SRPMS"]
[[remote.repos]]
id = "published"
baseurls = ["http://127.0.0.1:$port/RPMS"]
TOML
  echo "$1: the package stage with rebuild = $2 against the repository..." >&2
  local start
  start=$(date +%s.%N)
  "$slipway" -C "$work/$1" build >"$work/$1.log" 2>&1
  seconds "$start" "$(date +%s.%N)"
}
seeded=$(seeded seeded listed)
changed=$(seeded changed changed)

count() { grep -m1 '^package stage:' "$1" | sed 's/^package stage: //; s/ in .*//'; }
mib() { du -sm "$1" | cut -f1; }
rpms() { find "$1" -name '*.rpm' | wc -l; }
printf '%-8s %9s  %-40s %s\n' "run" "seconds" "package stage" "out/RPMS"
printf '%-8s %9s  %-40s %s\n' "built" "$built" "$(count "$work/built.log")" "$(rpms "$work/built/out/RPMS") RPMs, $(mib "$work/built/out/RPMS") MiB"
printf '%-8s %9s  %-40s %s\n' "seeded" "$seeded" "$(count "$work/seeded.log")" "$(rpms "$work/seeded/out/RPMS") RPMs, $(mib "$work/seeded/out/RPMS") MiB"
printf '%-8s %9s  %-40s %s\n' "changed" "$changed" "$(count "$work/changed.log")" "$(rpms "$work/changed/out/RPMS") RPMs, $(mib "$work/changed/out/RPMS") MiB"
ratio() { python3 -c "import sys; print(f'{sys.argv[3]}/built: {float(sys.argv[2]) / float(sys.argv[1]):.3f} (built is {float(sys.argv[1]) / float(sys.argv[2]):.0f}x the time)')" "$@"; }
ratio "$built" "$seeded" seeded
ratio "$built" "$changed" changed
