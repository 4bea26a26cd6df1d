import FTRLTestSupport
import Foundation
import Testing

/// Model file version 2 (named sections, a model kind) against version 1:
/// version 1 files written before the change (Tests/Fixtures/model-v1) still
/// load, resume and score, and today's build writes the same numbers for the
/// same input and flags; unknown kinds and versions are refused with the
/// reason, unknown sections skipped.
struct ModelFileVersionTests {
    static let fixtures = Tools.fixtures.appendingPathComponent("model-v1")
    static let mushroom = Tools.root.appendingPathComponent("data-samples/mushroom.libsvm").path

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// The sections of a version 2 file as (name, payload).
    static func sections(_ data: [UInt8]) -> [(String, [UInt8])] {
        var at = 16
        var out: [(String, [UInt8])] = []
        let count = Int(data[12]) | Int(data[13]) << 8
        for _ in 0..<count {
            let nameLength = Int(data[at])
            let name = String(decoding: data[at + 1..<at + 1 + nameLength], as: UTF8.self)
            at += 1 + nameLength
            let length = (0..<8).reduce(0) { $0 | Int(data[at + $1]) << (8 * $1) }
            at += 8
            out.append((name, Array(data[at..<at + length])))
            at += length
        }
        return out
    }

    /// A version `version` file of these sections, with its CRC-32.
    static func file(_ sections: [(String, [UInt8])], version: UInt32 = 2) -> [UInt8] {
        func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { (0..<T.bitWidth / 8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        var out = Array("FTRLMODL".utf8) + le(version) + le(UInt32(sections.count))
        for (name, payload) in sections {
            out += [UInt8(name.utf8.count)] + Array(name.utf8) + le(UInt64(payload.count)) + payload
        }
        return out + le(ModelFileLayoutTests.crc32(out[...]))
    }

    @Test(arguments: [
        ("mushroom.ftrl", ["--bits", "16"]),
        ("mushroom-ema-float64.ftrl", ["--bits", "16", "--ema", "--batch-size", "3", "--dtype", "float64"]),
    ])
    func versionOneStillLoadsAndMatchesWhatIsWrittenNow(_ name: String, _ flags: [String]) throws {
        let dir = try TemporaryDirectory()
        let old = Self.fixtures.appendingPathComponent(name).path
        let new = dir.path("new.ftrl")
        let train = try Tools.run("ftrl-train", ["-q", "-m", new] + flags + [Self.mushroom])
        #expect(train.status == 0, "\(train.stderr)")
        let v1 = try ModelFileLayoutTests.decode(try Self.bytes(old))
        let v2 = try ModelFileLayoutTests.decode(try Self.bytes(new))
        #expect(v1.version == 1 && v2.version == 2)
        // The same numbers, byte for byte, in the new sections.
        #expect(v2.configText == v1.configText)
        #expect(v2.scalarSize == v1.scalarSize)
        #expect(v2.iterations == v1.iterations && v2.examples == v1.examples)
        #expect(v2.bias == v1.bias && v2.biasAverage == v1.biasAverage)
        #expect(v2.slotBytes == v1.slotBytes)
        #expect(!v1.slots.isEmpty)
        // `ftrl-model info` says which version each file is, and the kind.
        #expect(try Tools.run("ftrl-model", ["info", old]).stdout.contains("\"format_version\": 1,\n  \"kind\": \"linear\""))
        #expect(try Tools.run("ftrl-model", ["info", new]).stdout.contains("\"format_version\": 2,\n  \"kind\": \"linear\""))
        // The tools read both alike.
        for view in ["state", "weights"] {
            let a = try Tools.run("ftrl-model", [view, old])
            let b = try Tools.run("ftrl-model", [view, new])
            #expect(a.status == 0 && a.stdout == b.stdout, "\(a.stderr)")
        }
        let scoredOld = try Tools.run("ftrl-predict", ["-m", old, Self.mushroom])
        let scoredNew = try Tools.run("ftrl-predict", ["-m", new, Self.mushroom])
        #expect(scoredOld.status == 0 && scoredOld.stdout == scoredNew.stdout)
        // Resuming a version 1 file writes version 2 with the same state as
        // resuming the new one; only the new one's training curve goes back
        // before the resume (version 1 kept none).
        let one = try dir.write("more.svm", "1 3:1 7:1\n0 9:1\n")
        #expect(try Tools.run("ftrl-train", ["-q", "--resume", old, "-m", dir.path("r1.ftrl"), one]).status == 0)
        #expect(try Tools.run("ftrl-train", ["-q", "--resume", new, "-m", dir.path("r2.ftrl"), one]).status == 0)
        let r1 = Self.sections(try Self.bytes(dir.path("r1.ftrl")))
        let r2 = Self.sections(try Self.bytes(dir.path("r2.ftrl")))
        #expect(r1.filter { $0.0 != "curve" }.map(\.1) == r2.filter { $0.0 != "curve" }.map(\.1))
        let curve1 = try #require(r1.first { $0.0 == "curve" }?.1)
        #expect(curve1[8] == 2 && curve1[24] == 0, "two examples pending, no point")
        #expect(r2.first { $0.0 == "curve" }.map { $0.1.count > 32 } == true, "the new model's points go on")
    }

    /// A kind, a version or a missing section this build does not know is
    /// refused with the reason (65); a section it does not know is skipped.
    @Test func unknownKindVersionAndSections() throws {
        let dir = try TemporaryDirectory()
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "16", "-m", model, Self.mushroom]).status == 0)
        let sections = Self.sections(try Self.bytes(model))
        #expect(sections.map(\.0) == ["kind", "config", "counters", "bias", "slots", "curve"])
        #expect(Self.file(sections) == (try Self.bytes(model)))  // the rebuilder is faithful

