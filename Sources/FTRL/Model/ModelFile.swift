import CFTRLShims
import CISAL
import CZlib
import Glibc

/// Reads and writes model files.
///
/// Layout of version 2, the one written (all integers little-endian; `F` is
/// 4 or 8 bytes by dtype):
///
///     8 bytes   magic "FTRLMODL"
///     u32       format version (2)
///     u32       S, the number of sections
///     S x       u8 name length N, N bytes name (ASCII), u64 payload length P, P bytes payload
///     u32       CRC-32 (zlib) of every byte before it
///
/// The sections, in this order:
///
///     kind      the model kind as UTF-8: "linear" (logistic regression)
///     config    the config as JSON (UTF-8), every key of the table of settings
///     counters  u32 scalar size (4 = float32, 8 = float64), u64 iterations, u64 examples consumed
///     bias      F w, F n, F z; with EMA (use_ema in the config) also F average
///     slots     u64 K, the number of kernel slots ever active, then K x
///               u32 slot, F w, F n, F z (ascending slots);
///               with EMA also: F average, u64 step it was last brought to
///
/// and one optional section, written only by `ftrl-model merge --rule average`:
///
///     merged    u32 how many shards the bias averages, u64 M, then M x
///               u32 slot, u32 shards (ascending slots; only slots whose
///               count is not 1), so that merging merged models in a tree
///               weighs each shard once and recovers the sums of their
///               changes (see `ModelMerge`)
///
/// and one optional section, written when the model recorded its training:
///
///     curve     u64 interval, u64 examples and f64 logloss sum of the
///               interval in progress, u64 N, then N x u64 examples,
///               f64 mean logloss (see `TrainingCurve`)
///
/// A reader refuses a version or a kind it does not know, and a file
/// without one of these sections; it skips a section whose name it does not
/// know, so that a later version can add optional ones. Version 1 files
/// (the same numbers after a fixed header: magic, version, scalar size,
/// config length and config, iterations, examples, K, bias, slots, CRC)
/// still load.
///
/// Only slots that were ever active are stored, so a model of a small log is
/// small whatever `bits` is. Writing goes through `AtomicFile`: a fresh
/// temporary file in the same folder, renamed over the target only when
/// complete and synced.
public enum ModelFile {
    static let magic: [UInt8] = Array("FTRLMODL".utf8)
    /// The format version this build writes.
    public static let version: UInt32 = 2
    /// The versions this build reads.
    public static let readableVersions: ClosedRange<UInt32> = 1...2
    /// The model kinds this build reads and writes.
    public static let kinds = ["linear"]

