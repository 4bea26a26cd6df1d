import Glibc

/// One chart as inline SVG: axes with ticks and labels, and marks in data
/// coordinates. Lines and bars are drawn inside a group whose transform maps
/// data coordinates to the plot box (strokes keep their width), so the
/// numbers in a polyline's `points` are the data themselves: a reader (or a
/// test) can take the curve back out of the page.
struct SVGPlot {
    let width = 440.0
    let height = 330.0
    private let left = 58.0
    private let right = 14.0
    private let top = 30.0
    private let bottom = 46.0
    let x: ClosedRange<Double>
    let y: ClosedRange<Double>
    private var data = ""
    private var overlay = ""

    init(x: ClosedRange<Double>, y: ClosedRange<Double>) {
        self.x = x
        self.y = y.lowerBound < y.upperBound ? y : y.lowerBound...(y.lowerBound + 1)
    }

    private var plotWidth: Double { width - left - right }
    private var plotHeight: Double { height - top - bottom }

    /// The pixel position of a data point.
    func pixel(_ px: Double, _ py: Double) -> (Double, Double) {
        (
            left + (px - x.lowerBound) / (x.upperBound - x.lowerBound) * plotWidth,
            top + plotHeight - (py - y.lowerBound) / (y.upperBound - y.lowerBound) * plotHeight
        )
    }

