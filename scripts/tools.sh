#!/usr/bin/env bash
# Installs the tools the tests need beyond Rust, each idempotently, from the
# registries this machine kind reaches. The one place where they are installed:
# the scripts that use a tool call this with the tool's name, and ./test.sh
# runs `scripts/tools.sh all` in the background at its start, so the downloads
# overlap with the first (CPU-bound) compilations instead of adding to them.
#
#   scripts/tools.sh debian    # Debian packages: PostgreSQL, Chromium, JNA, debootstrap,
#                              # the aarch64 C compiler (for the Android check), binutils
#   scripts/tools.sh kotlin    # kotlin-compiler from npm into target/tools/kotlin
#   scripts/tools.sh browser   # playwright-core and pngjs from npm into target/tools/browser
#   scripts/tools.sh swift     # Swift 6 in a Debian 13 chroot, target/tools/swift-root (~1 min, 2.6 GB)
#   scripts/tools.sh fuzz      # cargo-fuzz from crates.io into target/tools/cargo-fuzz
#   scripts/tools.sh all       # every one of them, in that order
#
# Progress goes to stderr; nothing is printed on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/target/tools
export DEBIAN_FRONTEND=noninteractive

KOTLIN_VERSION=2.4.20
PLAYWRIGHT_VERSION=1.65.1
PNGJS_VERSION=7.0.0
CARGO_FUZZ_VERSION=0.13.2

# Debian packages, each with the file that shows it is there.
DEBIAN_PACKAGES=(
  "postgresql:/usr/lib/postgresql"
  "chromium:/usr/bin/chromium"
  "libjna-java:/usr/share/java/jna.jar"
  "debootstrap:/usr/sbin/debootstrap"
  "gcc-aarch64-linux-gnu:/usr/bin/aarch64-linux-gnu-gcc"
  "binutils:/usr/bin/size"
)

# apt-get install, with one `apt-get update` first if the package lists are
# stale (a fresh machine's may not know the package yet).
apt_install() {
  apt-get install -y -q "$@" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }
}

debian() {
  local missing=() entry
  for entry in "${DEBIAN_PACKAGES[@]}"; do
    [ -e "${entry#*:}" ] || missing+=("${entry%%:*}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}" >&2
    apt_install "${missing[@]}"
  fi
}

# One Debian package by name (for the scripts that need only theirs).
debian_one() {
  local entry
  for entry in "${DEBIAN_PACKAGES[@]}"; do
    if [ "${entry%%:*}" = "$1" ]; then
      [ -e "${entry#*:}" ] && return 0
      echo "installing Debian package $1" >&2
      apt_install "$1"
      return 0
    fi
  done
  echo "tools.sh: unknown Debian package $1" >&2
  return 1
}

kotlin() {
  if [ ! -x "$TOOLS/kotlin/node_modules/kotlin-compiler/bin/kotlinc" ]; then
    echo "installing kotlin-compiler $KOTLIN_VERSION (npm)" >&2
    mkdir -p "$TOOLS/kotlin"
    npm install --prefix "$TOOLS/kotlin" --no-audit --no-fund --ignore-scripts "kotlin-compiler@$KOTLIN_VERSION" >/dev/null
  fi
  debian_one libjna-java
}

browser() {
  debian_one chromium
  local dir=$TOOLS/browser
  local stamp="$dir/.installed-$PLAYWRIGHT_VERSION-$PNGJS_VERSION"
  if [ ! -f "$stamp" ]; then
    echo "installing playwright-core $PLAYWRIGHT_VERSION and pngjs $PNGJS_VERSION (npm)" >&2
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --prefix "$dir" "playwright-core@$PLAYWRIGHT_VERSION" "pngjs@$PNGJS_VERSION" >/dev/null
    touch "$stamp"
  fi
}

# Debian 12 has no Swift; Debian 13 does. A minimal Debian 13 root with
# swiftlang, entered with unshare + chroot by bindings/swift-tests.sh.
swift() {
  local R=$TOOLS/swift-root
  [ -f "$R/.safelane-ready" ] && return 0
  debian_one debootstrap
  local mirror
  mirror=$(grep -m1 '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | awk '{print $2}')
  if [ -z "$mirror" ]; then
    mirror=$(grep -m1 -E '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}')
  fi
  [ -n "$mirror" ] || { echo "no Debian mirror found in the apt configuration" >&2; return 1; }
  rm -rf "$R"
  mkdir -p "$R"
  echo "debootstrap trixie (minbase) into $R" >&2
  debootstrap --variant=minbase trixie "$R" "$mirror" >/dev/null
  echo "installing swiftlang in the chroot" >&2
  unshare --mount --propagation private -- bash -c "
    mount -t proc proc '$R/proc'
    chroot '$R' /usr/bin/env DEBIAN_FRONTEND=noninteractive bash -c 'apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends swiftlang libc6-dev libstdc++-14-dev >/dev/null 2>&1'
  "
  touch "$R/.safelane-ready"
  echo "swift ready in $R" >&2
}

fuzz() {
  if ! "$TOOLS/cargo-fuzz/bin/cargo-fuzz" --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    echo "installing cargo-fuzz $CARGO_FUZZ_VERSION (crates.io)" >&2
    cargo install -q cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$TOOLS/cargo-fuzz"
  fi
}

[ $# -gt 0 ] || { echo "usage: scripts/tools.sh debian|kotlin|browser|swift|fuzz|all ..." >&2; exit 2; }
for tool in "$@"; do
  case "$tool" in
    debian) debian ;;
    postgresql|chromium|libjna-java|debootstrap|gcc-aarch64-linux-gnu|binutils) debian_one "$tool" ;;
    kotlin) kotlin ;;
    browser) browser ;;
    swift) swift ;;
    fuzz) fuzz ;;
    all) debian; kotlin; browser; swift; fuzz ;;
    *) echo "tools.sh: unknown tool '$tool' (debian, kotlin, browser, swift, fuzz, all)" >&2; exit 2 ;;
  esac
done
