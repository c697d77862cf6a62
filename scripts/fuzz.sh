#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for FUZZ_SECONDS each (default
# 20) with cargo-fuzz and libFuzzer, AddressSanitizer on. Installs cargo-fuzz
# into target/tools/cargo-fuzz if missing (scripts/tools.sh fuzz, idempotent). The corpus grows in
# target/fuzz-corpus/<target>, seeded from fuzz/seeds/<target>. A crash stops
# the run with the failing input in fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh                 # every target, 20 s each (what CI runs)
#   FUZZ_SECONDS=600 scripts/fuzz.sh tile_decode   # a longer run of one
#
# cargo-fuzz needs nightly-only compiler flags (-Zsanitizer); on a stable
# toolchain RUSTC_BOOTSTRAP=1 allows them (this machine kind has one
# toolchain, stable, and no way to fetch another).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/tools.sh fuzz
tools="$root/target/tools/cargo-fuzz"
export PATH="$tools/bin:$PATH"
if ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi
seconds=${FUZZ_SECONDS:-20}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(trip_csv pipeline_push tile_decode ingest_decode)
fi
cd fuzz
cargo fuzz build -O
for t in "${targets[@]}"; do
    corpus="$root/target/fuzz-corpus/$t"
    mkdir -p "$corpus"
    if [ -d "seeds/$t" ]; then
        cp -n seeds/"$t"/* "$corpus"/ 2>/dev/null || true
    fi
    echo "== fuzz $t: ${seconds}s"
    log="$root/target/fuzz-corpus/$t.log"
    status=0
    cargo fuzz run -O "$t" "$corpus" -- -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    grep -E "^#[0-9]+\s+DONE|^stat::number_of_executed_units|^stat::peak_rss|^Done [0-9]+ runs" "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -40 "$log" >&2
        echo "fuzz $t failed (exit $status): the failing input is in fuzz/artifacts/$t/" >&2
        exit 1
    fi
done