    /// A polyline through `points` (data coordinates).
    mutating func line(_ points: [(Double, Double)], id: String? = nil, color: String, width: Double = 2, dashed: Bool = false) {
        let list = points.map { "\(Self.number($0.0)),\(Self.number($0.1))" }.joined(separator: " ")
        data +=
            "<polyline\(id.map { " id=\"\($0)\"" } ?? "") points=\"\(list)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\""
            + (dashed ? " stroke-dasharray=\"5 4\"" : "") + " vector-effect=\"non-scaling-stroke\"/>\n"
    }

    /// A bar from `x0` to `x1`, from 0 up to `height` (data coordinates).
    mutating func bar(_ x0: Double, _ x1: Double, _ height: Double, color: String, opacity: Double) {
        guard height > 0 else { return }
        data +=
            "<rect x=\"\(Self.number(x0))\" y=\"0\" width=\"\(Self.number(x1 - x0))\" height=\"\(Self.number(height))\" "
            + "fill=\"\(color)\" fill-opacity=\"\(opacity)\"/>\n"
    }

    /// A dot at a data point, with a tooltip.
    mutating func dot(_ px: Double, _ py: Double, radius: Double, color: String, title: String) {
        let (cx, cy) = pixel(px, py)
        overlay +=
            "<circle cx=\"\(Self.number(cx))\" cy=\"\(Self.number(cy))\" r=\"\(Self.number(radius))\" fill=\"\(color)\" "
            + "fill-opacity=\"0.8\"><title>\(HTML.escape(title))</title></circle>\n"
    }

    /// Text at a data point, in pixels from it.
    mutating func text(_ s: String, at px: Double, _ py: Double, dx: Double = 0, dy: Double = 0, anchor: String = "start") {
        let (tx, ty) = pixel(px, py)
        overlay +=
            "<text x=\"\(Self.number(tx + dx))\" y=\"\(Self.number(ty + dy))\" font-size=\"11\" text-anchor=\"\(anchor)\">"
            + "\(HTML.escape(s))</text>\n"
    }

    /// A legend entry in the top left corner of the plot, `row` from the top.
    mutating func legend(_ s: String, color: String, row: Int) {
        let ly = top + 14 + Double(row) * 16
        overlay +=
            "<rect x=\"\(Self.number(left + 10))\" y=\"\(Self.number(ly - 9))\" width=\"12\" height=\"10\" fill=\"\(color)\"/>"
            + "<text x=\"\(Self.number(left + 27))\" y=\"\(Self.number(ly))\" font-size=\"12\">\(HTML.escape(s))</text>\n"
    }

    /// The chart as an `<svg>` element.
    func rendered(id: String, title: String, xLabel: String, yLabel: String) -> String {
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"\(id)\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" "
            + "viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\" font-family=\"sans-serif\">\n"
        out += "<title>\(HTML.escape(title))</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" fill=\"white\"/>\n"
        out +=
            "<text x=\"\(Self.number(width / 2))\" y=\"18\" font-size=\"14\" text-anchor=\"middle\" font-weight=\"bold\">"
            + "\(HTML.escape(title))</text>\n"
        // Grid, ticks and tick labels.
        for t in Self.ticks(x) {
            let (px, _) = pixel(t, y.lowerBound)
            out +=
                "<line x1=\"\(Self.number(px))\" y1=\"\(Self.number(top))\" x2=\"\(Self.number(px))\" "
                + "y2=\"\(Self.number(top + plotHeight))\" stroke=\"#e4e4e4\"/>"
                + "<text x=\"\(Self.number(px))\" y=\"\(Self.number(top + plotHeight + 15))\" font-size=\"11\" "
                + "text-anchor=\"middle\">\(Self.label(t))</text>\n"
        }
        for t in Self.ticks(y) {
            let (_, py) = pixel(x.lowerBound, t)
            out +=
                "<line x1=\"\(Self.number(left))\" y1=\"\(Self.number(py))\" x2=\"\(Self.number(left + plotWidth))\" "
                + "y2=\"\(Self.number(py))\" stroke=\"#e4e4e4\"/>"
                + "<text x=\"\(Self.number(left - 5))\" y=\"\(Self.number(py + 4))\" font-size=\"11\" "
                + "text-anchor=\"end\">\(Self.label(t))</text>\n"
        }
        out +=
            "<rect x=\"\(Self.number(left))\" y=\"\(Self.number(top))\" width=\"\(Self.number(plotWidth))\" "
            + "height=\"\(Self.number(plotHeight))\" fill=\"none\" stroke=\"#555\"/>\n"
        out +=
            "<text x=\"\(Self.number(left + plotWidth / 2))\" y=\"\(Self.number(height - 8))\" font-size=\"12\" "
            + "text-anchor=\"middle\">\(HTML.escape(xLabel))</text>\n"
        out +=
            "<text x=\"14\" y=\"\(Self.number(top + plotHeight / 2))\" font-size=\"12\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 14 \(Self.number(top + plotHeight / 2)))\">\(HTML.escape(yLabel))</text>\n"
        // Data coordinates: x0..x1 onto the box's width, y0..y1 onto its height, upwards.
        let sx = plotWidth / (x.upperBound - x.lowerBound)
        let sy = plotHeight / (y.upperBound - y.lowerBound)
        out +=
            "<g class=\"data\" transform=\"translate(\(Self.number(left)) \(Self.number(top + plotHeight))) "
            + "scale(\(Self.number(sx)) \(Self.number(-sy))) translate(\(Self.number(-x.lowerBound)) \(Self.number(-y.lowerBound)))\">\n"
        out += data
        out += "</g>\n" + overlay + "</svg>"
        return out
    }

    /// About five round tick values across `range`.
    static func ticks(_ range: ClosedRange<Double>) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [range.lowerBound] }
        let raw = span / 5
        let magnitude = pow10(floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var t = (range.lowerBound / step).rounded(.up) * step
        var out: [Double] = []
        while t <= range.upperBound + step * 1e-9 {
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    private static func pow10(_ e: Double) -> Double { exp(e * log(10)) }

    /// A tick label: at most 4 significant digits, no trailing zeros.
    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e5 || abs(v) < 1e-4 { return String(format4: v) }
        var s = String(Double(String(format4: v)) ?? v)
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }

    /// A coordinate with at most 6 decimals.
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let r = (v * 1e6).rounded() / 1e6
        var s = "\(r)"
        if s.hasSuffix(".0") { s.removeLast(2) }
        if s.contains("e") { s = r == 0 ? "0" : "\(Double(Int((r * 1e6).rounded())) / 1e6)" }
        return s
    }
}

extension String {
    /// `v` with 4 significant digits (`%.4g`).
    init(format4 v: Double) {
        var buffer = [CChar](repeating: 0, count: 32)
        _ = withVaList([v]) { vsnprintf(&buffer, 32, "%.4g", $0) }
        self = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Escaping text for HTML and SVG.
enum HTML {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters cannot appear in XML text.
                if c.value < 0x20 && c != "\n" && c != "\t" {
                    out += "\\x" + String(c.value, radix: 16)
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out
    }
}
