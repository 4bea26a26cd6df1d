import Glibc

/// The parsed, hashed examples of a run's first pass kept in a file
/// (`ftrl-train --cache FILE`), so that later epochs and later runs over the
/// same inputs with the same schema and hashing read them instead of
/// decompressing and parsing the text again.
///
/// The file: the magic `FTRLXC01`, a 32-bit length and the provenance (what
/// it was made from: the inputs' paths, sizes and modification times, and
/// the settings of the input and hashing sections, as JSON), then one
/// record per block of examples, each a 32-bit payload length, a 64-bit
/// checksum of the payload and the payload; a zero length ends the records,
/// followed by the examples in all, the column names of delimited input
/// (JSON) and the checksum of the record checksums and the names. All
/// numbers little-endian.
///
/// A block's payload, with each example's feature count as a varint, each
/// slot in the fewest whole bytes `bits` needs, and each value behind a
/// 2-bit tag (1, 0, a float32 that holds it exactly, or a float64):
///
///     u32 examples, u32 features, u8 flags (1: importance weights), u8 slot bytes
///     labels, one byte each (0, 1; 2 for none)
///     weights, 8 bytes each (with flag 1)
///     feature counts, varints
///     slots
///     tags, four to a byte
///     the values the tags do not give
///
/// A cache that is missing, made from other inputs or settings, cut short or
/// damaged (any checksum that does not match) is never read: the run reads
/// the text and writes the cache anew, saying why.
public enum ExampleCache {
    static let magic: [UInt8] = Array("FTRLXC01".utf8)

    /// What a cache of `paths` parsed under `config` records: each input's
    /// absolute path, size and modification time, and the input and hashing
    /// settings (those that decide the examples).
    /// - Throws: `FTRLError` (.usage) for an input that is not a regular
    ///   file (standard input, a pipe): its bytes cannot be known again.
    public static func provenance(paths: [String], config: FTRLConfig) throws(FTRLError) -> String {
        var inputs: [JSON] = []
        for path in paths {
            var st = stat()
            guard path != "-", stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
                throw FTRLError(
                    .usage, "--cache needs regular files as input (a cache of standard input or a pipe could not be checked)",
                    path: path == "-" ? "standard input" : path)
            }
            let absolute = realpath(path, nil).map { p in
                defer { free(p) }
                return String(cString: p)
            }
            inputs.append(
                .object([
                    ("path", .string(absolute ?? path)), ("size", .number(Double(st.st_size))),
                    ("mtime_ns", .string("\(Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec))")),
                ]))
        }
        let settings = Setting.all.filter { ($0.section == .input || $0.section == .hashing) && $0.key != "example_weights" }
        let json = JSON.object([
            ("inputs", .array(inputs)), ("settings", .object(settings.map { ($0.key, $0.value(in: config)) })),
        ])
        return json.rendered(indent: 0)
    }

    /// A cache file checked whole.
    public enum Check: Equatable {
        /// Complete and undamaged, of the same provenance: its examples and column names.
        case valid(examples: Int, columns: [String]?)
        /// No file there.
        case missing
        /// Made from other inputs or settings.
        case stale
        /// Not a whole, undamaged cache: why.
        case damaged(String)
    }

    /// Checks the cache at `path` against `provenance`: every record's
    /// checksum, the end marker and the totals.
    public static func check(path: String, provenance: String) -> Check {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return errno == ENOENT ? .missing : .damaged("cannot be opened: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard let file = MappedFile(fd: fd) else { return .damaged("cannot be read") }
        var r = CacheReader(file)
        guard r.bytes(8) == magic else { return .damaged("it does not start with the cache magic") }
        guard let length = r.u32(), let text = r.bytes(Int(length)) else { return .damaged("truncated header") }
        if String(decoding: text, as: UTF8.self) != provenance { return .stale }
        var sum: UInt64 = 0
        var examples = 0
        var released = 0
        while true {
            if r.offset - released > 16 << 20 {
                // Read once: its pages need not stay in this process.
                file.release(upTo: r.offset)
                released = r.offset
            }
            guard let length = r.u32() else { return .damaged("cut short after \(examples) examples") }
            if length == 0 { break }
            guard let stored = r.u64(), let payload = r.pointer(Int(length)) else {
                return .damaged("cut short after \(examples) examples")
            }
            guard checksum(payload, Int(length)) == stored else { return .damaged("a checksum does not match after \(examples) examples") }
            let count = Int(length) >= 10 ? Int(UnsafeRawPointer(payload).loadUnaligned(as: UInt32.self).littleEndian) : 0
            guard count > 0 && count <= ExampleStream.blockExamples else { return .damaged("a record of \(count) examples") }
            examples += count
            sum = mix(sum, stored)
        }
        guard let total = r.u64(), Int(total) == examples, let namesLength = r.u32(), let names = r.bytes(Int(namesLength)),
            let stored = r.u64(), stored == mix(sum, names.withUnsafeBufferPointer { checksum($0.baseAddress!, $0.count) }), r.atEnd
        else { return .damaged("its end does not match its records") }
        var columns: [String]?
        if case .array(let items)? = try? JSON.parse(String(decoding: names, as: UTF8.self)) {
            columns = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
        }
        return .valid(examples: examples, columns: columns)
    }

    /// A 64-bit checksum of `count` bytes: words folded with a multiply, so
    /// any change of a byte or of the length changes it (8 bytes per step).
    static func checksum(_ p: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)
        let raw = UnsafeRawPointer(p)
        var i = 0
        while i + 8 <= count {
            h = mix(h, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < count {
            tail |= UInt64(p[i]) << shift
            shift += 8
            i += 1
        }
        return mix(h, tail)
    }

    @inline(__always)
    static func mix(_ h: UInt64, _ w: UInt64) -> UInt64 {
        let x = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
        return x ^ (x >> 29)
    }
}

/// A file mapped read-only, unmapped when it goes.
final class MappedFile {
    let base: UnsafePointer<UInt8>
    let count: Int

    init?(fd: Int32) {
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size > 0 else { return nil }
        count = Int(st.st_size)
        guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else { return nil }
        _ = madvise(p, count, MADV_SEQUENTIAL)
        base = UnsafePointer(p.assumingMemoryBound(to: UInt8.self))
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), count)
    }

    /// Lets the kernel drop the pages before `offset` from this process.
    func release(upTo offset: Int) {
        let end = offset & ~4095
        if end > 0 { _ = madvise(UnsafeMutableRawPointer(mutating: base), end, MADV_DONTNEED) }
    }
}

