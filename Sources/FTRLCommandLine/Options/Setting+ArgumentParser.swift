import ArgumentParser
import FTRL

extension HashKind: ExpressibleByArgument {}
extension InputFormat: ExpressibleByArgument {}
extension NumericTransform: ExpressibleByArgument {}
extension DType: ExpressibleByArgument {}
extension TableLayout: ExpressibleByArgument {}

extension NameSpecification {
    /// The long flag of a setting, from the table of settings.
    public static func setting(_ setting: Setting) -> NameSpecification {
        .customLong(setting.flag!)
    }
}

extension ArgumentHelp {
    /// The help of a setting, from the table of settings, with its default.
    public static func setting(_ setting: Setting) -> ArgumentHelp {
        var text = setting.help
        if setting.documentedDefault != "none" {
            let note = " (default \(setting.documentedDefault))"
            if text.hasSuffix(".") { text.insert(contentsOf: note, at: text.index(before: text.endIndex)) } else { text += note }
        }
        return ArgumentHelp(text, valueName: setting.valueName)
    }
}

extension Setting {
    /// The default as the README shows it.
    var documentedDefault: String {
        switch defaultValue {
        case .null: return "none"
        case .array(let items) where items.isEmpty: return "none"
        case .number(let d) where d == d.rounded() && abs(d) < 1e15: return String(Int64(d))
        case .number(let d): return JSON.format(d)
        case .string(let s): return s
        case .bool(let b): return b ? "on" : "off"
        default: return defaultValue.rendered()
        }
    }
}

/// The README's tables of settings, one per section, made from the table
/// of settings (`ftrl-train --help-settings`).
public enum SettingsTable {
    /// Markdown: per section, each setting's flag, config key, default,
    /// whether `--resume` may change it, and its help.
    public static func markdown() -> String {
        var out: [String] = []
        for section in Setting.Section.allCases {
            let settings = Setting.all.filter { $0.section == section }
            if settings.isEmpty { continue }
            out.append("#### \(section.rawValue)")
            out.append("")
            out.append("| flag | config key | default | on --resume | what it does |")
            out.append("|---|---|---|---|---|")
            for s in settings {
                let flag =
                    s.flag.map { name in
                        s.valueName.hasPrefix("true|false") ? "`--\(name)`, `--no-\(name)`" : "`--\(name) \(s.valueName)`"
                    } ?? ""
                let resume = s.changesMeaning ? "refused" : "may change"
                let cells = [flag, "`\(s.key)`", s.documentedDefault, resume, s.help].map {
                    $0.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
                }
                out.append("| " + cells.joined(separator: " | ") + " |")
            }
            out.append("")
        }
        return out.joined(separator: "\n")
    }
}
