#!/usr/bin/env bash
# Prepares (idempotently) a Debian 13 chroot with Swift 6 (Debian's swiftlang),
# since Debian 12 has no Swift and Debian 13's needs a newer glibc than the
# host's: debootstrap --variant=minbase trixie, then swiftlang, libc6-dev and
# libstdc++-14-dev inside (about 2.6 GB, cached under target/tools).
# The mirror is read from the machine's own apt configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
R=$PWD/target/tools/swift-root
# (usr/bin/swift is an absolute symlink inside the chroot: test the marker.)
if [ -f "$R/.safelane-ready" ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q debootstrap >/dev/null; }
MIRROR=$(grep -m1 '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | awk '{print $2}')
if [ -z "$MIRROR" ]; then
  MIRROR=$(grep -m1 -E '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}')
fi
[ -n "$MIRROR" ] || { echo "no Debian mirror found in the apt configuration" >&2; exit 1; }
rm -rf "$R"
mkdir -p "$R"
echo "debootstrap trixie (minbase) into $R"
debootstrap --variant=minbase trixie "$R" "$MIRROR" >/dev/null
echo "installing swiftlang in the chroot"
unshare --mount --propagation private -- bash -c "
  mount -t proc proc '$R/proc'
  chroot '$R' /usr/bin/env DEBIAN_FRONTEND=noninteractive bash -c 'apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends swiftlang libc6-dev libstdc++-14-dev >/dev/null'
"
touch "$R/.safelane-ready"
echo "swift ready in $R"
