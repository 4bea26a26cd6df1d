import FTRLTestSupport
import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// `ftrl-predict --report`: a self-contained page whose charts parse as
/// XML, whose drawn ROC curve has the area of the AUC the metrics report,
/// whose training curve is the model's, and which headless Chromium renders.
struct ReportTests {
    static let train = Tools.root.appendingPathComponent("data-samples/a9a-train.libsvm.gz").path
    static let test = Tools.root.appendingPathComponent("data-samples/a9a-test.libsvm.gz").path

    /// The `<svg>` elements of a page.
    static func charts(_ page: String) -> [String] {
        var out: [String] = []
        var rest = page[...]
        while let start = rest.range(of: "<svg "), let end = rest[start.upperBound...].range(of: "</svg>") {
            out.append(String(rest[start.lowerBound..<end.upperBound]))
            rest = rest[end.upperBound...]
        }
        return out
    }

    /// The `points` of the polyline with `id` in `svg`, as numbers.
    static func polyline(_ id: String, in svg: String) throws -> [(Double, Double)] {
        let tag = try #require(svg.range(of: "<polyline id=\"\(id)\" points=\""), "no polyline \(id)")
        let list = svg[tag.upperBound...].prefix { $0 != "\"" }
        return try list.split(separator: " ").map { pair in
            let xy = pair.split(separator: ",")
            return (try #require(Double(xy[0])), try #require(Double(xy[1])))
        }
    }

    /// Whether `svg` is well-formed XML.
    static func parses(_ svg: String) -> Bool {
        XMLParser(data: Data(svg.utf8)).parse()
    }

    @Test func theReportDrawsWhatTheMetricsSay() throws {
        let dir = try TemporaryDirectory()
        let model = dir.path("m.ftrl")
        let trained = try Tools.run(
            "ftrl-train", ["--bits", "16", "--metrics-json", dir.path("train.json"), "-q", "-m", model, Self.train])
        #expect(trained.status == 0, "\(trained.stderr)")
        let run = try Tools.run(
            "ftrl-predict", ["-m", model, "--metrics-json", dir.path("m.json"), "--report", dir.path("r.html"), Self.test])
        #expect(run.status == 0, "\(run.stderr)")
        let page = try String(contentsOfFile: dir.path("r.html"), encoding: .utf8)
        // Self-contained: no script, and nothing fetched from anywhere.
        #expect(!page.contains("<script") && !page.contains("src=") && !page.contains("href=") && !page.contains("url("))
        #expect(!page.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").contains("http"))
        let charts = Self.charts(page)
        #expect(charts.count == 4, "ROC, reliability, scores, training curve")
        for svg in charts { #expect(Self.parses(svg), "\(svg.prefix(200))") }
        let metrics = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path("m.json")))) as? [String: Any])
        let auc = try #require(metrics["auc"] as? Double)
        // The area under the drawn ROC polyline (trapezoids) is the AUC.
        let roc = try Self.polyline("roc", in: try #require(charts.first { $0.contains("id=\"roc-chart\"") }))
        #expect(roc.first! == (0, 0) && roc.last! == (1, 1))
        var area = 0.0
        for (a, b) in zip(roc, roc.dropFirst()) {
            #expect(b.0 >= a.0 && b.1 >= a.1, "the curve only rises")
            area += (b.0 - a.0) * (a.1 + b.1) / 2
        }
        #expect(abs(area - auc) < 0.001, "area \(area), AUC \(auc)")
        #expect(page.contains("<td id=\"auc\">\(String(format: "%.6f", auc))</td>"))
        // The reliability points are the calibration table of the metrics.
        let table = try #require(metrics["calibration_table"] as? [[String: Double]])
        let reliability = try Self.polyline("reliability", in: try #require(charts.first { $0.contains("reliability-chart") }))
        #expect(reliability.count == table.count)
        for (p, bucket) in zip(reliability, table) {
            #expect(abs(p.0 - bucket["mean_prediction"]!) < 1e-6 && abs(p.1 - bucket["observed_rate"]!) < 1e-6)
        }
        // The training curve: its points' mean is the progressive logloss of the training run
        // (a9a has 32,561 rows: 254 points of 128, the remainder left out).
        let curve = try Self.polyline("training-curve", in: try #require(charts.first { $0.contains("training-chart") }))
        #expect(curve.count > 100)
        let step = curve[1].0 - curve[0].0
        for (k, p) in curve.enumerated() { #expect(p.0 == step * Double(k + 1)) }
        let trainMetrics = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path("train.json")))) as? [String: Any])
        let progressive = try #require(trainMetrics["logloss"] as? Double)
        let covered = curve.reduce(0.0) { $0 + $1.1 } / Double(curve.count)
        #expect(abs(covered - progressive) < 0.01, "mean of the curve \(covered), progressive logloss \(progressive)")
        // The top features, named from the scored file as `ftrl-model top` names them.
        let top = try Tools.run("ftrl-model", ["top", model, Self.test, "-n", "25", "--json"])
        let features = try #require(
            (try JSONSerialization.jsonObject(with: Data(top.stdout.utf8)) as? [String: Any])?["features"] as? [[String: Any]])
        let topTable = try #require(page.range(of: "<table id=\"top-features\">")).upperBound
        let rows = page[topTable...].components(separatedBy: "<tr><td class=\"name\">").dropFirst()
        #expect(rows.count == 25)
        for (row, f) in zip(rows, features) { #expect(row.hasPrefix("\(f["name"] as? String ?? "?")</td>"), "\(row.prefix(60))") }
        // From standard input the logs cannot be read again: a note instead.
        let piped = try Tools.run(
            "ftrl-predict", ["-m", model, "--report", dir.path("p.html"), "-"], stdin: URL(fileURLWithPath: Self.test))
        #expect(piped.status == 0, "\(piped.stderr)")
        let pipedPage = try String(contentsOfFile: dir.path("p.html"), encoding: .utf8)
        #expect(!pipedPage.contains("top-features") && pipedPage.contains("score files, not standard input"))
    }

    /// Headless Chromium renders the page: a screenshot of the asked size with more than a blank page on it.
    @Test func headlessChromiumRendersThePage() throws {
        let dir = try TemporaryDirectory()
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["--bits", "16", "-q", "-m", model, Self.train]).status == 0)
        #expect(try Tools.run("ftrl-predict", ["-m", model, "--report", dir.path("r.html"), Self.test]).status == 0)
        let chromium = "/usr/bin/chromium"
        #expect(FileManager.default.isExecutableFile(atPath: chromium), "Debian's chromium is needed (make test installs it)")
        let shot = dir.path("r.png")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,1400", "--screenshot=\(shot)",
            "--user-data-dir=\(dir.path("profile"))", "file://\(dir.path("r.html"))",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        // Decode the PNG (zlib and the five row filters) and count the pixels that are not white.
        let decode = """
            import struct, sys, zlib
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
            pos, idat = 8, b''
            while pos < len(data):
                n, kind = struct.unpack('>I4s', data[pos:pos + 8])
                body = data[pos + 8:pos + 8 + n]
                if kind == b'IHDR':
                    width, height, depth, color = struct.unpack('>IIBB', body[:10])
                if kind == b'IDAT':
                    idat += body
                pos += 12 + n
            bpp = {2: 3, 6: 4}[color]
            raw = zlib.decompress(idat)
            stride = width * bpp
            prev = bytearray(stride)
            inked = 0
            for y in range(height):
                f = raw[y * (stride + 1)]
                line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
                for i in range(stride):
                    a = line[i - bpp] if i >= bpp else 0
                    b = prev[i]
                    c = prev[i - bpp] if i >= bpp else 0
                    if f == 1: line[i] = (line[i] + a) & 255
                    elif f == 2: line[i] = (line[i] + b) & 255
                    elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
                    elif f == 4:
                        p = a + b - c
                        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                        line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
                for x in range(0, stride, bpp):
                    if line[x] < 200 or line[x + 1] < 200 or line[x + 2] < 200:
                        inked += 1
                prev = line
            print(width, height, inked)
            """
        let script = try dir.write("png.py", decode)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", script, shot]
        let out = Pipe()
        python.standardOutput = out
        try python.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        let numbers = text.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(numbers.count == 3, "\(text)")
        guard numbers.count == 3 else { return }
        #expect(numbers[0] == 1000 && numbers[1] == 1400, "the window's size")
        // Text, axes and four charts ink well over 2% of a 1000 x 1400 page; a blank one none.
        #expect(numbers[2] > 28_000, "\(numbers[2]) pixels drawn")
    }
}
