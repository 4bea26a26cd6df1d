import Glibc

/// How much memory this process can still fill before the kernel kills it:
/// the machine's `MemAvailable`, and the room left under the limit of each
/// memory cgroup it runs in (v1 `memory.limit_in_bytes`, v2 `memory.max`),
/// counting a cgroup's inactive page cache as free, since the kernel
/// reclaims it first.
///
/// Training touches every page of its weight table, so a table larger than
/// this is refused up front with a size that fits, rather than killed
/// half-way (exit 137) by the out-of-memory killer.
enum MemoryBudget {
    /// The bytes available and where the bound comes from, or nil when
    /// nothing could be read.
    static func available() -> (bytes: Int, source: String)? {
        var best: (bytes: Int, source: String)?
        func consider(_ bytes: Int, _ source: String) {
            if best == nil || bytes < best!.bytes { best = (max(bytes, 0), source) }
        }
        if let meminfo = readText("/proc/meminfo"), let kib = field(meminfo, "MemAvailable:") {
            consider(kib * 1024, "the machine's available memory")
        }
        guard let groups = readText("/proc/self/cgroup") else { return best }
        for line in groups.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let path = String(parts[2])
            if parts[1].split(separator: ",").contains("memory") {
                for (dir, limit) in ancestors("/sys/fs/cgroup/memory", path, limitFile: "memory.limit_in_bytes") {
                    guard limit < 1 << 60, let usage = number(readText(dir + "/memory.usage_in_bytes")) else { continue }
                    let inactive = readText(dir + "/memory.stat").flatMap { field($0, "total_inactive_file") } ?? 0
                    consider(limit - (usage - inactive), "the memory cgroup's limit of \(limit >> 20) MiB")
                }
            } else if parts[0] == "0" && parts[1].isEmpty {
                for mount in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
                    for (dir, limit) in ancestors(mount, path, limitFile: "memory.max") {
                        guard let usage = number(readText(dir + "/memory.current")) else { continue }
                        let inactive = readText(dir + "/memory.stat").flatMap { field($0, "inactive_file") } ?? 0
                        consider(limit - (usage - inactive), "the memory cgroup's limit of \(limit >> 20) MiB")
                    }
                }
            }
        }
        return best
    }

    /// The cgroup at `path` under `mount` and each of its parents that has a
    /// numeric limit in `limitFile` ("max", unlimited, is left out).
    private static func ancestors(_ mount: String, _ path: String, limitFile: String) -> [(String, Int)] {
        var out: [(String, Int)] = []
        var components = path.split(separator: "/").map(String.init)
        while true {
            let dir = ([mount] + components).joined(separator: "/")
            if let limit = number(readText(dir + "/" + limitFile)) { out.append((dir, limit)) }
            if components.isEmpty { break }
            components.removeLast()
        }
        return out
    }

    private static func number(_ text: String?) -> Int? {
        guard let text else { return nil }
        return Int(text.split(separator: "\n").first ?? "")
    }

    /// The number after `key` on its line of a `key value` file.
    private static func field(_ text: String, _ key: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            let rest = line.dropFirst(key.count)
            guard rest.first == " " || rest.first == "\t" || key.hasSuffix(":") else { continue }
            return Int(rest.split(separator: " ", omittingEmptySubsequences: true).first ?? "")
        }
        return nil
    }

    /// A small text file (proc and cgroup files), or nil.
    private static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
