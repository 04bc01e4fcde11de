#!/bin/bash
# try-toolchain.sh - make the tiny toolchain without slipway, then prove it.
#
# Stand-in for slipway's toolchain stage in "rebuild" mode, as Azure Linux
# makes its toolchain (see README.md in this directory):
#
#   1. bootstrap  mmdebstrap a Debian root ([toolchain.bootstrap] in
#                 bootstrap.toml) into a directory;
#   2. toolchain  for each line of toolchain_build_order.txt: BUILD runs
#                 rpmbuild -ba of SPECS/<spec> inside that root (isolated with
#                 unshare: mount, pid, net, uts, ipc); INSTALL <package> (or
#                 INSTALL <spec> <rpm-name-prefix>) installs RPMs made so far
#                 into the root (rpm -i --nodeps) for the builds after it;
#   3. manifest   the RPMs made must be exactly toolchain_x86_64.txt, and what
#                 rpmspec (as slipway evaluates specs) says each spec makes;
#   4. root       an EMPTY directory gets every toolchain RPM, and nothing else,
#                 with dnf --installroot from a createrepo_c repository of them;
#   5. hello      GNU hello 2.10 (Debian's source archive) is rebuilt in that
#                 pure-RPM root: rpmbuild -bs, then --rebuild, with %check,
#                 BuildRequires checked against the root's rpm database;
#   6. verify     rpm -Va over every package of that root, then hello is
#                 installed and run.
#
# usage: try-toolchain.sh [--reuse-bootstrap] [--write-manifest] [WORKDIR]
#   WORKDIR            default /var/tmp/tiny-toolchain (needs about 1.5 GB)
#   --reuse-bootstrap  keep WORKDIR/bootstrap-pristine from an earlier run
#                      instead of running mmdebstrap again
#   --write-manifest   write toolchain_x86_64.txt from the RPMs made
#
# Needs root, mmdebstrap, rpm (rpmbuild, rpmspec), createrepo_c, dnf,
# unshare and python3 (to read bootstrap.toml), and network access to the
# Debian mirror (phases 1 and 5 only; builds run without network).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
project=$(dirname "$here")
specs=$project/SPECS
arch=x86_64
dist=.tn1
defines=(-D "dist $dist" -D "with_check 1" -D "_buildhost tiny-build")
hello_sha256=31e066137a962676e89f69d1b65382de95a7ef7d914b8cb956f41ea72e0f516b

reuse=0 write_manifest=0 work=/var/tmp/tiny-toolchain
while [ $# -gt 0 ]; do
    case $1 in
    --reuse-bootstrap) reuse=1 ;;
    --write-manifest) write_manifest=1 ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "try-toolchain.sh: unknown option $1" >&2
        exit 2
        ;;
    *) work=$1 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "try-toolchain.sh: run as root" >&2; exit 1; }
for tool in mmdebstrap rpmbuild rpmspec createrepo_c dnf unshare python3; do
    command -v "$tool" >/dev/null || { echo "try-toolchain.sh: $tool is missing" >&2; exit 1; }
done

mkdir -p "$work"
work=$(cd "$work" && pwd)
boot=$work/bootstrap
root=$work/root
out=$work/out
logs=$work/logs
summary=$work/summary.txt

# ---------------------------------------------------------------- helpers