    /// Writes `model` to `path` atomically.
    /// - Throws: `FTRLError` (.io) when the file cannot be written; `path` is then untouched.
    /// - Parameter mergeCounts: written as the `merged` section when given
    ///   (by a merge; training never carries it on).
    public static func write<F: FTRLScalar>(_ model: Model<F>, to path: String, mergeCounts: MergeCounts? = nil) throws(FTRLError) {
        precondition(!model.isFinalizedForScoring, "a model finalized for scoring is not a training state")
        let target = try AtomicFile.target(of: path, role: "the model path")
        let (fd, temporary) = try AtomicFile.createTemporary(beside: target, reportAs: path)
        let writer = FileWriter(fd: fd, reportAs: path)
        do throws(FTRLError) {
            let scalar = MemoryLayout<F>.size
            let ema = model.config.useEMA
            let table = model.table
            let slotRecord = 4 + 3 * scalar + (table.hasEMA ? scalar + 8 : 0)
            // A big dense table's records made by two threads (`PairedRecords`);
            // any other table's written as they are found.
            let paired = !table.isSparse && table.slotCount >= PairedRecords.minimumSlots
            func section(_ name: String, _ length: Int) {
                writer.bytes([UInt8(name.utf8.count)] + Array(name.utf8))
                writer.u64(UInt64(length))
            }
            writer.bytes(magic)
            writer.u32(version)
            let curve = model.curve
            writer.u32(5 + (mergeCounts == nil ? 0 : 1) + (curve.isEmpty ? 0 : 1))
            let kind = Array(model.kind.utf8)
            section("kind", kind.count)
            writer.bytes(kind)
            let config = Array(model.config.jsonText.utf8)
            section("config", config.count)
            writer.bytes(config)
            section("counters", 4 + 8 + 8)
            writer.u32(UInt32(scalar))
            writer.u64(model.iterations)
            writer.u64(model.examples)
            section("bias", (ema ? 4 : 3) * scalar)
            writer.scalar(model.bias.w)
            writer.scalar(model.bias.n)
            writer.scalar(model.bias.z)
            if ema { writer.scalar(model.biasAverage) }
            if paired {
                // The count, and so the section's length, known once the
                // records are written: one pass over the table, not two.
                writer.bytes([UInt8("slots".utf8.count)] + Array("slots".utf8))
                writer.deferBytes(16)
                let written = PairedRecords.write(table, to: writer, slotRecord: slotRecord)
                writer.fill(littleEndianBytes(UInt64(8 + written * slotRecord)) + littleEndianBytes(UInt64(written)))
            } else {
                let active = table.activeRows()
                section("slots", 8 + active.count * slotRecord)
                writer.u64(UInt64(active.count))
                // Records in runs that fill the writer's buffer, written through
                // a local pointer (the writer's own fields once per run).
                var rows = active.makeIterator()
                var remaining = active.count
                let perRun = FileWriter.runCapacity / slotRecord
                while remaining > 0 {
                    let n = min(remaining, perRun)
                    var record = FileWriter.Cursor(writer.reserve(n * slotRecord))
                    for _ in 0..<n {
                        guard let (s, row) = rows.next() else { preconditionFailure("fewer active rows than counted") }
                        record.slot(s, row: row, of: table)
                    }
                    remaining -= n
                }
            }
            if let mergeCounts {
                let counted = mergeCounts.slots.sorted { $0.key < $1.key }
                section("merged", 4 + 8 + counted.count * 8)
                writer.u32(mergeCounts.bias)
                writer.u64(UInt64(counted.count))
                for (slot, count) in counted {
                    writer.u32(slot)
                    writer.u32(count)
                }
            }
            if !curve.isEmpty {
                section("curve", 32 + curve.points.count * 16)
                writer.u64(curve.interval)
                writer.u64(curve.pendingCount)
                writer.scalar(curve.pendingSum)
                writer.u64(UInt64(curve.points.count))
                for p in curve.points {
                    writer.u64(p.examples)
                    writer.scalar(p.logLoss)
                }
            }
            try writer.finish()
        } catch {
            unlink(temporary)
            throw error
        }
        try AtomicFile.commit(temporary, to: target, reportAs: path)
    }

    /// Where the parts of a model file are, once its header or sections were read.
    private struct Layout {
        var version: UInt32
        var kind = "linear"
        var configText = ""
        var scalarSize = 0
        var iterations: UInt64 = 0
        var examples: UInt64 = 0
        var biasOffset = 0
        var biasLength: Int?
        var slotCount: UInt64 = 0
        var slotsOffset = 0
        var slotsLength: Int?
        var mergeCounts: MergeCounts?
        var curve = TrainingCurve()
    }

