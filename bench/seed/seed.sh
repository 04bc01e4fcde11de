#!/bin/bash
# Seeding the example's packages from a published repository versus
# building them: the package stage of the bundled example, run twice on
# the same toolchain in the same run:
#   built:  every package built (a fresh copy of the example, empty store);
#   seeded: [remote] rebuild = "listed" with an empty list, the packages of
#           every spec downloaded from the first copy's out/RPMS, served
#           over HTTP on 127.0.0.1, into out/RPMS.
# Prints both times, what each made, and the ratio. Needs root and the
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
python3 -m http.server --bind 127.0.0.1 --directory "$work/built/out/RPMS" "$port" >/dev/null 2>&1 &
server=$!
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/repodata/repomd.xml"); break
    except OSError:
        time.sleep(0.1)
PY

copy "$work/seeded"
mkdir -p "$work/seeded/build"
cp -a "$work/built/build/toolchain" "$work/seeded/build/"
cat >>"$work/seeded/slipway.toml" <<TOML

[remote]
cache_dir = "cache"
rebuild = "listed"
rebuild_list = []
[[remote.repos]]
id = "published"
baseurls = ["http://127.0.0.1:$port"]
TOML
echo "seeded: the package stage taking every spec from the repository..." >&2
start=$(date +%s.%N)
"$slipway" -C "$work/seeded" build >"$work/seeded.log" 2>&1
seeded=$(seconds "$start" "$(date +%s.%N)")

count() { grep -m1 '^package stage:' "$1" | sed 's/^package stage: //; s/ in .*//'; }
mib() { du -sm "$1" | cut -f1; }
rpms() { find "$1" -name '*.rpm' | wc -l; }
printf '%-8s %9s  %-40s %s\n' "run" "seconds" "package stage" "out/RPMS"
printf '%-8s %9s  %-40s %s\n' "built" "$built" "$(count "$work/built.log")" "$(rpms "$work/built/out/RPMS") RPMs, $(mib "$work/built/out/RPMS") MiB"
printf '%-8s %9s  %-40s %s\n' "seeded" "$seeded" "$(count "$work/seeded.log")" "$(rpms "$work/seeded/out/RPMS") RPMs, $(mib "$work/seeded/out/RPMS") MiB"
python3 -c "import sys; print(f'seeded/built: {float(sys.argv[2]) / float(sys.argv[1]):.3f} (built is {float(sys.argv[1]) / float(sys.argv[2]):.0f}x the time)')" "$built" "$seeded"
