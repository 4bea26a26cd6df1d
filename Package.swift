// swift-tools-version:6.0
import PackageDescription

// The library `FTRL` holds all logic (the README's Layout section shows its
// parts); `FTRLCommandLine` holds what the three commands share (option
// groups, jobs, error reporting, progress and number formatting); the
// executables only parse flags. Every target builds in Swift 6 mode.
let package = Package(
    name: "ftrl",
    products: [
        .library(name: "FTRL", targets: ["FTRL"]),
        .executable(name: "ftrl-train", targets: ["ftrl-train"]),
        .executable(name: "ftrl-predict", targets: ["ftrl-predict"]),
        .executable(name: "ftrl-model", targets: ["ftrl-model"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CISAL",
            pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]
        ),
        .target(name: "CFTRLShims"),
        .target(name: "CTrainStartup", dependencies: ["CFTRLShims"]),
        .target(
            name: "FTRL",
            dependencies: ["CZlib", "CISAL", "CFTRLShims"]
        ),
        .target(
            name: "FTRLCommandLine",
            dependencies: ["FTRL", "CFTRLShims", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "ftrl-train",
            dependencies: ["FTRL", "FTRLCommandLine", "CTrainStartup", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "ftrl-predict",
            dependencies: ["FTRL", "FTRLCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "ftrl-model",
            dependencies: ["FTRL", "FTRLCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(
            name: "FTRLTestSupport",
            dependencies: ["FTRL"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "FTRLTests",
            dependencies: ["FTRL", "FTRLTestSupport"],
            path: "Tests/FTRLTests"
        ),
        .testTarget(
            name: "CommandTests",
            dependencies: ["FTRL", "FTRLTestSupport"],
            path: "Tests/CommandTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
