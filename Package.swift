// swift-tools-version:6.0
import PackageDescription

// The simulator's own loops (TSA recurrence, margins, im2col, pooling) are written to vectorise;
// on x86-64 we let the compiler use AVX2/FMA (any x86-64 CPU since 2013). Measured with
// `cssdbg bench`: ANN forward 290 → 385 samples/s on VGG-16, SNN unchanged (GEMM-bound).
#if arch(x86_64)
let coreSettings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let coreSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "cssdbg",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cssdbg", targets: ["cssdbg"]),
        // For the fuzz harnesses in Fuzz/ (a separate package that depends on this one by path).
        .library(name: "CSSImport", targets: ["CSSImport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
    ],
    targets: [
        // MARK: C shims (one job each)
        .target(name: "CBLAS", linkerSettings: [.linkedLibrary("openblas")]),
        .target(name: "CNcurses", linkerSettings: [.linkedLibrary("ncursesw")]),

        // MARK: Simulation core — no terminal code, no file formats
        .target(name: "CSSCore", dependencies: ["CBLAS"], swiftSettings: coreSettings),

        // MARK: Import layer — ONNX, NumPy, θ and session files
        .target(
            name: "CSSImport",
            dependencies: ["CSSCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),

        // MARK: View — renders snapshots into an in-memory cell grid; never simulates
        .target(name: "CSSView", dependencies: ["CSSCore"]),

        // MARK: Terminal adapter — the only code that touches ncurses
        .target(name: "CSSTerminal", dependencies: ["CSSView", "CNcurses"]),

        // MARK: App — the debugger's commands and session persistence, wiring core, import and view
        .target(name: "CSSApp", dependencies: ["CSSCore", "CSSImport", "CSSView"]),

        // MARK: CLI — parses arguments and starts the app
        .executableTarget(
            name: "cssdbg",
            dependencies: [
                "CSSCore", "CSSImport", "CSSView", "CSSTerminal", "CSSApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests
        .testTarget(name: "CSSCoreTests", dependencies: ["CSSCore"]),
        .testTarget(name: "CSSImportTests", dependencies: ["CSSImport", "CSSCore"]),
        .testTarget(name: "CSSViewTests", dependencies: ["CSSView", "CSSCore", "CSSImport"], exclude: ["Golden"]),
        .testTarget(name: "IntegrationTests", dependencies: ["CSSImport", "CSSCore"]),
        .testTarget(name: "AppTests", dependencies: ["CSSApp", "CSSView", "CSSImport", "CSSCore"]),
    ]
)
