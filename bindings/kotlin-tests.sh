#!/usr/bin/env bash
# Kotlin bindings on the host JVM: installs kotlinc (npm package
# kotlin-compiler) and JNA (Debian libjna-java) when missing (scripts/tools.sh
# kotlin), builds the FFI library, checks the committed generated sources
# against a fresh generation (drift fails), then compiles the generated code, the thin layer and the tests with -Werror and
# runs them against the host build of the library.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/target/tools
KOTLIN_HOME=$TOOLS/kotlin/node_modules/kotlin-compiler

scripts/tools.sh kotlin
JNA=/usr/share/java/jna.jar
command -v java >/dev/null || { echo "java (OpenJDK) is required" >&2; exit 1; }

cargo build -q -p safelane-ffi
LIB=$ROOT/target/debug/libsafelane_ffi.so
bindings/generate.sh --check

STDLIB=$KOTLIN_HOME/lib/kotlin-stdlib.jar
COROUTINES=$KOTLIN_HOME/lib/kotlinx-coroutines-core-jvm.jar
OUT=$ROOT/target/kotlin-tests
rm -rf "$OUT" && mkdir -p "$OUT/classes"

# A simulated trip and the events the core finds on it (the expected alerts).
cargo run -q -p safelane-cli -- simulate --scenario city-dash --seed 1 --duration-s 600 --out "$OUT/trip" >/dev/null
# The tests push as a phone does (IMU in batches of 100, then the fixes timed
# within them): the core's events for that same order (`analyze --batched`).
EXPECTED=$(cargo run -q -p safelane-cli -- analyze "$OUT/trip" --json --batched | tail -1 | sed -E 's/.*"events":([0-9]+).*/\1/')

"$KOTLIN_HOME/bin/kotlinc" -Werror -classpath "$JNA:$COROUTINES" \
  bindings-android/src/main/kotlin/io/safelane/ffi/safelane_ffi.kt \
  bindings-android/src/main/kotlin/io/safelane/Safelane.kt \
  bindings-android/src/test/kotlin/io/safelane/*.kt \
  -d "$OUT/classes"
java -cp "$OUT/classes:$JNA:$COROUTINES:$STDLIB" \
  -Djna.library.path="$ROOT/target/debug" \
  -Dsafelane.trip="$OUT/trip" -Dsafelane.expectedEvents="$EXPECTED" -Dsafelane.work="$OUT" \
  io.safelane.SafelaneTestKt
