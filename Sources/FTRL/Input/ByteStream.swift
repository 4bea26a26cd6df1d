import CISAL
import Glibc

/// The bytes of one input file or of standard input, decompressed when they
/// are gzip.
///
/// Gzip is recognised by its magic bytes (1f 8b), not by the file name, and
/// a file of several gzip members (concatenated .gz files) reads as their
/// concatenation. A truncated or corrupt stream (a bad block, a bad header, a
/// CRC-32 or length that does not match) is a data error; zero bytes padding
/// the end of a gzip file are skipped as gzip itself does.
///
/// Inflation uses ISA-L's igzip, which decodes this project's click logs
/// about six times as fast as zlib here (BENCHMARKS.md): gunzip was the
/// slowest stage of training.
final class ByteStream {
    /// The name used in messages (`-` for standard input).
    let path: String
    private let fd: Int32
    private let ownsFD: Bool
    private let raw: UnsafeMutablePointer<UInt8>
    private let rawCapacity = 1 << 20
    private var rawStart = 0
    private var rawEnd = 0
    private var sawEOF = false
    /// Bytes read from the file so far (compressed ones for gzip).
    private(set) var rawRead = 0

    private enum Mode { case undecided, plain, gzip }
    private var mode = Mode.undecided
    private var inflater: UnsafeMutablePointer<inflate_state>?
    private var memberDone = false

    /// Opens `path`, or standard input for `-`.
    /// - Throws: `FTRLError` (.noInput) when the file cannot be opened.
    init(path: String) throws(FTRLError) {
        self.path = path
        if path == "-" {
            fd = 0
            ownsFD = false
        } else {
            let f = open(path, O_RDONLY | O_CLOEXEC)
            if f < 0 {
                let reason = String(cString: strerror(errno))
                throw FTRLError(.noInput, "cannot open: \(reason)", path: path)
            }
            var st = stat()
            if fstat(f, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                close(f)
                throw FTRLError(.noInput, "cannot read: is a directory", path: path)
            }
            fd = f
            ownsFD = true
        }
        raw = .allocate(capacity: rawCapacity)
    }

    deinit {
        inflater?.deallocate()
        raw.deallocate()
        if ownsFD { close(fd) }
    }

    /// Reads more raw bytes after `rawEnd`, compacting first when empty.
    private func fillRaw() throws(FTRLError) {
        if rawStart == rawEnd {
            rawStart = 0
            rawEnd = 0
        }
        if rawEnd == rawCapacity || sawEOF { return }
        while true {
            let n = Glibc.read(fd, raw + rawEnd, rawCapacity - rawEnd)
            if n > 0 {
                rawEnd += n
                rawRead += n
                return
            }
            if n == 0 {
                sawEOF = true
                return
            }
            if errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            throw FTRLError(.io, "read failed: \(reason)", path: path)
        }
    }

