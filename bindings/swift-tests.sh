#!/usr/bin/env bash
# Swift bindings on Linux: prepares the Swift chroot (scripts/tools.sh swift),
# builds the FFI library, then runs the package's XCTest tests inside the
# chroot in a private mount namespace (no mount outlives the command) against
# the host build of the library.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/tools.sh swift
R=$ROOT/target/tools/swift-root
cargo build -q -p safelane-ffi
OUT=$ROOT/target/swift-tests
rm -rf "$OUT" && mkdir -p "$OUT"
cargo run -q -p safelane-cli -- simulate --scenario city-dash --seed 1 --duration-s 600 --out "$OUT/trip" >/dev/null
# The tests push as a phone does (IMU in batches of 100, then the fixes timed
# within them): the core's events for that same order (`analyze --batched`).
EXPECTED=$(cargo run -q -p safelane-cli -- analyze "$OUT/trip" --json --batched | tail -1 | sed -E 's/.*"events":([0-9]+).*/\1/')
mkdir -p "$R/src"
unshare --mount --propagation private -- bash -c "
  set -e
  mount -t proc proc '$R/proc'
  mount --bind '$ROOT' '$R/src'
  chroot '$R' /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root \
    SAFELANE_LIB_DIR=/src/target/debug SAFELANE_TRIP=/src/target/swift-tests/trip \
    SAFELANE_EXPECTED_EVENTS='$EXPECTED' \
    bash -c 'cd /src/bindings-ios && swift test --disable-swift-testing --scratch-path /src/target/swift-build 2>&1'
" | tee "$OUT/log.txt" | grep -E "error|Test Suite|Executed|passed|failed" | grep -v "^\[" || true
grep -qE "Executed [0-9]+ tests?, with 0 failures" "$OUT/log.txt" || { echo "Swift tests failed (log: $OUT/log.txt)" >&2; exit 1; }
echo "Swift tests: $(grep -oE 'Executed [0-9]+ tests?, with [0-9]+ failures' "$OUT/log.txt" | tail -1)"