say() { printf '%s\n' "$*" | tee -a "$summary"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
dusize() { du -sxb "$1" | cut -f1; }
die() {
    say "FAILED: $*"
    exit 1
}

# inroot ROOT CMD...: run CMD chrooted in ROOT, in new mount, pid, net, uts
# and ipc namespaces (no network), with its own /proc and a minimal /dev.
# Every mount disappears with the mount namespace.
inroot() {
    local r=$1
    shift
    # shellcheck disable=SC2016 # the script runs in the child shell
    unshare --mount --pid --fork --net --uts --ipc --propagation private /bin/sh -euc '
        r=$1; shift
        mount -t proc proc "$r/proc"
        mount -t tmpfs -o mode=0755,nosuid,size=16m dev "$r/dev"
        for d in null:3 zero:5 full:7 random:8 urandom:9; do
            mknod -m 0666 "$r/dev/${d%:*}" c 1 "${d#*:}"
        done
        mknod -m 0666 "$r/dev/tty" c 5 0
        ln -s /proc/self/fd "$r/dev/fd"
        ln -s fd/0 "$r/dev/stdin"; ln -s fd/1 "$r/dev/stdout"; ln -s fd/2 "$r/dev/stderr"
        mkdir -m 1777 "$r/dev/shm"
        hostname tiny-build
        exec chroot "$r" env -i HOME=/root TERM=dumb LC_ALL=C.UTF-8 \
            PATH=/usr/bin:/usr/sbin "$@"
    ' inroot "$r" "$@"
}

# toml KEY: a value of bootstrap.toml's [toolchain.bootstrap], lists joined
# with commas.
toml() {
    python3 -c '
import sys, tomllib
v = tomllib.load(open(sys.argv[1], "rb"))["toolchain"]["bootstrap"][sys.argv[2]]
print(",".join(sorted(v)) if isinstance(v, list) else v)' "$here/bootstrap.toml" "$1"
}

: >"$summary"
mkdir -p "$logs"
start=$(now)
say "tiny toolchain: $(date -u '+%Y-%m-%d %H:%M UTC'), work dir $work"

# ---------------------------------------------------------------- 1. bootstrap

suite=$(toml suite) mirror=$(toml mirror) packages=$(toml packages)
t=$(now)
if [ "$reuse" = 1 ] && [ -d "$work/bootstrap-pristine/usr" ]; then
    say "1. bootstrap: reusing $work/bootstrap-pristine"
else
    rm -rf "$work/bootstrap-pristine"
    # (The deb-src line is for phase 5, GNU hello's source.)
    mmdebstrap --variant=apt --include="$packages" "$suite" "$work/bootstrap-pristine" \
        "deb $mirror $suite main" "deb-src $mirror $suite main" \
        >"$logs/mmdebstrap.log" 2>&1 || die "mmdebstrap: see $logs/mmdebstrap.log"
    say "1. bootstrap: mmdebstrap --variant=apt $suite: $(since "$t") s," \
        "$(mib "$(dusize "$work/bootstrap-pristine")"), $(chroot "$work/bootstrap-pristine" dpkg-query -W | wc -l) Debian packages"
fi
t=$(now)
rm -rf "$boot"
cp -a "$work/bootstrap-pristine" "$boot"
mkdir -p "$boot/build"
say "   copy of the pristine root for this run: $(since "$t") s"

# ---------------------------------------------------------------- 2. toolchain

rm -rf "$out"
mkdir -p "$out/RPMS" "$out/SRPMS" "$out/bylist"
t2=$(now)
nbuild=0
while read -r verb spec prefix; do
    case $verb in
    "" | "#"*) continue ;;
    BUILD)
        [ -f "$specs/$spec/$spec.spec" ] || die "BUILD $spec: no $specs/$spec/$spec.spec"
        t=$(now)
        rm -rf "$boot/build/SPECS/$spec" "$boot/build/rpmbuild"
        mkdir -p "$boot/build/SPECS"
        cp -a "$specs/$spec" "$boot/build/SPECS/$spec"
        # --nodeps: the bootstrap root's packages are Debian's, unknown to
        # the rpm database, so BuildRequires cannot be checked here.
        inroot "$boot" rpmbuild -ba --nodeps "${defines[@]}" \
            -D "_topdir /build/rpmbuild" -D "_sourcedir /build/SPECS/$spec" \
            "/build/SPECS/$spec/$spec.spec" >"$logs/build-$spec.log" 2>&1 ||
            die "BUILD $spec: see $logs/build-$spec.log"
        : >"$out/bylist/$spec"
        for f in "$boot"/build/rpmbuild/RPMS/*/*.rpm; do
            a=$(basename "$(dirname "$f")")
            mkdir -p "$out/RPMS/$a"
            cp "$f" "$out/RPMS/$a/"
            basename "$f" >>"$out/bylist/$spec"
        done
        cp "$boot"/build/rpmbuild/SRPMS/*.src.rpm "$out/SRPMS/"
        nbuild=$((nbuild + 1))
        say "$(printf '2. BUILD   %-24s %6s s  %2d RPMs  %s' "$spec" "$(since "$t")" \
            "$(wc -l <"$out/bylist/$spec")" "$(mib "$(cat "$boot"/build/rpmbuild/RPMS/*/*.rpm | wc -c)")")"
        ;;
    INSTALL)
        # INSTALL NAME PREFIX: the RPMs of spec NAME's latest build whose names
        # start with PREFIX. INSTALL NAME: the package NAME, from the latest
        # build that made it, or else every RPM of spec NAME's latest build.
        t=$(now)
        rm -rf "$boot/build/install"
        mkdir -p "$boot/build/install"
        picks=()
        if [ -n "$prefix" ]; then
            [ -f "$out/bylist/$spec" ] || die "INSTALL $spec $prefix: no earlier BUILD of $spec"
            while read -r f; do
                [[ $(rpm -qp --qf '%{NAME}' "$out/RPMS"/*/"$f") == "$prefix"* ]] && picks+=("$f")
            done <"$out/bylist/$spec"
        else
            for list in "$out"/bylist/*; do
                while read -r f; do
                    [ "$(rpm -qp --qf '%{NAME}' "$out/RPMS"/*/"$f")" = "$spec" ] && picks+=("$f")
                done <"$list"
            done
            if [ ${#picks[@]} -eq 0 ] && [ -f "$out/bylist/$spec" ]; then
                mapfile -t picks <"$out/bylist/$spec"
            fi
        fi
        [ ${#picks[@]} -gt 0 ] || die "INSTALL $spec $prefix: no earlier build made such a package"
        names=()
        for f in "${picks[@]}"; do
            cp "$out/RPMS"/*/"$f" "$boot/build/install/"
            names+=("$(rpm -qp --qf '%{NAME}' "$out/RPMS"/*/"$f")")
        done
        # --nodeps: what they require is Debian's, unknown to rpm here.
        # (--force-debian: Debian's rpm warns on every install without it.)
        inroot "$boot" sh -c 'rpm -Uvh --nodeps --replacepkgs --force-debian --dbpath /var/lib/rpm /build/install/*.rpm' \
            >"$logs/install-$spec.log" 2>&1 || die "INSTALL $spec: see $logs/install-$spec.log"
        say "$(printf '2. INSTALL %-24s %6s s  %s' "$spec" "$(since "$t")" "${names[*]}")"
        ;;
    *) die "toolchain_build_order.txt: unknown step '$verb $spec'" ;;
    esac
done <"$here/toolchain_build_order.txt"
nrpm=$(find "$out/RPMS" -name '*.rpm' | wc -l)
rpmbytes=$(find "$out/RPMS" -name '*.rpm' -exec cat {} + | wc -c)
say "2. toolchain: $nbuild specs built in $(since "$t2") s: $nrpm RPMs, $(mib "$rpmbytes")" \
    "($(find "$out/SRPMS" -name '*.rpm' | wc -l) SRPMs, $(mib "$(find "$out/SRPMS" -name '*.rpm' -exec cat {} + | wc -c)"))"

# ---------------------------------------------------------------- 3. manifest

find "$out/RPMS" -name '*.rpm' -printf '%f\n' | LC_ALL=C sort >"$work/made.txt"
# What slipway's spec evaluation (rpmspec on this host) says the specs make.
while read -r verb spec _; do
    [ "$verb" = BUILD ] || continue
    rpmspec -q --builtrpms "${defines[@]}" -D "_sourcedir $specs/$spec" \
        --qf '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm\n' "$specs/$spec/$spec.spec" 2>/dev/null
done <"$here/toolchain_build_order.txt" | LC_ALL=C sort >"$work/evaluated.txt"
if ! diff -u "$work/evaluated.txt" "$work/made.txt" >"$work/evaluated.diff"; then
    die "the RPMs made differ from what rpmspec evaluates (see $work/evaluated.diff)"
fi
if [ "$write_manifest" = 1 ]; then
    cp "$work/made.txt" "$here/toolchain_${arch}.txt"
    say "3. manifest: wrote toolchain_${arch}.txt ($nrpm RPMs)"
elif diff -u "$here/toolchain_${arch}.txt" "$work/made.txt" >"$work/manifest.diff"; then
    say "3. manifest: the $nrpm RPMs made are exactly toolchain_${arch}.txt and what rpmspec evaluates"
else
    die "the RPMs made differ from toolchain_${arch}.txt (see $work/manifest.diff; --write-manifest updates it)"
fi

# ---------------------------------------------------------------- 4. pure-RPM root

t=$(now)
createrepo_c -q "$out/RPMS"
say "4. createrepo_c: $(since "$t") s"
t=$(now)
rm -rf "$root" "$work/dnf"
mkdir -p "$root" "$work/dnf/home" "$work/dnf/repos.d" "$work/dnf/cache"
# Debian's rpm keeps its database in ~/.rpmdb; for dnf, ~/.rpmmacros is the
# only way to say where (tiny-rpm-config says /var/lib/rpm inside the root).
echo '%_dbpath /var/lib/rpm' >"$work/dnf/home/.rpmmacros"
mapfile -t names < <(find "$out/RPMS" -name '*.rpm' -exec rpm -qp --qf '%{NAME}\n' {} + | sort)
HOME=$work/dnf/home dnf -y --installroot="$root" --releasever=1 --forcearch="$arch" \
    --noplugins --setopt=reposdir="$work/dnf/repos.d" --setopt=cachedir="$work/dnf/cache" \
    --setopt=install_weak_deps=False --nogpgcheck \
    --repofrompath="tiny-toolchain,file://$out/RPMS" --repo=tiny-toolchain \
    install "${names[@]}" >"$logs/dnf.log" 2>&1 || die "dnf --installroot: see $logs/dnf.log"
if grep -q 'scriptlet failed' "$logs/dnf.log"; then die "a scriptlet failed: see $logs/dnf.log"; fi
# dnf's own state (history, logs, and expired_repos.json, which it writes
# under the installroot even with cachedir outside): not the toolchain's.
rm -rf "$root/etc/dnf" "$root/var/lib/dnf" "$root"/var/log/dnf*.log "$root/var/log/hawkey.log" "$root$work/dnf"
rmdir -p --ignore-fail-on-non-empty "$(dirname "$root$work/dnf")"
npkg=$(rpm --root "$root" --dbpath /var/lib/rpm -qa | wc -l)
say "4. pure-RPM root: dnf --installroot of ${#names[@]} packages: $(since "$t") s;" \
    "$npkg packages in the rpm database, $(mib "$(dusize "$root")")"
(cd "$root" && find . -xdev ! -path './var/lib/rpm/*' -printf '/%P\n' | sed 's,^/$,/,') |
    LC_ALL=C sort >"$work/root-paths.txt"
rpm --root "$root" --dbpath /var/lib/rpm -qa --qf '[%{FILENAMES}\n]' | LC_ALL=C sort -u |
    LC_ALL=C comm -23 "$work/root-paths.txt" - >"$work/unowned.txt"
say "   files and directories in the root (besides the rpm database) that no package" \
    "owns: $(wc -l <"$work/unowned.txt") $(head -20 "$work/unowned.txt" | tr '\n' ' ')"

# ---------------------------------------------------------------- 5. hello

t=$(now)
mkdir -p "$work/sources"
tarball=$work/sources/hello-2.10.tar.gz
if [ ! -f "$tarball" ]; then
    # From Debian's source archive, with the network, in the bootstrap root
    # (whose sources.list has the deb-src line).
    chroot "$boot" sh -c 'apt-get update -qq && rm -rf /tmp/hello && mkdir /tmp/hello &&
        cd /tmp/hello && apt-get source --download-only -qq hello' >"$logs/hello-source.log" 2>&1 ||
        die "apt-get source hello: see $logs/hello-source.log"
    cp "$boot/tmp/hello/hello_2.10.orig.tar.gz" "$tarball"
fi
echo "$hello_sha256  $tarball" | sha256sum -c --quiet || die "$tarball: wrong sha256"
rm -rf "$root/build"
mkdir -p "$root/build/hello"
cp "$here/hello/hello.spec" "$tarball" "$root/build/hello/"
inroot "$root" rpmbuild -bs "${defines[@]}" -D "_topdir /build/rpmbuild" \
    -D "_sourcedir /build/hello" /build/hello/hello.spec >"$logs/hello-srpm.log" 2>&1 ||
    die "rpmbuild -bs hello: see $logs/hello-srpm.log"
srpm=$(cd "$root" && ls build/rpmbuild/SRPMS/hello-*.src.rpm)
inroot "$root" rpmbuild --rebuild "${defines[@]}" -D "_topdir /build/rpmbuild" "/$srpm" \
    >"$logs/hello-rebuild.log" 2>&1 || die "rpmbuild --rebuild hello: see $logs/hello-rebuild.log"
checks=$(grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR):' "$logs/hello-rebuild.log" | tr -s ' \n' ' ' || true)
say "5. hello: rpmbuild -bs + --rebuild in the pure-RPM root: $(since "$t") s; %check: ${checks:-see log}"
say "   $(find "$root/build/rpmbuild/RPMS" -name 'hello-*.rpm' -printf '%f\n')"

# ---------------------------------------------------------------- 6. verify

t=$(now)
# (rpm exits 1 when it flags anything.)
inroot "$root" rpm -Va >"$work/rpm-Va.txt" 2>&1 || true
say "6. rpm -Va over the $npkg packages: $(since "$t") s, $(grep -c . "$work/rpm-Va.txt" || true) lines flagged ($work/rpm-Va.txt):"
sed 's/^/   /' "$work/rpm-Va.txt" | tee -a "$summary"
cp "$root"/build/rpmbuild/RPMS/*/hello-2.10-*.rpm "$root/build/"
inroot "$root" sh -c 'rpm -i --force-debian /build/hello-2.10-*.rpm && hello && hello --version | head -1' \
    >"$logs/hello-run.log" 2>&1 || die "installing or running hello: see $logs/hello-run.log"
say "   hello installed with rpm -i and run: $(tr '\n' ' ' <"$logs/hello-run.log")"

say "total: $(since "$start") s"
