#!/usr/bin/env bash
# Runs every check and test of the workspace. Idempotent; installs what it
# needs (the embedded target used to prove the core is no_std) on first use.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n== %s\n' "$*"; }

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
if ! rustup target list --installed | grep -qx thumbv7em-none-eabihf; then
  rustup target add thumbv7em-none-eabihf
fi

step "format"
cargo fmt --all --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "core builds for thumbv7em-none-eabihf (no_std, no alloc)"
cargo build -p safelane-core --release --locked --target thumbv7em-none-eabihf

step "embedded image: links bare-metal, .text within 64 KiB"
command -v size >/dev/null || { apt-get update -qq && apt-get install -y -qq binutils >/dev/null; }
# An explicit target dir: the image is found whatever CARGO_TARGET_DIR says.
(cd core/embedded && cargo fmt --check && cargo build --release --locked --target thumbv7em-none-eabihf --target-dir ../../target/embedded)
elf=target/embedded/thumbv7em-none-eabihf/release/safelane-embedded-size
text=$(size -A "$elf" | awk '$1 == ".text" {print $2}')
echo ".text = ${text} bytes (limit 65536)"
[ "${text}" -le 65536 ]

step "API docs build without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --locked

step "tests"
cargo test --workspace --locked

step "benchmarks compile"
cargo bench --workspace --locked --no-run
