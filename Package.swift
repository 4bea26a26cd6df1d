// swift-tools-version:6.0
import PackageDescription

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
        .executableTarget(
            name: "ftrl-train",
            dependencies: ["FTRL", "CTrainStartup", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "ftrl-predict",
            dependencies: ["FTRL", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "ftrl-model",
            dependencies: ["FTRL", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "FTRLTests",
            dependencies: ["FTRL"],
            path: "Tests/FTRLTests"
        ),
        .testTarget(
            name: "CommandTests",
            dependencies: ["FTRL"],
            path: "Tests/CommandTests"
        ),
    ],
    swiftLanguageModes: [.v5]
)
