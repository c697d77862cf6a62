//! `cargo run -p uniffi-bindgen -- generate --no-format --language kotlin
//! --out-dir OUT target/debug/libsafelane_ffi.so` (see `bindings/generate.sh`).
//! A workspace member of its own, so that the library never links the
//! generator's dependencies.

fn main() {
    uniffi::uniffi_bindgen_main()
}