    /// Reads a model file, checking its magic, version, kind, sizes and checksum.
    /// - Throws: `FTRLError`: .noInput when it cannot be opened, .data when it is not a sound model file.
    /// - Parameter compact: for a model read only to score: the nonzero
    ///   weights of a model without EMA go into `Model.compact` instead of
    ///   the dense table (memory for its slots, not 2^bits).
    /// - Parameter table: the table to load the slots into (`auto`: by the model's size).
    public static func read(path: String, compact: Bool = false, table: TableLayout = .auto) throws(FTRLError) -> AnyModel {
        let bytes = try readAll(path: path)
        func refuse(_ why: String) -> FTRLError { FTRLError(.data, "not a usable model file: \(why)", path: path) }
        var r = ByteReader(bytes: bytes)
        guard bytes.count >= 8, Array(bytes[0..<8]) == magic else {
            throw refuse("it does not start with the ftrl model magic (is it a model written by ftrl-train?)")
        }
        r.offset = 8
        guard let v = r.u32() else { throw refuse("truncated header") }
        guard readableVersions.contains(v) else {
            throw refuse(
                "format version \(v); this build reads versions \(readableVersions.lowerBound) to \(readableVersions.upperBound) (a newer ftrl wrote it?)"
            )
        }
        guard bytes.count >= 16 else { throw refuse("truncated") }
        let stored =
            UInt32(bytes[bytes.count - 4]) | UInt32(bytes[bytes.count - 3]) << 8
            | UInt32(bytes[bytes.count - 2]) << 16 | UInt32(bytes[bytes.count - 1]) << 24
        // ISA-L's CRC-32 is zlib's (the writer's) bit for bit, several times as fast.
        let computed = bytes.withUnsafeBufferPointer { buf in
            crc32_gzip_refl(0, buf.baseAddress, UInt64(buf.count - 4))
        }
        var layout: Layout
        if v == 1 { layout = try readVersion1(&r, bytes.count, refuse) } else { layout = try readSections(&r, bytes.count, refuse) }
        guard ModelFile.kinds.contains(layout.kind) else {
            throw refuse("model kind \"\(layout.kind)\"; this build knows \(kinds.joined(separator: ", ")) (a newer ftrl wrote it?)")
        }
        let size = layout.scalarSize
        guard size == 4 || size == 8 else { throw refuse("bad scalar size \(size)") }
        let config: FTRLConfig
        do throws(FTRLError) {
            config = try FTRLConfig(jsonText: layout.configText)
        } catch {
            throw refuse(stored == computed ? "bad config: \(error.message)" : "checksum mismatch (the file is corrupted)")
        }
        let ema = config.useEMA
        let slotSize = 4 + 3 * size + (ema ? size + 8 : 0)
        let biasSize = (ema ? 4 : 3) * size
        let count = layout.slotCount
        if v == 1 {
            layout.slotsOffset = layout.biasOffset + biasSize
            let expected = layout.biasOffset + biasSize + Int(min(count, UInt64(Int32.max))) * slotSize + 4
            if count > UInt64(bytes.count) || bytes.count < expected {
                throw refuse("truncated: \(bytes.count) bytes where the header promises \(expected)")
            }
            if bytes.count > expected { throw refuse("\(bytes.count - expected) unexpected bytes at the end") }
        } else {
            guard layout.biasLength == biasSize else {
                throw refuse("the bias section holds \(layout.biasLength ?? 0) bytes, not \(biasSize)")
            }
            guard count <= UInt64(bytes.count), layout.slotsLength == 8 + Int(count) * slotSize else {
                throw refuse("the slots section does not hold the \(count) slots it promises")
            }
        }
        guard stored == computed else { throw refuse("checksum mismatch (the file is corrupted)") }
        guard (config.dtype == .float32) == (size == 4) else { throw refuse("dtype \(config.dtype) does not match \(size)-byte numbers") }
        func load<F: FTRLScalar>(_: F.Type) throws(FTRLError) -> Model<F> {
            let model = try Model<F>(config: config, layout: table)
            model.fileVersion = layout.version
            model.iterations = layout.iterations
            model.examples = layout.examples
            model.mergeCounts = layout.mergeCounts
            model.curve = layout.curve
            r.offset = layout.biasOffset
            model.bias.w = r.scalar()
            model.bias.n = r.scalar()
            model.bias.z = r.scalar()
            if ema { model.biasAverage = r.scalar() }
            guard sound(model.bias.w, model.bias.n, model.bias.z, ema ? model.biasAverage : 0) else {
                throw refuse("the bias holds a non-finite number or a negative accumulator")
            }
            r.offset = layout.slotsOffset
            // Sized for the nonzero weights (an L1 model may keep 1 in 20), not every slot.
            let weights =
                compact && !ema
                ? CompactWeights<F>(count: nonzeroWeights(bytes, at: layout.slotsOffset, count: Int(count), stride: slotSize, scalar: size))
                : nil
            var previous = -1
            for _ in 0..<Int(count) {
                let slot = Int(r.u32()!)
                guard slot > previous, slot < model.table.slotCount else {
                    throw refuse("slot \(slot) out of order or beyond 2^\(config.bits)")
                }
                previous = slot
                let w: F = r.scalar()
                let n: F = r.scalar()
                let z: F = r.scalar()
                if model.table.hasEMA {
                    let average: F = r.scalar()
                    guard sound(w, n, z, average) else {
                        throw refuse("slot \(slot) holds a non-finite number or a negative accumulator")
                    }
                    let step = r.u64()!
                    guard step >= 1, step <= layout.iterations, step <= EMARule<F>.maxSteps else {
                        throw refuse("slot \(slot) has EMA step \(step), outside 1...\(layout.iterations)")
                    }
                    try model.table.restore(slot: slot, w: w, n: n, z: z, average: average, step: UInt32(step))
                } else {
                    guard sound(w, n, z, 0) else {
                        throw refuse("slot \(slot) holds a non-finite number or a negative accumulator")
                    }
                    if let weights {
                        if w != 0 { weights.insert(UInt32(slot), w) }
                    } else {
                        try model.table.restore(slot: slot, w: w, n: n, z: z)
                    }
                }
            }
            if let weights { model.compact = weights }
            return model
        }
        return size == 4 ? .float32(try load(Float.self)) : .float64(try load(Double.self))
    }