        let fm = try dir.write("fm.ftrl", bytes: Self.file(sections.map { $0.0 == "kind" ? ($0.0, Array("fm".utf8)) : $0 }))
        let refusedKind = try Tools.run("ftrl-predict", ["-m", fm, Self.mushroom])
        #expect(refusedKind.status == 65)
        #expect(refusedKind.stderr.contains("model kind \"fm\"; this build knows linear"), "\(refusedKind.stderr)")

        let v3 = try dir.write("v3.ftrl", bytes: Self.file(sections, version: 3))
        let refusedVersion = try Tools.run("ftrl-model", ["info", v3])
        #expect(refusedVersion.status == 65)
        #expect(refusedVersion.stderr.contains("format version 3; this build reads versions 1 to 2"), "\(refusedVersion.stderr)")

        let noSlots = try dir.write("noslots.ftrl", bytes: Self.file(sections.filter { $0.0 != "slots" }))
        let refusedMissing = try Tools.run("ftrl-model", ["state", noSlots])
        #expect(refusedMissing.status == 65)
        #expect(refusedMissing.stderr.contains("it has no slots section"), "\(refusedMissing.stderr)")

        let twice = try dir.write("twice.ftrl", bytes: Self.file(sections + [sections[0]]))
        #expect(try Tools.run("ftrl-model", ["state", twice]).stderr.contains("section kind appears twice"))

        let extra = try dir.write("extra.ftrl", bytes: Self.file(sections + [("training_curve", [1, 2, 3])]))
        let skipped = try Tools.run("ftrl-model", ["state", extra])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stdout == (try Tools.run("ftrl-model", ["state", model])).stdout)

        // The curve is optional (files written before it load), and checked when present.
        let noCurve = try dir.write("nocurve.ftrl", bytes: Self.file(sections.filter { $0.0 != "curve" }))
        #expect(try Tools.run("ftrl-model", ["state", noCurve]).stdout == (try Tools.run("ftrl-model", ["state", model])).stdout)
        var curve = try #require(sections.first { $0.0 == "curve" }?.1)
        curve[8...15] = [0xE8, 0x03, 0, 0, 0, 0, 0, 0]  // 1,000 examples pending in an interval of 100
        let badCurve = try dir.write("badcurve.ftrl", bytes: Self.file(sections.map { $0.0 == "curve" ? ($0.0, curve) : $0 }))
        let refusedCurve = try Tools.run("ftrl-predict", ["-m", badCurve, Self.mushroom])
        #expect(refusedCurve.status == 65)
        #expect(refusedCurve.stderr.contains("the curve section holds numbers no training records"), "\(refusedCurve.stderr)")
        let cut = try dir.write("cutcurve.ftrl", bytes: Self.file(sections.map { $0.0 == "curve" ? ($0.0, Array(curve.dropLast(8))) : $0 }))
        #expect(try Tools.run("ftrl-model", ["info", cut]).stderr.contains("the curve section does not hold the points it promises"))
    }
}
