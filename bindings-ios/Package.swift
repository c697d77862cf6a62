// swift-tools-version:5.9
// The safelane Swift package: the uniffi-generated bindings (SafelaneFFI, with
// the C header and module map in safelane_ffiFFI), a thin Swift layer
// (Safelane) and XCTest tests. Here it links the host build of the Rust
// library (SAFELANE_LIB_DIR, default ../target/debug) so the tests run on
// Linux; an iOS app links the static library from an XCFramework instead
// (see README.md).
import Foundation
import PackageDescription

let libDir = ProcessInfo.processInfo.environment["SAFELANE_LIB_DIR"] ?? "../target/debug"

let package = Package(
    name: "Safelane",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Safelane", targets: ["Safelane"]),
    ],
    targets: [
        .systemLibrary(name: "safelane_ffiFFI", path: "Sources/safelane_ffiFFI/include"),
        .target(
            name: "SafelaneFFI",
            dependencies: ["safelane_ffiFFI"],
            path: "Sources/SafelaneFFI",
            linkerSettings: [
                .linkedLibrary("safelane_ffi"),
                .unsafeFlags(["-L", libDir, "-Xlinker", "-rpath", "-Xlinker", libDir]),
            ]
        ),
        .target(name: "Safelane", dependencies: ["SafelaneFFI"], path: "Sources/Safelane"),
        .testTarget(name: "SafelaneTests", dependencies: ["Safelane", "SafelaneFFI"], path: "Tests/SafelaneTests"),
    ]
)