    /// The fixed header of version 1: scalar size, config, counters, then the bias and the slots.
    private static func readVersion1(_ r: inout ByteReader, _ total: Int, _ refuse: (String) -> FTRLError) throws(FTRLError) -> Layout {
        var layout = Layout(version: 1)
        guard let size = r.u32(), let configLength = r.u32() else { throw refuse("truncated header") }
        guard Int(configLength) <= total - r.offset else { throw refuse("truncated (config cut short)") }
        layout.scalarSize = Int(size)
        layout.configText = String(decoding: r.bytes[r.offset..<r.offset + Int(configLength)], as: UTF8.self)
        r.offset += Int(configLength)
        guard let iterations = r.u64(), let examples = r.u64(), let count = r.u64() else { throw refuse("truncated header") }
        layout.iterations = iterations
        layout.examples = examples
        layout.slotCount = count
        layout.biasOffset = r.offset
        // The slots follow the bias, whose size the config decides.
        layout.slotsOffset = -1
        return layout
    }

    /// The named sections of version 2.
    private static func readSections(_ r: inout ByteReader, _ total: Int, _ refuse: (String) -> FTRLError) throws(FTRLError) -> Layout {
        var layout = Layout(version: 2)
        guard let sections = r.u32() else { throw refuse("truncated header") }
        var seen: Set<String> = []
        let end = total - 4
        for _ in 0..<sections {
            guard r.offset < end else { throw refuse("truncated: \(sections) sections promised, \(seen.count) found") }
            let nameLength = Int(r.bytes[r.offset])
            r.offset += 1
            guard nameLength > 0, r.offset + nameLength + 8 <= end else { throw refuse("truncated section header") }
            let name = String(decoding: r.bytes[r.offset..<r.offset + nameLength], as: UTF8.self)
            r.offset += nameLength
            let length64 = r.u64()!
            guard length64 <= UInt64(end - r.offset) else { throw refuse("truncated: section \(name) is cut short") }
            let length = Int(length64)
            guard seen.insert(name).inserted else { throw refuse("section \(name) appears twice") }
            let start = r.offset
            var s = ByteReader(bytes: r.bytes, offset: start)
            switch name {
            case "kind":
                layout.kind = String(decoding: r.bytes[start..<start + length], as: UTF8.self)
            case "config":
                layout.configText = String(decoding: r.bytes[start..<start + length], as: UTF8.self)
            case "counters":
                guard length == 20, let size = s.u32(), let iterations = s.u64(), let examples = s.u64() else {
                    throw refuse("the counters section holds \(length) bytes, not 20")
                }
                layout.scalarSize = Int(size)
                layout.iterations = iterations
                layout.examples = examples
            case "bias":
                layout.biasOffset = start
                layout.biasLength = length
            case "slots":
                guard length >= 8, let count = s.u64() else { throw refuse("the slots section is too short") }
                layout.slotCount = count
                layout.slotsOffset = start + 8
                layout.slotsLength = length
            case "merged":
                guard length >= 12, let bias = s.u32(), let m = s.u64(), m <= UInt64(length), length == 12 + Int(m) * 8 else {
                    throw refuse("the merged section does not hold the counts it promises")
                }
                var counts = MergeCounts(bias: bias)
                for _ in 0..<m {
                    let slot = s.u32()!
                    counts.slots[slot] = s.u32()!
                }
                layout.mergeCounts = counts
            case "curve":
                guard length >= 32, let interval = s.u64(), let pendingCount = s.u64() else {
                    throw refuse("the curve section is too short")
                }
                let pendingSum: Double = s.scalar()
                guard let n = s.u64(), n <= UInt64(length), length == 32 + Int(n) * 16 else {
                    throw refuse("the curve section does not hold the points it promises")
                }
                var points: [TrainingCurve.Point] = []
                for _ in 0..<n {
                    let examples = s.u64()!
                    points.append(TrainingCurve.Point(examples: examples, logLoss: s.scalar()))
                }
                guard let curve = TrainingCurve(interval: interval, pendingSum: pendingSum, pendingCount: pendingCount, points: points)
                else {
                    throw refuse("the curve section holds numbers no training records")
                }
                layout.curve = curve
            default:
                break  // a section of a later version: not needed to load the model
            }
            r.offset = start + length
        }
        if r.offset != end { throw refuse("\(end - r.offset) unexpected bytes after the sections") }
        for required in ["kind", "config", "counters", "bias", "slots"] where !seen.contains(required) {
            throw refuse("it has no \(required) section")
        }
        return layout
    }

