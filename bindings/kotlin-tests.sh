#!/usr/bin/env bash
# Kotlin bindings on the host JVM: installs kotlinc (npm package kotlin-compiler)
# and JNA (Debian libjna-java) when missing, builds the FFI library, checks the
# committed generated sources against a fresh generation (drift fails), then
# compiles the generated code, the thin layer and the tests with -Werror and
# runs them against the host build of the library.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/target/tools
KOTLIN_VERSION=2.4.20
KOTLIN_HOME=$TOOLS/kotlin/node_modules/kotlin-compiler

if [ ! -x "$KOTLIN_HOME/bin/kotlinc" ]; then
  echo "installing kotlin-compiler $KOTLIN_VERSION (npm)"
  mkdir -p "$TOOLS/kotlin"
  npm install --prefix "$TOOLS/kotlin" --no-audit --no-fund --ignore-scripts "kotlin-compiler@$KOTLIN_VERSION" >/dev/null
fi
JNA=/usr/share/java/jna.jar
if [ ! -f "$JNA" ]; then
  echo "installing libjna-java (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q libjna-java >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q libjna-java >/dev/null; }
fi
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
EXPECTED=$(cargo run -q -p safelane-cli -- analyze "$OUT/trip" --json | tail -1 | sed -E 's/.*"events":([0-9]+).*/\1/')

"$KOTLIN_HOME/bin/kotlinc" -Werror -classpath "$JNA:$COROUTINES" \
  bindings-android/src/main/kotlin/io/safelane/ffi/safelane_ffi.kt \
  bindings-android/src/main/kotlin/io/safelane/Safelane.kt \
  bindings-android/src/test/kotlin/io/safelane/*.kt \
  -d "$OUT/classes"
java -cp "$OUT/classes:$JNA:$COROUTINES:$STDLIB" \
  -Djna.library.path="$ROOT/target/debug" \
  -Dsafelane.trip="$OUT/trip" -Dsafelane.expectedEvents="$EXPECTED" -Dsafelane.work="$OUT" \
  io.safelane.SafelaneTestKt
