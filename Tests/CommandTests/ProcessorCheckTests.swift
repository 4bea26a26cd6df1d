import CFTRLShims
import FTRLTestSupport
import Foundation
import Testing

/// A build for x86-64-v3 (`make build`, `make test`: TARGET_CPU=haswell)
/// started on an older processor says so and exits 69 before any of its
/// AVX2 code runs; a generic build runs there. The older processor is a
/// Nehalem (2008: SSE4.2, no AVX) emulated by qemu-user, which `make
/// test-deps` installs. Not under the sanitizers: their builds are
/// generic, and their shadow memory does not map under qemu-user.
struct ProcessorCheckTests {
    static let sanitized = ["TSAN_OPTIONS", "ASAN_OPTIONS"].contains { ProcessInfo.processInfo.environment[$0] != nil }

    #if arch(x86_64)
        @Test(
            .disabled(if: sanitized, "a sanitizer's build is generic and does not run under qemu-user"),
            arguments: ["ftrl-train", "ftrl-predict", "ftrl-model"])
        func aProcessorWithoutTheBuildsInstructionsIsToldSo(_ tool: String) throws {
            let qemu = "/usr/bin/qemu-x86_64"
            try #require(FileManager.default.isExecutableFile(atPath: qemu), "\(qemu) is missing: run make test-deps (qemu-user)")
            let binary = Tools.binDirectory.appendingPathComponent(tool).path
            let run = try Tools.runShell("exec \(qemu) -cpu Nehalem '\(binary)' --help")
            if let required = ftrl_required_cpu().map({ String(cString: $0) }) {
                #expect(required == "x86-64-v3")
                #expect(run.status == 69, "\(run.stderr)")
                #expect(run.stderr.hasPrefix("\(tool): error: this build needs an x86-64-v3 processor"), "\(run.stderr)")
                #expect(run.stderr.contains("TARGET_CPU=generic"))
            } else {
                #expect(run.status == 0, "\(run.stderr)")
            }
        }
    #endif
}