    /// How many of `count` slot records, `stride` bytes apart from `start`
    /// (their bounds already checked), hold a nonzero weight (the scalar
    /// after the 4-byte slot number).
    private static func nonzeroWeights(_ bytes: [UInt8], at start: Int, count: Int, stride: Int, scalar: Int) -> Int {
        bytes.withUnsafeBytes { raw in
            var n = 0
            var at = start + 4
            for _ in 0..<count {
                let w =
                    scalar == 4
                    ? Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))))
                    : Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
                if w != 0 { n += 1 }
                at += stride
            }
            return n
        }
    }

    /// Whether a slot's numbers can come from training: finite, `n >= 0`.
    private static func sound<F: FTRLScalar>(_ w: F, _ n: F, _ z: F, _ average: F) -> Bool {
        w.isFinite && n.isFinite && z.isFinite && average.isFinite && n >= 0
    }

    /// The checksum stored at the end of the model file at `path` (its last
    /// four bytes), read without loading the file: a cheap identity.
    /// - Throws: `FTRLError`: .noInput when it cannot be opened, .data when it is too short to be a model.
    public static func storedChecksum(path: String) throws(FTRLError) -> UInt32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FTRLError(.noInput, "cannot open model: \(String(cString: strerror(errno)))", path: path) }
        defer { close(fd) }
        var tail = [UInt8](repeating: 0, count: 4)
        let end = lseek(fd, 0, SEEK_END)
        let n = end < 16 ? -1 : tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4, end - 4) }
        guard n == 4 else { throw FTRLError(.data, "not a usable model file: truncated", path: path) }
        return UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24
    }

    /// The whole contents of `path`; `what` names the file in messages (model, config).
    public static func readAll(path: String, what: String = "model") throws(FTRLError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw FTRLError(.noInput, "cannot open \(what): \(String(cString: strerror(errno)))", path: path)
        }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw FTRLError(.noInput, "cannot read \(what): is a directory", path: path)
        }
        defer { close(fd) }
        var failure: Int32 = 0
        // Reads into `buffer` until it is full or the file ends: the bytes read.
        func fill(_ buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
            var got = 0
            while got < buffer.count {
                let n = Glibc.read(fd, buffer.baseAddress! + got, buffer.count - got)
                if n > 0 {
                    got += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    if n < 0 { failure = errno }
                    break
                }
            }
            return got
        }
        // A regular file is read into one array of its size and a byte more
        // (to see that it ends there): nothing zeroed first, no regrowth.
        let expected = (st.st_mode & S_IFMT) == S_IFREG ? max(0, Int(st.st_size)) : 0
        var out = [UInt8](unsafeUninitializedCapacity: expected + 1) { buffer, count in count = fill(buffer) }
        // Anything else (a pipe, a file that grew meanwhile): 1 MiB at a time to its end.
        var ended = out.count <= expected
        while failure == 0 && !ended {
            let more = [UInt8](unsafeUninitializedCapacity: 1 << 20) { buffer, count in count = fill(buffer) }
            out += more
            ended = more.count < 1 << 20
        }
        if failure != 0 {
            throw FTRLError(.io, "cannot read \(what): \(String(cString: strerror(failure)))", path: path)
        }
        return out
    }

    /// The config of the model file at `path` (a regular file), read from its
    /// first bytes without checking the rest (nil when they do not hold it): for
    /// starting to read the input while the model loads; `read` checks the
    /// whole file after.
    public static func peekConfig(path: String) -> FTRLConfig? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { return nil }
        defer { close(fd) }
        // Only a regular file: a pipe's bytes, once read here, would be lost to `read`.
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        var head = [UInt8](repeating: 0, count: 1 << 16)
        let n = head.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 16 else { return nil }
        head.removeLast(head.count - n)
        guard Array(head[0..<8]) == magic else { return nil }
        var r = ByteReader(bytes: head, offset: 8)
        guard r.u32() == 2, let sections = r.u32() else { return nil }
        for _ in 0..<min(sections, 8) {
            guard r.offset < head.count else { return nil }
            let nameLength = Int(head[r.offset])
            r.offset += 1
            guard r.offset + nameLength + 8 <= head.count else { return nil }
            let name = String(decoding: head[r.offset..<r.offset + nameLength], as: UTF8.self)
            r.offset += nameLength
            guard let length = r.u64(), length <= UInt64(head.count - r.offset) else { return nil }
            if name == "config" {
                return try? FTRLConfig(jsonText: String(decoding: head[r.offset..<r.offset + Int(length)], as: UTF8.self))
            }
            r.offset += Int(length)
        }
        return nil
    }
}

