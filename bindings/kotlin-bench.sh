#!/usr/bin/env bash
# The binding layer's cost from Kotlin (release build of the library); compare
# with `cargo bench -p safelane-sdk --bench push`. Figures go in docs/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
KOTLIN_HOME=$ROOT/target/tools/kotlin/node_modules/kotlin-compiler
[ -x "$KOTLIN_HOME/bin/kotlinc" ] || bindings/kotlin-tests.sh >/dev/null
JNA=/usr/share/java/jna.jar
COROUTINES=$KOTLIN_HOME/lib/kotlinx-coroutines-core-jvm.jar
STDLIB=$KOTLIN_HOME/lib/kotlin-stdlib.jar
OUT=$ROOT/target/kotlin-bench
rm -rf "$OUT" && mkdir -p "$OUT/classes"
cargo build -q --release -p safelane-ffi
cargo run -q --release -p safelane-cli -- simulate --scenario city-dash --seed 1 --duration-s 600 --out "$OUT/trip" >/dev/null
"$KOTLIN_HOME/bin/kotlinc" -classpath "$JNA:$COROUTINES" \
  bindings-android/src/main/kotlin/io/safelane/ffi/safelane_ffi.kt \
  bindings-android/src/bench/kotlin/io/safelane/Bench.kt -d "$OUT/classes"
java -cp "$OUT/classes:$JNA:$COROUTINES:$STDLIB" -Djna.library.path="$ROOT/target/release" \
  -Dsafelane.trip="$OUT/trip" io.safelane.BenchKt