/// Reads a mapped cache file front to back; nil past its end.
struct CacheReader {
    let file: MappedFile
    var offset = 0

    init(_ file: MappedFile) {
        self.file = file
    }

    var atEnd: Bool { offset == file.count }

    mutating func pointer(_ n: Int) -> UnsafePointer<UInt8>? {
        guard n >= 0, offset + n <= file.count else { return nil }
        defer { offset += n }
        return file.base + offset
    }

    mutating func bytes(_ n: Int) -> [UInt8]? {
        pointer(n).map { Array(UnsafeBufferPointer(start: $0, count: n)) }
    }

    mutating func u32() -> UInt32? {
        pointer(4).map { UnsafeRawPointer($0).loadUnaligned(as: UInt32.self).littleEndian }
    }

    mutating func u64() -> UInt64? {
        pointer(8).map { UnsafeRawPointer($0).loadUnaligned(as: UInt64.self).littleEndian }
    }
}

/// Writes a cache: the input thread appends each block as it fills it; the
/// run commits the file when its first pass ended well, or abandons it.
/// A write that fails (a full disk) abandons the cache with a warning and
/// the run goes on from the text.
public final class ExampleCacheWriter: @unchecked Sendable {
    // One thread at a time: the input thread appends; the run commits or
    // abandons after that thread has ended (`ExampleStream.finish`).
    private let target: String
    private let fd: Int32
    private let temporary: String
    private let slotBytes: Int
    private var buffer: [UInt8] = []
    private var payload = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 8)
    private var payloadCapacity = 1 << 20
    private var sum: UInt64 = 0
    private var examples = 0
    private var open = true
    /// Why the cache could not be written, when it could not.
    private(set) var failure: String?

    /// A new cache for `target`, written beside it and renamed into place by `commit`.
    /// - Throws: `FTRLError` (.io) when the file cannot be made.
    init(target: String, provenance: String, bits: Int) throws(FTRLError) {
        self.target = target
        (fd, temporary) = try AtomicFile.createTemporary(beside: target, reportAs: target)
        slotBytes = (bits + 7) / 8
        buffer.reserveCapacity(1 << 20)
        buffer += ExampleCache.magic
        let text = Array(provenance.utf8)
        put32(&buffer, UInt32(text.count))
        buffer += text
    }

    deinit {
        payload.deallocate()
        if open {
            close(fd)
            unlink(temporary)
        }
    }

    /// Appends the examples of `block`.
    func append(_ block: ExampleBlock) {
        guard open, failure == nil, block.count > 0 else { return }
        let count = block.count
        let features = block.offsets[count]
        // The most a record takes: header, labels, weights, counts, slots, tags, values.
        let most = 10 + count * (1 + 8 + 10) + features * (slotBytes + 1 + 8)
        if most > payloadCapacity {
            payload.deallocate()
            payloadCapacity = max(most, payloadCapacity * 2)
            payload = .allocate(byteCount: payloadCapacity, alignment: 8)
        }
        let p = payload
        var at = 0
        @inline(__always) func put(_ v: UInt32) {
            p.storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt32.self)
            at += 4
        }
        @inline(__always) func put(_ v: UInt64) {
            p.storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt64.self)
            at += 8
        }
        put(UInt32(count))
        put(UInt32(features))
        p.storeBytes(of: UInt8(block.hasWeights ? 1 : 0), toByteOffset: 8, as: UInt8.self)
        p.storeBytes(of: UInt8(slotBytes), toByteOffset: 9, as: UInt8.self)
        at = 10
        for e in 0..<count {
            let y = block.labels[e]
            p.storeBytes(of: UInt8(y == 0 ? 0 : y == 1 ? 1 : 2), toByteOffset: at + e, as: UInt8.self)
        }
        at += count
        if block.hasWeights {
            for e in 0..<count { put(block.weights[e].bitPattern) }
        }
        for e in 0..<count {
            var n = UInt64(block.offsets[e + 1] - block.offsets[e])
            while n >= 0x80 {
                p.storeBytes(of: UInt8(truncatingIfNeeded: n) | 0x80, toByteOffset: at, as: UInt8.self)
                at += 1
                n >>= 7
            }
            p.storeBytes(of: UInt8(n), toByteOffset: at, as: UInt8.self)
            at += 1
        }
        for j in 0..<features {
            // Whole 32-bit stores, each overwritten by the next slot's bytes.
            p.storeBytes(of: block.slots[j].littleEndian, toByteOffset: at, as: UInt32.self)
            at += slotBytes
        }
        let tags = p + at
        let tagBytes = (features + 3) / 4
        tags.initializeMemory(as: UInt8.self, repeating: 0, count: tagBytes)
        at += tagBytes
        for j in 0..<features {
            let v = block.values[j]
            let tag: UInt8
            if v == 1 {
                tag = 0
            } else if v == 0 && v.sign == .plus {
                tag = 1
            } else if Double(Float(v)).bitPattern == v.bitPattern {
                tag = 2
                put(Float(v).bitPattern)
            } else {
                tag = 3
                put(v.bitPattern)
            }
            let t = tags.load(fromByteOffset: j >> 2, as: UInt8.self)
            tags.storeBytes(of: t | tag << UInt8((j & 3) * 2), toByteOffset: j >> 2, as: UInt8.self)
        }
        let check = ExampleCache.checksum(p.assumingMemoryBound(to: UInt8.self), at)
        put32(&buffer, UInt32(at))
        put64(&buffer, check)
        buffer += UnsafeRawBufferPointer(start: p, count: at)
        sum = ExampleCache.mix(sum, check)
        examples += count
        if buffer.count >= 1 << 20 { flush() }
    }

    /// Finishes the file (the end marker, the totals, `columns`) and renames
    /// it into place. Returns false, with `failure` set, when it could not.
    func commit(columns: [String]?) -> Bool {
        guard open else { return false }
        if failure == nil {
            put32(&buffer, 0)
            put64(&buffer, UInt64(examples))
            let names = Array((columns.map { JSON.array($0.map { .string($0) }) } ?? .null).rendered(indent: 0).utf8)
            put32(&buffer, UInt32(names.count))
            buffer += names
            put64(&buffer, ExampleCache.mix(sum, names.withUnsafeBufferPointer { ExampleCache.checksum($0.baseAddress!, $0.count) }))
            flush()
        }
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        open = false
        close(fd)
        guard failure == nil else {
            unlink(temporary)
            return false
        }
        do throws(FTRLError) {
            try AtomicFile.commit(temporary, to: target, reportAs: target)
        } catch {
            failure = error.message
            return false
        }
        return true
    }

    /// Removes the unfinished file.
    func abandon() {
        guard open else { return }
        open = false
        close(fd)
        unlink(temporary)
    }

    private func flush() {
        var done = 0
        while done < buffer.count && failure == nil {
            let n = buffer.withUnsafeBufferPointer { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { failure = String(cString: strerror(errno)) }
            done += max(n, 0)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    private func put32(_ out: inout [UInt8], _ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { out += $0 }
    }

    private func put64(_ out: inout [UInt8], _ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { out += $0 }
    }
}

/// Reads a checked cache into blocks: the thread of an `ExampleStream` over a cache.
struct CacheDecodeStage: @unchecked Sendable {
    // The mapped file is read by this thread alone.
    let file: MappedFile
    let blocks: Pipe<ExampleBlock>
    let stats: Shared<StreamStats>

    func run() {
        var seconds = 0.0
        defer { stats.update { $0.parseSeconds += seconds } }
        var r = CacheReader(file)
        _ = r.bytes(8)
        let headerLength = Int(r.u32() ?? 0)
        _ = r.pointer(headerLength)
        var released = 0
        while true {
            guard let length = r.u32(), length > 0, r.u64() != nil, let p = r.pointer(Int(length)) else { break }
            guard let block = blocks.takeFree() else { return }
            let t0 = Clock.now()
            Self.decode(p, into: block)
            if r.offset - released > 16 << 20 {
                file.release(upTo: r.offset)
                released = r.offset
            }
            let read = r.offset
            stats.update { $0.read = read }
            seconds += Clock.now() - t0
            blocks.send(block)
        }
        blocks.close(error: nil)
    }

    /// Fills `block` (empty) from one record's payload, checked before.
    static func decode(_ p: UnsafePointer<UInt8>, into block: ExampleBlock) {
        let raw = UnsafeRawPointer(p)
        let count = Int(raw.loadUnaligned(as: UInt32.self).littleEndian)
        let features = Int(raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
        let hasWeights = p[8] & 1 != 0
        let slotBytes = Int(p[9])
        var at = 10
        for e in 0..<count {
            let y = p[at + e]
            block.labels[e] = y == 0 ? 0 : y == 1 ? 1 : .nan
        }
        at += count
        block.hasWeights = hasWeights
        if hasWeights {
            for e in 0..<count {
                block.weights[e] = Double(bitPattern: raw.loadUnaligned(fromByteOffset: at + 8 * e, as: UInt64.self).littleEndian)
            }
            at += 8 * count
        }
        block.reserveFeatures(features)
        var offset = 0
        for e in 0..<count {
            var n = 0
            var shift = 0
            while true {
                let b = p[at]
                at += 1
                n |= Int(b & 0x7F) << shift
                if b < 0x80 { break }
                shift += 7
            }
            offset += n
            block.offsets[e + 1] = offset
        }
        let slots = block.slots
        // Whole 32-bit loads, masked: the tags follow the slots, so no load
        // reads past the record.
        let slotMask: UInt32 = slotBytes == 4 ? .max : (1 << UInt32(8 * slotBytes)) - 1
        for j in 0..<features {
            slots[j] = raw.loadUnaligned(fromByteOffset: at + j &* slotBytes, as: UInt32.self).littleEndian & slotMask
        }
        at += features * slotBytes
        let tags = p + at
        at += (features + 3) / 4
        let values = block.values
        for j in 0..<features {
            // Without branches: both payloads loaded (a record is followed
            // by at least 12 bytes, the next record's length and checksum or
            // the end marker and totals), the tag choosing, and the offset
            // moving on by 0, 0, 4 or 8 bytes.
            let tag = Int(truncatingIfNeeded: tags[j >> 2] >> UInt8((j & 3) * 2)) & 3
            let f32 = Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian))
            let f64 = Double(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian)
            var v = tag == 3 ? f64 : f32
            v = tag == 1 ? 0 : v
            v = tag == 0 ? 1 : v
            values[j] = v
            at += (0x8400 >> (tag &* 4)) & 0xF
        }
        block.count = count
    }
}
