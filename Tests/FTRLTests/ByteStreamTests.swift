import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

/// Gzip is found from the bytes, members concatenate, and damage is reported.
struct ByteStreamTests {
    static func readAll(_ path: String) throws(FTRLError) -> [UInt8] {
        let stream = try ByteStream(path: path)
        var out: [UInt8] = []
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: 4096)
        defer { buf.deallocate() }
        while true {
            let n = try stream.read(into: buf, capacity: 4096)
            if n == 0 { break }
            out.append(contentsOf: UnsafeBufferPointer(start: buf, count: n))
        }
        return out
    }

    static func text(_ rows: Int, _ tag: Int) -> String {
        (0..<rows).map { "\(($0 + tag) % 2) \($0 % 300 + 1):1 \(tag):0.5" }.joined(separator: "\n") + "\n"
    }

    @Test func gzipDetectedFromBytesNotName() throws {
        let dir = try Scratch()
        let plain = try dir.write("a.txt", Self.text(5000, 1))
        shell("gzip -c '\(plain)' > '\(dir.path("a.data"))'")
        shell("cp '\(plain)' '\(dir.path("plain.gz"))'")
        let expected = Array(Self.text(5000, 1).utf8)
        #expect(try Self.readAll(dir.path("a.data")) == expected)
        #expect(try Self.readAll(dir.path("plain.gz")) == expected)
    }

    @Test func multiMemberAndZeroPadding() throws {
        let dir = try Scratch()
        let a = try dir.write("a", Self.text(3000, 1))
        let b = try dir.write("b", Self.text(10, 2))
        let c = try dir.write("c", "")
        shell(
            "gzip -c '\(a)' > '\(dir.path("m.gz"))' && gzip -c '\(c)' >> '\(dir.path("m.gz"))' && gzip -c '\(b)' >> '\(dir.path("m.gz"))'")
        #expect(try Self.readAll(dir.path("m.gz")) == Array((Self.text(3000, 1) + Self.text(10, 2)).utf8))
        shell("cp '\(dir.path("m.gz"))' '\(dir.path("p.gz"))' && head -c 1000 /dev/zero >> '\(dir.path("p.gz"))'")
        #expect(try Self.readAll(dir.path("p.gz")) == Array((Self.text(3000, 1) + Self.text(10, 2)).utf8))
    }

    @Test func damageIsADataError() throws {
        let dir = try Scratch()
        let a = try dir.write("a", Self.text(3000, 1))
        shell("gzip -c '\(a)' > '\(dir.path("a.gz"))'")
        let gz = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.path("a.gz"))))
        for cut in [3, 20, gz.count / 2, gz.count - 4] {
            let path = try dir.write("cut\(cut).gz", Array(gz[0..<cut]))
            #expect(throws: FTRLError.self) { _ = try Self.readAll(path) }
            do {
                _ = try Self.readAll(path)
            } catch {
                #expect(error.kind == .data)
                #expect(error.path == path)
            }
        }
        var flipped = gz
        flipped[gz.count - 6] ^= 0xFF  // inside the CRC-32 trailer
        let bad = try dir.write("crc.gz", flipped)
        #expect(throws: FTRLError.self) { _ = try Self.readAll(bad) }
    }

    @Test func missingFileIsNoInput() {
        #expect {
            _ = try ByteStream(path: "/nonexistent/file.svm")
        } throws: { ($0 as? FTRLError)?.kind == .noInput }
    }
}