/// Little-endian reads from a byte array.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func u32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        let at = offset
        let v = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
        offset += 4
        return UInt32(littleEndian: v)
    }

    mutating func u64() -> UInt64? {
        guard offset + 8 <= bytes.count else { return nil }
        let at = offset
        let v = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) }
        offset += 8
        return UInt64(littleEndian: v)
    }

    mutating func scalar<F: FTRLScalar>() -> F {
        if MemoryLayout<F>.size == 4 {
            return F(fromDouble: Double(Float(bitPattern: u32()!)))
        }
        return F(fromDouble: Double(bitPattern: u64()!))
    }
}

/// A buffered file writer that keeps a running CRC-32 of what it wrote.
final class FileWriter {
    private let fd: Int32
    private let reportAs: String
    /// The buffer's bytes.
    private static let capacity = 1 << 20
    /// The unit of a direct write: file offsets, lengths and the buffer's
    /// address are multiples of it.
    private static let block = 4096
    /// The most bytes one `reserve` takes: the buffer less the part of a
    /// block that a direct write leaves in it.
    static let runCapacity = capacity - block
    private let buffer: UnsafeMutableRawPointer
    private var used = 0
    /// The buffer's bytes already in `crc` (from its start).
    private var summed = 0
    private var crc: UInt32 = 0
    private var failed: FTRLError?
    private var closed = false
    /// Bytes written to the file so far.
    private var flushed = 0
    /// Bytes left out for later (`deferBytes`): where they are, the CRC of
    /// all before them, and what goes there once known (`fill`).
    private var deferred: (offset: Int, count: Int, crcBefore: UInt32, bytes: [UInt8]?)?
    /// Whether writes bypass the page cache (`O_DIRECT`): the records go
    /// from the buffer to the disk, and the kernel allocates no cache pages
    /// for them. On this project's VM a model's 31 MB through the page
    /// cache cost 0.08-0.13 s of `write`, fresh memory being slow to touch;
    /// direct, 0.03 s. Off where the file system refuses it.
    private var direct: Bool

    /// A writer to the open descriptor `fd`, which it closes; errors name
    /// `reportAs`. It writes direct when `direct` and the file system allows.
    init(fd: Int32, reportAs: String, direct: Bool = true) {
        self.fd = fd
        self.reportAs = reportAs
        buffer = .allocate(byteCount: Self.capacity, alignment: Self.block)
        let flags = fcntl(fd, F_GETFL)
        self.direct = direct && flags >= 0 && fcntl(fd, F_SETFL, flags | ftrl_o_direct()) == 0
    }

    /// Whether the writes so far went past the page cache.
    var writesDirect: Bool { direct }

    deinit {
        buffer.deallocate()
        if !closed { close(fd) }
    }

    @inline(__always)
    private func room(_ n: Int) {
        if used + n > Self.capacity { flush() }
    }

    /// `n` bytes (at most `runCapacity`) of the buffer for the caller to fill at once.
    func reserve(_ n: Int) -> UnsafeMutableRawPointer {
        precondition(n <= Self.runCapacity)
        room(n)
        let p = buffer + used
        used += n
        return p
    }

    /// Writes little-endian numbers from a pointer into a `reserve`d run.
    struct Cursor {
        private var p: UnsafeMutableRawPointer

