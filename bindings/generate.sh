#!/usr/bin/env bash
# Regenerates the Kotlin and Swift sources from the built FFI library
# (uniffi library mode, --no-format so the output does not depend on which
# formatters are installed). With --check, generates into a temporary folder
# and fails when the committed sources differ (the bindings drifted from the Rust).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p safelane-ffi
LIB=target/debug/libsafelane_ffi.so
KOTLIN_DIR=bindings-android/src/main/kotlin
SWIFT_DIR=bindings-ios/Sources
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cargo run -q -p uniffi-bindgen -- generate --no-format --language kotlin --out-dir "$TMP/kotlin" "$LIB"
cargo run -q -p uniffi-bindgen -- generate --no-format --language swift --out-dir "$TMP/swift" "$LIB"
if [ "${1:-}" = "--check" ]; then
  status=0
  diff -u "$KOTLIN_DIR/io/safelane/ffi/safelane_ffi.kt" "$TMP/kotlin/io/safelane/ffi/safelane_ffi.kt" >/dev/null || { echo "Kotlin bindings drifted from the Rust: run bindings/generate.sh and commit" >&2; status=1; }
  diff -u "$SWIFT_DIR/SafelaneFFI/SafelaneFFI.swift" "$TMP/swift/SafelaneFFI.swift" >/dev/null || { echo "Swift bindings drifted from the Rust: run bindings/generate.sh and commit" >&2; status=1; }
  diff -u "$SWIFT_DIR/safelane_ffiFFI/include/safelane_ffiFFI.h" "$TMP/swift/safelane_ffiFFI.h" >/dev/null || { echo "Swift C header drifted: run bindings/generate.sh and commit" >&2; status=1; }
  diff -u "$SWIFT_DIR/safelane_ffiFFI/include/module.modulemap" "$TMP/swift/safelane_ffiFFI.modulemap" >/dev/null || { echo "Swift module map drifted: run bindings/generate.sh and commit" >&2; status=1; }
  [ $status = 0 ] && echo "bindings match the Rust (Kotlin, Swift)"
  exit $status
fi
mkdir -p "$KOTLIN_DIR/io/safelane/ffi" "$SWIFT_DIR/SafelaneFFI" "$SWIFT_DIR/safelane_ffiFFI/include"
cp "$TMP/kotlin/io/safelane/ffi/safelane_ffi.kt" "$KOTLIN_DIR/io/safelane/ffi/"
cp "$TMP/swift/SafelaneFFI.swift" "$SWIFT_DIR/SafelaneFFI/"
cp "$TMP/swift/safelane_ffiFFI.h" "$SWIFT_DIR/safelane_ffiFFI/include/"
cp "$TMP/swift/safelane_ffiFFI.modulemap" "$SWIFT_DIR/safelane_ffiFFI/include/module.modulemap"
echo "generated into $KOTLIN_DIR and $SWIFT_DIR"
