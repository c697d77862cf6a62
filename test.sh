#!/usr/bin/env bash
# Runs every check and test of the workspace. Idempotent; installs what it
# needs on first use (scripts/tools.sh, started in the background at once so
# the downloads overlap with the first compilations): the embedded and mobile
# Rust targets, Debian's PostgreSQL (a server on 127.0.0.1:54329 for the
# server's tests, scripts/postgres.sh), Chromium and playwright-core (the report
# page's browser test, scripts/browser.sh), kotlinc (npm) and JNA for the Kotlin
# bindings, a Debian 13 chroot with Swift for the Swift bindings (about 1 minute
# and 2.6 GB under target/tools, once), and cargo-fuzz for the brief fuzzing runs.
#
#   FAULTS_EVENTS  events of the sync-under-faults run (default 50000)
#   FUZZ_SECONDS   seconds per fuzz target (default 15)
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n== %s (at %d s)\n' "$*" "$SECONDS"; }

step "tools, in the background (log: target/tools/setup.log)"
mkdir -p target/tools
scripts/tools.sh all >target/tools/setup.log 2>&1 &
tools_pid=$!
# Waits for the background installs; their failure fails the run, with their log.
tools_ready() {
  if [ -n "$tools_pid" ]; then
    local started=$SECONDS
    wait "$tools_pid" || { cat target/tools/setup.log >&2; echo "installing the tools failed (scripts/tools.sh all)" >&2; exit 1; }
    tools_pid=
    echo "tools ready (waited $((SECONDS - started)) s):"
    sed 's/^/  /' target/tools/setup.log
  fi
}

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
for t in thumbv7em-none-eabihf aarch64-linux-android aarch64-apple-ios; do
  if ! rustup target list --installed | grep -qx "$t"; then
    rustup target add "$t"
  fi
done

step "format"
cargo fmt --all --check

step "clippy (warnings are errors; --all-targets also type-checks the benchmarks)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "core builds for thumbv7em-none-eabihf (no_std, no alloc)"
cargo build -p safelane-core --release --locked --target thumbv7em-none-eabihf

step "embedded image: links bare-metal, .text within 64 KiB"
tools_ready # binutils' size here, the aarch64 C compiler next, the rest later
# An explicit target dir: the image is found whatever CARGO_TARGET_DIR says.
(cd core/embedded && cargo fmt --check && cargo build --release --locked --target thumbv7em-none-eabihf --target-dir ../../target/embedded)
elf=target/embedded/thumbv7em-none-eabihf/release/safelane-embedded-size
text=$(size -A "$elf" | awk '$1 == ".text" {print $2}')
echo ".text = ${text} bytes (limit 65536)"
[ "${text}" -le 65536 ]

step "mobile targets: the FFI library compiles for Android and iOS (no NDK or Apple linker here: check only)"
# SQLite is compiled in for Android; without the NDK, Debian's aarch64 gcc
# compiles it for the check (the AAR itself is built with the NDK, see
# bindings-android/src/main/jniLibs/README.md). iOS links the system SQLite.
CC_aarch64_linux_android=aarch64-linux-gnu-gcc AR_aarch64_linux_android=aarch64-linux-gnu-ar \
  cargo check -p safelane-ffi --locked --target aarch64-linux-android
cargo check -p safelane-ffi --locked --target aarch64-apple-ios

step "API docs build without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --locked

step "PostgreSQL on loopback for the server tests (Debian package, installed on first use)"
SAFELANE_TEST_POSTGRES_URL=$(scripts/postgres.sh)
export SAFELANE_TEST_POSTGRES_URL
echo "$SAFELANE_TEST_POSTGRES_URL"

step "Chromium and playwright-core for the report page's browser test (installed on first use)"
SAFELANE_TEST_BROWSER_MODULES=$(scripts/browser.sh)
export SAFELANE_TEST_BROWSER_MODULES

step "tests (the server's on SQLite and on PostgreSQL)"
cargo test --workspace --locked

step "sync under faults, real processes: ${FAULTS_EVENTS:-50000} events, lossy proxy, server and phones killed (safelane faults)"
cargo run -q --locked -p safelane-cli -- faults --events "${FAULTS_EVENTS:-50000}" --out target/faults

step "fuzz: every target briefly (scripts/fuzz.sh: cargo-fuzz, libFuzzer, ASan; ${FUZZ_SECONDS:-15} s each)"
(cd fuzz && cargo fmt --check)
FUZZ_SECONDS=${FUZZ_SECONDS:-15} scripts/fuzz.sh

step "Kotlin bindings: drift check, then tests on the host JVM"
bindings/kotlin-tests.sh

step "Swift bindings: XCTest on Linux (Swift 6 in a Debian 13 chroot)"
bindings/swift-tests.sh

step "done"