    /// The magic bytes of compressed or archive formats that are not gzip,
    /// with the command that turns each into text.
    static let foreignFormats: [(magic: [UInt8], name: String, tool: String)] = [
        ([0x50, 0x4B, 0x03, 0x04], "a zip archive", "unzip -p"),
        ([0x42, 0x5A, 0x68], "bzip2", "bzcat"),
        ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "xz", "xzcat"),
        ([0x28, 0xB5, 0x2F, 0xFD], "zstd", "zstdcat"),
        ([0x04, 0x22, 0x4D, 0x18], "lz4", "lz4cat"),
        ([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C], "a 7z archive", "7z x -so"),
    ]

    private func decideMode() throws(FTRLError) {
        while rawEnd - rawStart < 4 && !sawEOF { try fillRaw() }
        let available = rawEnd - rawStart
        for (magic, name, tool) in Self.foreignFormats where available >= magic.count {
            var matches = true
            for (k, b) in magic.enumerated() where raw[rawStart + k] != b { matches = false }
            // bzip2's "BZh" is followed by the block size digit 1-9.
            if matches && name == "bzip2" { matches = available > 3 && raw[rawStart + 3] >= 0x31 && raw[rawStart + 3] <= 0x39 }
            if matches {
                throw FTRLError(
                    .data,
                    "is \(name) data, not text or gzip: only gzip is decompressed; pipe it in instead (\(tool) FILE | ... -)",
                    path: path)
            }
        }
        if available >= 2 && raw[rawStart] == 0x1f && raw[rawStart + 1] == 0x8b {
            let z = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
            isal_inflate_init(z)
            z.pointee.crc_flag = UInt32(ISAL_GZIP)
            inflater = z
            mode = .gzip
        } else {
            mode = .plain
        }
    }

    /// Fills `destination` with up to `capacity` decoded bytes.
    /// - Returns: the number of bytes written; 0 only at the end of the input.
    /// - Throws: `FTRLError` for a read failure or a bad gzip stream.
    func read(into destination: UnsafeMutablePointer<UInt8>, capacity: Int) throws(FTRLError) -> Int {
        if mode == .undecided { try decideMode() }
        if mode == .plain {
            if rawStart < rawEnd {
                let n = min(capacity, rawEnd - rawStart)
                destination.update(from: raw + rawStart, count: n)
                rawStart += n
                return n
            }
            if sawEOF { return 0 }
            while true {
                let n = Glibc.read(fd, destination, capacity)
                if n >= 0 {
                    if n == 0 { sawEOF = true }
                    return n
                }
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                throw FTRLError(.io, "read failed: \(reason)", path: path)
            }
        }
        return try inflateInto(destination, capacity)
    }

    private func inflateInto(_ destination: UnsafeMutablePointer<UInt8>, _ capacity: Int) throws(FTRLError) -> Int {
        guard let z = inflater else { return 0 }
        while true {
            if memberDone {
                // Between members: another gzip header, zero padding, or the end.
                if rawStart == rawEnd {
                    if sawEOF { return 0 }
                    try fillRaw()
                    continue
                }
                if raw[rawStart] == 0 {
                    while rawStart < rawEnd && raw[rawStart] == 0 { rawStart += 1 }
                    continue
                }
                if rawEnd - rawStart < 2 && !sawEOF {
                    if rawStart > 0 {
                        let left = rawEnd - rawStart
                        raw.update(from: raw + rawStart, count: left)
                        rawStart = 0
                        rawEnd = left
                    }
                    try fillRaw()
                    continue
                }
                if rawEnd - rawStart >= 2 && raw[rawStart] == 0x1f && raw[rawStart + 1] == 0x8b {
                    isal_inflate_reset(z)
                    z.pointee.crc_flag = UInt32(ISAL_GZIP)
                    memberDone = false
                } else {
                    let text = FTRLError.quote(UnsafeRawBufferPointer(start: raw + rawStart, count: min(16, rawEnd - rawStart)))
                    throw FTRLError(.data, "trailing garbage after gzip data", path: path, text: text)
                }
            }
            if rawStart == rawEnd && !sawEOF { try fillRaw() }
            let available = rawEnd - rawStart
            z.pointee.next_in = raw + rawStart
            z.pointee.avail_in = UInt32(available)
            z.pointee.next_out = destination
            z.pointee.avail_out = UInt32(capacity)
            let rc = isal_inflate(z)
            let consumed = available - Int(z.pointee.avail_in)
            let produced = capacity - Int(z.pointee.avail_out)
            rawStart += consumed
            if rc != ISAL_DECOMP_OK {
                let reason: String
                switch rc {
                case ISAL_INCORRECT_CHECKSUM: reason = "CRC-32 or length check failed"
                case ISAL_INVALID_WRAPPER, ISAL_UNSUPPORTED_METHOD: reason = "bad gzip header"
                default: reason = "invalid compressed data (\(rc))"
                }
                throw FTRLError(.data, "corrupt gzip stream: \(reason)", path: path)
            }
            if z.pointee.block_state == ISAL_BLOCK_FINISH {
                memberDone = true
            } else if produced == 0 && consumed == 0 && rawStart == rawEnd && sawEOF {
                throw FTRLError(.data, "truncated gzip stream (unexpected end of file)", path: path)
            }
            if produced > 0 { return produced }
        }
    }
}