        init(_ p: UnsafeMutableRawPointer) { self.p = p }

        @inline(__always)
        mutating func u32(_ v: UInt32) {
            p.storeBytes(of: v.littleEndian, as: UInt32.self)
            p += 4
        }

        @inline(__always)
        mutating func u64(_ v: UInt64) {
            p.storeBytes(of: v.littleEndian, as: UInt64.self)
            p += 8
        }

        @inline(__always)
        mutating func scalar<F: FTRLScalar>(_ x: F) {
            if MemoryLayout<F>.size == 4 {
                u32(Float(x.asDouble).bitPattern)
            } else {
                u64(x.asDouble.bitPattern)
            }
        }

        /// One record of the `slots` section: the slot, `w`, `n`, `z`, and
        /// with EMA the average and its step.
        @inline(__always)
        mutating func slot<F: FTRLScalar>(_ s: UInt32, row: UInt32, of table: WeightTable<F>) {
            let slot = table.slot(row: row)
            u32(s)
            scalar(slot.w)
            scalar(slot.n)
            scalar(slot.z)
            if table.hasEMA {
                scalar(slot.average)
                u64(UInt64(table.step(row: row).pointee))
            }
        }
    }

    /// Leaves `count` bytes (zero for now) to be filled once known, by
    /// `fill(_:)` before `finish()`: a length that precedes what it counts.
    /// Their place is written over at the end, and the checksum made from
    /// the CRC-32s of the parts (`crc32_combine`).
    func deferBytes(_ count: Int) {
        precondition(deferred == nil, "one run of deferred bytes per file")
        crc = crc32_gzip_refl(crc, (buffer + summed).assumingMemoryBound(to: UInt8.self), UInt64(used - summed))
        deferred = (flushed + used, count, crc, nil)
        reserve(count).initializeMemory(as: UInt8.self, repeating: 0, count: count)
        summed = used
        crc = 0
    }

    /// The bytes left out by `deferBytes`.
    func fill(_ bytes: [UInt8]) {
        precondition(deferred?.count == bytes.count && deferred?.bytes == nil)
        deferred?.bytes = bytes
    }

    /// Writes `count` bytes from `p`, after what is buffered: through the
    /// buffer when writing direct (whose writes must be whole blocks from
    /// aligned memory), else straight from `p`.
    func bytes(from p: UnsafeRawPointer, count: Int) {
        if direct {
            var done = 0
            while done < count {
                let n = min(count - done, Self.runCapacity)
                reserve(n).copyMemory(from: p + done, byteCount: n)
                done += n
            }
            return
        }
        flush()
        guard failed == nil, count > 0 else { return }
        crc = crc32_gzip_refl(crc, p.assumingMemoryBound(to: UInt8.self), UInt64(count))
        writeAll(p, count)
    }

    func bytes(_ b: [UInt8]) {
        for byte in b {
            room(1)
            buffer.storeBytes(of: byte, toByteOffset: used, as: UInt8.self)
            used += 1
        }
    }

    @inline(__always)
    func u32(_ v: UInt32) {
        var c = Cursor(reserve(4))
        c.u32(v)
    }

    @inline(__always)
    func u64(_ v: UInt64) {
        var c = Cursor(reserve(8))
        c.u64(v)
    }

    @inline(__always)
    func scalar<F: FTRLScalar>(_ x: F) {
        var c = Cursor(reserve(MemoryLayout<F>.size))
        c.scalar(x)
    }

    /// Writes the buffer out; when direct, whole blocks only (unless
    /// `all`), the rest moved to the buffer's start.
    private func flush(all: Bool = false) {
        guard failed == nil, used > 0 else {
            used = 0
            summed = 0
            return
        }
        // ISA-L's CRC-32 (gzip's, as zlib's crc32): several times zlib's speed.
        crc = crc32_gzip_refl(crc, (buffer + summed).assumingMemoryBound(to: UInt8.self), UInt64(used - summed))
        summed = used
        var whole = used
        if direct {
            whole = used / Self.block * Self.block
            if whole < used && all {
                // The file's last, partial block goes through the page cache.
                if whole > 0 { writeAll(buffer, whole) }
                leaveDirect()
                buffer.copyMemory(from: buffer + whole, byteCount: used - whole)
                used -= whole
                whole = used
            }
        }
        if whole > 0 { writeAll(buffer, whole) }
        used -= whole
        if used > 0 { buffer.copyMemory(from: buffer + whole, byteCount: used) }
        summed = used
    }

