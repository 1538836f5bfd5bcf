// swift-tools-version:6.0
import PackageDescription

// The simulator's own loops (TSA recurrence, margins, im2col, pooling) are written to vectorise;
// on x86-64 we let the compiler use AVX2/FMA (any x86-64 CPU since 2013). Measured with
// `cssdbg bench`: ANN forward 290 → 385 samples/s on VGG-16, SNN unchanged (GEMM-bound).
//
// The core is optimised in debug builds too: the test suite simulates the sample data sets for
// dozens of configurations against the Float64 reference, and unoptimised loops made that 5×
// slower (most of CI's time). Stepping through the core in a debugger needs `-c release -g` or
// removing this flag; the other targets stay unoptimised in debug builds.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]
#if arch(x86_64)
let coreSettings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])] + optimisedInDebug
#else
let coreSettings: [SwiftSetting] = optimisedInDebug
#endif

let package = Package(
    name: "cssdbg",
    // No `platforms:` claim: the package is built and tested on Linux only (scripts/test, .ci/run).
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

        // MARK: Snapshots — the values the view and the backend exchange, the backend protocol
        // (tuning included) and the one lock; no simulation, no C
        .target(name: "CSSSnapshots"),

        // MARK: Simulation core — no terminal code, no file formats
        .target(name: "CSSCore", dependencies: ["CSSSnapshots", "CBLAS"], swiftSettings: coreSettings),

        // MARK: Import layer — ONNX, NumPy, θ and session files
        .target(
            name: "CSSImport",
            dependencies: ["CSSCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),

        // MARK: View — renders snapshots into an in-memory cell grid; never simulates, and cannot:
        // it sees CSSSnapshots only (scripts/check-architecture.sh fails if it reaches CSSCore or BLAS)
        .target(name: "CSSView", dependencies: ["CSSSnapshots"]),

        // MARK: Terminal adapter — the only code that touches ncurses
        .target(name: "CSSTerminal", dependencies: ["CSSSnapshots", "CSSView", "CNcurses"]),

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

        // MARK: Tests (TestSupport: the helpers they share — seeded generator, repository paths)
        .target(name: "TestSupport", dependencies: ["CSSSnapshots"], path: "Tests/TestSupport"),
        .testTarget(name: "CSSCoreTests", dependencies: ["CSSCore", "TestSupport"]),
        .testTarget(name: "CSSImportTests", dependencies: ["CSSImport", "CSSCore", "TestSupport"]),
        .testTarget(name: "CSSViewTests", dependencies: ["CSSView", "CSSSnapshots", "CSSTerminal", "TestSupport"],
                    exclude: ["Golden"]),
        .testTarget(name: "IntegrationTests", dependencies: ["CSSImport", "CSSCore", "TestSupport"]),
        .testTarget(name: "AppTests", dependencies: ["CSSApp", "CSSView", "CSSImport", "CSSCore", "TestSupport"]),
    ]
)
