import FTRL

extension TopFeatures {
    /// The features as an aligned table for a terminal: rank, weight, rows,
    /// name, and the other names of the slot with their rows; names shown
    /// with control characters escaped (they come from the logs).
    public var table: [String] {
        let names = features.map { terminalSafe($0.name) }
        let width = min(48, max(7, names.map(\.count).max() ?? 0))
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, n - s.count))
            return left ? fill + s : s + fill
        }
        var lines = [
            pad("rank", 5) + pad("weight", 11, left: true) + pad("rows", 11, left: true) + "  " + pad("feature", width)
                + "  sharing the slot"
        ]
        for (k, f) in features.enumerated() {
            var shared = f.collisions.map { "\(terminalSafe($0.name)) (\(grouped($0.count)))" }
            if f.unnamedCount > 0 { shared.append("\(grouped(f.unnamedCount)) rows of other names") }
            let sign = f.weight >= 0 ? "+" : ""
            lines.append(
                pad("\(k + 1)", 5) + pad(sign + fixed(f.weight, 6), 11, left: true) + pad(grouped(f.count), 11, left: true) + "  "
                    + pad(names[k], width) + "  " + shared.joined(separator: ", "))
        }
        lines.append(
            "bias \(fixed(bias, 6)); \(grouped(rows)) rows read"
                + (unnamedSlots > 0 ? "; \(grouped(unnamedSlots)) weighted slots in no row" : ""))
        return lines
    }
}