    /// Writes through the page cache from here on.
    private func leaveDirect() {
        direct = false
        let flags = fcntl(fd, F_GETFL)
        if flags < 0 || fcntl(fd, F_SETFL, flags & ~ftrl_o_direct()) != 0 {
            failed = FTRLError(.io, "cannot write model: \(String(cString: strerror(errno)))", path: reportAs)
        }
    }

    private func writeAll(_ p: UnsafeRawPointer, _ count: Int) {
        var done = 0
        while done < count && failed == nil {
            let n = Glibc.write(fd, p + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                // A file system that took the flag but refuses direct writes:
                // the same bytes, through the page cache.
                if errno == EINVAL && direct {
                    leaveDirect()
                    continue
                }
                failed = FTRLError(.io, "cannot write model: \(String(cString: strerror(errno)))", path: reportAs)
            } else {
                done += n
                flushed += n
            }
        }
    }

    /// Writes the checksum, flushes and syncs.
    func finish() throws(FTRLError) {
        flush()
        if let (offset, count, before, bytes) = deferred {
            guard let bytes else { preconditionFailure("deferred bytes never filled") }
            let after = flushed + used - (offset + count)
            let own = bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32(count))) }
            crc = UInt32(crc32_combine(crc32_combine(uLong(before), uLong(own), off_t(count)), uLong(crc), off_t(after)))
        }
        u32(crc)
        flush(all: true)
        if let deferred, let bytes = deferred.bytes, failed == nil {
            let offset = deferred.offset
            // A few bytes amid blocks written direct: through the page cache.
            if direct { leaveDirect() }
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if n != bytes.count {
                failed = FTRLError(.io, "cannot write model: \(String(cString: strerror(errno)))", path: reportAs)
            }
        }
        if let failed { throw failed }
        if fsync(fd) != 0 && errno != EINVAL && errno != EROFS {
            throw FTRLError(.io, "cannot write model: \(String(cString: strerror(errno)))", path: reportAs)
        }
        closed = true
        if close(fd) != 0 {
            throw FTRLError(.io, "cannot write model: \(String(cString: strerror(errno)))", path: reportAs)
        }
    }
}

/// The 8 bytes of `v`, least significant first.
private func littleEndianBytes(_ v: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
}

/// The `slots` records of a big dense table, made by two threads: each
/// turn, each thread encodes the active slots of one piece of 2^16 slots
/// into a buffer of its own, and the caller writes the two in order. It is
/// the one pass over the table: the count that precedes the records is
/// filled in after them (`FileWriter.deferBytes`). A count (two threads)
/// and then one thread's scan took 0.04 s and 0.09 s of a 1M-row run at
/// 2^24 slots; the buffers are reused, so memory stays flat.
enum PairedRecords {
    /// The smallest table written this way.
    static let minimumSlots = 1 << 20
    /// Slots per piece.
    static let piece = 1 << 16

    /// Writes the records of `table`'s active slots, ascending.
    /// - Returns: how many it wrote.
    static func write<F: FTRLScalar>(_ table: WeightTable<F>, to writer: FileWriter, slotRecord: Int) -> Int {
        let buffers = (0..<2).map { _ in UnsafeMutableRawPointer.allocate(byteCount: piece * slotRecord, alignment: 64) }
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        defer {
            for b in buffers { b.deallocate() }
            counts.deallocate()
        }
        let gang = WorkerGang(count: 2)
        var written = 0
        var start = 0
        while start < table.slotCount {
            gang.run { part in
                let low = min(start + part * piece, table.slotCount)
                let high = min(low + piece, table.slotCount)
                var record = FileWriter.Cursor(buffers[part])
                var n = 0
                for r in low..<high {
                    let row = UInt32(truncatingIfNeeded: r)
                    if table.isActive(row: row) {
                        record.slot(row, row: row, of: table)
                        n += 1
                    }
                }
                counts[part] = n
            }
            for part in 0..<2 {
                writer.bytes(from: buffers[part], count: counts[part] * slotRecord)
                written += counts[part]
            }
            start += 2 * piece
        }
        gang.stop()  // else its thread waits forever for another job
        return written
    }
}
