import FTRL
import FTRLTestSupport
import Foundation
import Testing

/// What the table of settings gives the command line: a flag in `--help`
/// for every setting that has one, the README's tables, and `--resume`
/// refusing every setting that changes what a stored model means.
struct SettingsCommandTests {
    /// The flags that give `setting` its sample value.
    static func flags(for setting: Setting) -> [String] {
        let flag = "--" + setting.flag!
        switch setting.sample {
        case .bool(let b): return [b ? flag : "--no-" + setting.flag!]
        case .number(let d): return [flag + "=" + (d == d.rounded() ? String(Int64(d)) : "\(d)")]
        case .string(let s): return [flag + "=" + s]
        case .array(let items):
            return [flag + "=" + items.map { if case .string(let s) = $0 { return s } else { return "" } }.joined(separator: ",")]
        default: return [flag]
        }
    }

    static let flagged = Setting.all.filter { $0.flag != nil }.map(\.key)
    static let meaning = Setting.all.filter { $0.flag != nil && $0.changesMeaning }.map(\.key)
    static let free = Setting.all.filter { $0.flag != nil && !$0.changesMeaning }.map(\.key)

    /// A trained LibSVM model to resume.
    static func baseModel(_ dir: TemporaryDirectory) throws -> (model: String, data: String) {
        let data = try dir.write("d.svm", PipelineTests.sampleLog(rows: 200))
        let model = dir.path("base.ftrl")
        let run = try Tools.run("ftrl-train", ["-q", "--bits", "12", "-m", model, data])
        #expect(run.status == 0, "\(run.stderr)")
        return (model, data)
    }

    /// Each meaning-changing setting given on `--resume` is refused by its
    /// key (64) before anything is read or written.
    @Test(arguments: meaning)
    func meaningChangingKeyIsRefusedOnResume(_ key: String) throws {
        let setting = try #require(Setting.named(key))
        let dir = try TemporaryDirectory()
        let (model, data) = try Self.baseModel(dir)
        let out = dir.path("out.ftrl")
        let run = try Tools.run("ftrl-train", ["-q", "--resume", model, "-m", out] + Self.flags(for: setting) + [data])
        #expect(run.status == 64, "\(Self.flags(for: setting)): \(run.stderr)")
        #expect(run.stderr.contains("cannot change \(key)"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// The other settings may change on `--resume`, and the run says so.
    @Test(arguments: free)
    func otherKeysMayChangeOnResume(_ key: String) throws {
        let setting = try #require(Setting.named(key))
        let dir = try TemporaryDirectory()
        let (model, data) = try Self.baseModel(dir)
        let out = dir.path("out.ftrl")
        let run = try Tools.run("ftrl-train", ["--resume", model, "-m", out] + Self.flags(for: setting) + [data])
        #expect(run.status == 0, "\(Self.flags(for: setting)): \(run.stderr)")
        #expect(run.stderr.contains("resuming with \(key) overridden"), "\(run.stderr)")
        let info = try Tools.run("ftrl-model", ["info", out])
        let json = try JSON.parse(info.stdout)
        #expect(json["config"]?[key] == setting.sample, "\(info.stdout)")
    }

    /// Every flag of the table is in `--help`, under its section's title,
    /// and the sections come in the table's order.
    @Test func helpReadsInSections() throws {
        let help = try Tools.run("ftrl-train", ["--help"]).stdout
        var last = help.startIndex
        for section in Setting.Section.allCases {
            let title = section.rawValue.uppercased() + ":"
            let at = try #require(help.range(of: title), "no section \(title)")
            #expect(at.lowerBound >= last, "\(title) out of order")
            last = at.lowerBound
            let body = help[at.upperBound...].prefix { _ in true }
            let end = body.range(of: "\n\n")?.lowerBound ?? body.endIndex
            for setting in Setting.all where setting.section == section {
                guard let flag = setting.flag else { continue }
                #expect(
                    body[..<end].contains("--\(flag) ") || body[..<end].contains("--\(flag)/") || body[..<end].contains("--\(flag)\n"),
                    "--\(flag) not under \(title)")
            }
        }
    }

    /// `--print-config` prints every key of the table, and the README's
    /// tables of settings are `--help-settings` as it prints them now.
    @Test func printedConfigAndREADMETables() throws {
        let printed = try Tools.run("ftrl-train", ["--print-config"])
        let json = try JSON.parse(printed.stdout)
        guard case .object(let members) = json else {
            Issue.record("not an object: \(printed.stdout)")
            return
        }
        #expect(members.map(\.0) == Setting.all.map(\.key))
        let tables = try Tools.run("ftrl-train", ["--help-settings"])
        #expect(tables.status == 0)
        let readme = try String(contentsOf: Tools.root.appendingPathComponent("README.md"), encoding: .utf8)
        let begin = "<!-- settings: made by `ftrl-train --help-settings`; a test keeps them equal -->\n"
        let start = try #require(readme.range(of: begin), "README has no generated settings tables")
        let stop = try #require(readme.range(of: "<!-- settings end -->", range: start.upperBound..<readme.endIndex))
        #expect(
            String(readme[start.upperBound..<stop.lowerBound]) == tables.stdout,
            "regenerate the README's tables with ftrl-train --help-settings")
    }
}
