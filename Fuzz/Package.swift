// swift-tools-version:5.4
// libFuzzer harnesses for the import layer. Not part of the main build: scripts/fuzz.sh builds
// this package with -sanitize=fuzzer,address (see README.md).
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's `main` to
// `<Target>_main` and links with --defsym main=<Target>_main, which fails to link when libFuzzer
// provides `main` and the harness is compiled with -parse-as-library.
import PackageDescription

let package = Package(
    name: "cssdbg-fuzz",
    dependencies: [
        // The repository root; needs its `CSSImport` library product.
        .package(name: "cssdbg", path: ".."),
    ],
    targets: [
        // Shared checks: what counts as a finding besides crashes and sanitizer reports.
        .target(name: "FuzzSupport", dependencies: [.product(name: "CSSImport", package: "cssdbg")]),
        .executableTarget(name: "FuzzONNX", dependencies: ["FuzzSupport", .product(name: "CSSImport", package: "cssdbg")]),
        // Builds graphs from the input bytes (operators, attributes, extreme dims) to reach folding/lowering.
        .executableTarget(name: "FuzzONNXGraph", dependencies: ["FuzzSupport", .product(name: "CSSImport", package: "cssdbg")]),
        .executableTarget(name: "FuzzNPY", dependencies: ["FuzzSupport", .product(name: "CSSImport", package: "cssdbg")]),
        .executableTarget(name: "FuzzTheta", dependencies: ["FuzzSupport", .product(name: "CSSImport", package: "cssdbg")]),
    ]
)
