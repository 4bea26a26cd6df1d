// libFuzzer targets, compiled together with the library's sources into one
// module (`make fuzz`), so that they reach the internal parsers. The target
// is chosen by FTRL_FUZZ_TARGET: libsvm, delimited, gzip, model or config.
// Besides "never crash", each checks a property; a violation aborts, which
// libFuzzer reports as a crash with the input that caused it.
import CZlib
import Glibc

/// A line on standard error.
private func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// The target of this process, read once.
private let target: String = {
    guard let name = getenv("FTRL_FUZZ_TARGET") else {
        say("set FTRL_FUZZ_TARGET to libsvm, delimited, gzip, model or config")
        exit(2)
    }
    return String(cString: name)
}()

/// A scratch file for the targets that read paths.
private let scratch: String = {
    var template = Array("/tmp/ftrl-fuzz-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    precondition(fd >= 0)
    close(fd)
    return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}()

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        say("property violated: \(message())")
        abort()
    }
}

private func writeScratch(_ bytes: UnsafeRawBufferPointer) {
    let fd = open(scratch, O_WRONLY | O_TRUNC | O_CREAT, 0o600)
    precondition(fd >= 0)
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        precondition(n > 0)
        done += n
    }
    close(fd)
}

private let hasher = FeatureHasher(kind: .murmur3, seed: 1, bits: 18)

/// LibSVM rows: parsing never crashes, and a read that ends at any byte
/// (the first input byte picks where) parses to the same examples or error.
private func fuzzLibSVM(_ data: [UInt8]) {
    guard let first = data.first else { return }
    let text = Array(data.dropFirst())
    let parser = LibSVMParser(hasher: hasher)
    let parse: ChunkingOracle.Parse = { (t, from, to, block, line) throws(FTRLError) in
        try parser.parse(t, from: from, to: to, into: block, firstLine: line)
    }
    let whole = ChunkingOracle.read(text, format: .libsvm, cut: -1, parse: parse)
    let cut = Int(first) * text.count / 255
    check(ChunkingOracle.read(text, format: .libsvm, cut: cut, parse: parse) == whole, "LibSVM cut at \(cut)")
}

/// CSV or TSV rows (the first byte picks the format, the cut and the
/// numeric transform), with a header line parsed as the reader does: never
/// a crash, and the same result wherever a read ends.
private func fuzzDelimited(_ data: [UInt8]) {
    guard let first = data.first else { return }
    let format: InputFormat = first & 1 == 0 ? .csv : .tsv
    var text = Array(data.dropFirst())
    var schema = InputSchema()
    schema.format = format
    schema.numericTransform = NumericTransform.allCases[Int(first >> 1) % 3]
    schema.numeric = ["n"]
    schema.weight = first & 8 != 0 ? "w" : nil
    var names = ["label", "a", "b", "n"]
    if schema.weight != nil { names.append("w") }
    // A header, when the text starts with one that parses.
    let header =
        text.isEmpty
        ? nil
        : text.withUnsafeBufferPointer { buf in
            try? DelimitedParser.fields(buf.baseAddress!, 0, buf.count, format: format)
        }
    if let parsed = header, parsed.fields.count >= 2, Set(parsed.fields).count == parsed.fields.count {
        names = parsed.fields
        text = Array(text[parsed.next...])
        schema.numeric = []
        schema.weight = nil
        schema.label = names[0]
    }
    guard let columns = try? ResolvedColumns(schema: schema, names: names, named: true) else { return }
    let plan = FieldPlan(schema: schema, columns: columns, present: names.indices.map { $0 }, hashSeed: hasher.seed)
    let parser = DelimitedParser(plan: plan, format: format, hasher: hasher)
    let parse: ChunkingOracle.Parse = { (t, from, to, block, line) throws(FTRLError) in
        try parser.parse(t, from: from, to: to, into: block, firstLine: line)
    }
    let whole = ChunkingOracle.read(text, format: format, cut: -1, parse: parse)
    let cut = Int(first >> 4) * text.count / 15
    check(ChunkingOracle.read(text, format: format, cut: cut, parse: parse) == whole, "\(format) cut at \(cut)")
}

/// Any bytes through the decompressing reader: text, gzip members,
/// garbage; it ends or reports an error, and never reads past its buffers.
private func fuzzGzip(_ data: [UInt8]) {
    data.withUnsafeBytes { writeScratch($0) }
    guard let stream = try? ByteStream(path: scratch) else { return }
    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 4096)
    defer { buffer.deallocate() }
    var total = 0
    while true {
        guard let n = try? stream.read(into: buffer, capacity: 4096) else { return }
        if n == 0 { break }
        total += n
        check(total <= 1 << 30, "more than 1 GiB from \(data.count) bytes")
    }
    // Text that is not compressed reads back as it is.
    if data.count < 2 || data[0] != 0x1F || data[1] != 0x8B {
        check(total == data.count, "plain text of \(data.count) bytes read as \(total)")
    }
}

/// Model files: the checksum is put right first, so that mutations reach
/// the parts behind it. A file that reads can be written back, and what is
/// written reads and writes back to the same bytes.
private func fuzzModel(_ data: [UInt8]) {
    var bytes = data
    if bytes.count >= 8 {
        let crc = bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count - 4))) }
        for k in 0..<4 { bytes[bytes.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * k)) }
    }
    bytes.withUnsafeBytes { writeScratch($0) }
    guard let model = try? ModelFile.read(path: scratch) else { return }
    struct Write: ModelBody {
        let path: String
        func run<F: FTRLScalar>(_ m: Model<F>) throws(FTRLError) { try ModelFile.write(m, to: path) }
    }
    let again = scratch + ".again"
    let twice = scratch + ".twice"
    guard (try? model.open(Write(path: again))) != nil else { return }
    guard let reread = try? ModelFile.read(path: again) else {
        check(false, "a model written back does not read")
        return
    }
    _ = try? reread.open(Write(path: twice))
    let first = try? ModelFile.readAll(path: again)
    let second = try? ModelFile.readAll(path: twice)
    check(first != nil && first == second, "a model read and written back changes when written again")
    unlink(again)
    unlink(twice)
}

/// Config JSON: a config that reads writes back to text that reads to
/// the same config and the same text.
private func fuzzConfig(_ data: [UInt8]) {
    let text = String(decoding: data, as: UTF8.self)
    guard let config = try? FTRLConfig(jsonText: text) else { return }
    _ = try? config.validate()
    let written = config.jsonText
    guard let back = try? FTRLConfig(jsonText: written) else {
        check(false, "written config does not read: \(written)")
        return
    }
    check(back == config, "config changed on a round trip")
    check(back.jsonText == written, "config text changed on a round trip")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    switch target {
    case "libsvm": fuzzLibSVM(bytes)
    case "delimited": fuzzDelimited(bytes)
    case "gzip": fuzzGzip(bytes)
    case "model": fuzzModel(bytes)
    case "config": fuzzConfig(bytes)
    default:
        say("unknown FTRL_FUZZ_TARGET \(target)")
        exit(2)
    }
    return 0
}
