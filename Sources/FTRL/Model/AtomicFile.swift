import Glibc

/// Replaces a file all at once: the new contents go to a fresh temporary
/// file beside it, which is renamed over the target only when complete and
/// synced. A reader of the target therefore sees the old file or the whole
/// new one, never a part, whatever happens to the writer.
///
/// The temporary file is `TARGET.tmp-PID-XXXXXX`, created with `O_EXCL`
/// (so a file or symlink planted under a guessed name is never written
/// through) by `mkstemp`. Temporary files of writers that no longer run (a
/// `kill -9`, a power cut) are removed by the next write to the same target.
public enum AtomicFile {
    /// The file a write to `path` replaces: `path` itself, or the file a
    /// symlink at `path` points to (so that the link keeps working).
    /// - Throws: `FTRLError` (.usage) when `path` names something other than
    ///   a regular file: a directory, a device, a pipe or a dangling link.
    public static func target(of path: String, role: String) throws(FTRLError) -> String {
        if path.isEmpty { throw FTRLError(.usage, "\(role) is an empty path") }
        var resolved = path
        var st = stat()
        if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK {
            guard let real = realpath(path, nil) else {
                throw FTRLError(.usage, "\(role) is a symlink to a missing file", path: path)
            }
            resolved = String(cString: real)
            free(real)
        }
        if stat(resolved, &st) == 0 {
            let kind = st.st_mode & S_IFMT
            if kind != S_IFREG {
                throw FTRLError(.usage, "\(role) must name a regular file, not \(describe(kind))", path: path)
            }
        }
        return resolved
    }

    /// A new, empty temporary file beside `target`, open for writing.
    /// - Returns: its descriptor and path.
    /// - Throws: `FTRLError` (.io) naming `reportAs` when it cannot be made.
    static func createTemporary(beside target: String, reportAs: String) throws(FTRLError) -> (fd: Int32, path: String) {
        removeStaleTemporaries(of: target)
        var template = Array("\(target).tmp-\(getpid())-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 {
            throw FTRLError(.io, "cannot write there: \(String(cString: strerror(errno)))", path: reportAs)
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        // mkstemp makes the file 0600; give it the target's mode, or the
        // mode a new file gets (0666 less the umask).
        var st = stat()
        let mode: mode_t
        if stat(target, &st) == 0 {
            mode = st.st_mode & 0o7777
        } else {
            let mask = umask(0)
            umask(mask)
            mode = 0o666 & ~mask
        }
        fchmod(fd, mode)
        return (fd, path)
    }

    /// Renames the finished `temporary` over `target` and syncs the folder,
    /// removing `temporary` when that fails.
    /// - Throws: `FTRLError` (.io) naming `reportAs`.
    static func commit(_ temporary: String, to target: String, reportAs: String) throws(FTRLError) {
        if rename(temporary, target) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FTRLError(.io, "cannot rename the new file into place: \(reason)", path: reportAs)
        }
        let folder = open(directory(of: target), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// Writes `bytes` to `path` atomically (a report, a JSON summary).
    /// - Throws: `FTRLError` (.usage for a path that is no regular file, .io otherwise).
    public static func write(_ bytes: [UInt8], to path: String, role: String) throws(FTRLError) {
        let target = try target(of: path, role: role)
        let (fd, temporary) = try createTemporary(beside: target, reportAs: path)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw FTRLError(.io, "write failed: \(reason)", path: path)
            }
            done += n
        }
        if fsync(fd) != 0 || close(fd) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FTRLError(.io, "write failed: \(reason)", path: path)
        }
        try commit(temporary, to: target, reportAs: path)
    }

    /// Fails early, before any long work, when `path` could not be written:
    /// makes and removes a temporary file beside its target.
    /// - Throws: `FTRLError` (.usage for a path that is no regular file, .io otherwise).
    public static func checkWritable(_ path: String, role: String) throws(FTRLError) {
        let target = try target(of: path, role: role)
        let (fd, temporary) = try createTemporary(beside: target, reportAs: path)
        close(fd)
        unlink(temporary)
    }

    /// Removes `TARGET.tmp-PID-XXXXXX` files whose process is gone.
    static func removeStaleTemporaries(of target: String) {
        let folder = directory(of: target)
        let prefix = Array((baseName(of: target) + ".tmp-").utf8)
        guard let dir = opendir(folder) else { return }
        defer { closedir(dir) }
        let me = getpid()
        while let entry = readdir(dir) {
            // The name through a pointer, up to its NUL: a record is only as
            // long as its name (d_reclen), so copying the whole dirent (or its
            // 256-byte d_name) can read past the end of readdir's buffer
            // (found by the model fuzz target under AddressSanitizer).
            let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
            let namePointer = (UnsafeRawPointer(entry) + offset).assumingMemoryBound(to: CChar.self)
            let name = Array(UnsafeRawBufferPointer(start: namePointer, count: strlen(namePointer)))
            guard name.count >= prefix.count + 8, name.starts(with: prefix) else { continue }
            // PID digits, '-', six characters of mkstemp's.
            let rest = name[prefix.count...]
            guard let dash = rest.firstIndex(of: UInt8(ascii: "-")), rest.endIndex - dash == 7 else { continue }
            let digits = rest[rest.startIndex..<dash]
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0 &- 48 < 10 }) else { continue }
            let pid = digits.reduce(Int32(0)) { $0 * 10 + Int32($1 - 48) }
            if pid == me || kill(pid, 0) == 0 || errno != ESRCH { continue }
            unlink(folder + "/" + String(decoding: name, as: UTF8.self))
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func describe(_ kind: mode_t) -> String {
        switch kind {
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a pipe"
        case S_IFSOCK: return "a socket"
        default: return "a special file"
        }
    }
}

/// The device and inode of a file: two paths (other spellings, hard links,
/// symlinks) name the same file exactly when these agree.
public struct FileIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64

    /// The file at `path` (symlinks followed; `-` is standard input), or nil
    /// when there is none.
    public init?(path: String) {
        var st = stat()
        if path == "-" {
            guard fstat(0, &st) == 0 else { return nil }
        } else {
            guard stat(path, &st) == 0 else { return nil }
        }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }

    /// Whether the file at `path` is a regular file that can be read again
    /// from its start (not a pipe, a FIFO, a terminal or standard input).
    public static func isRereadable(_ path: String) -> Bool {
        if path == "-" { return false }
        var st = stat()
        guard stat(path, &st) == 0 else { return true }  // opening it will report what is wrong
        return (st.st_mode & S_IFMT) == S_IFREG
    }

    /// What `path` is, for a message (`a pipe`, `a character device`...).
    public static func kind(of path: String) -> String {
        var st = stat()
        if path == "-" { return "standard input" }
        guard stat(path, &st) == 0 else { return "missing" }
        return (st.st_mode & S_IFMT) == S_IFREG ? "a regular file" : AtomicFile.describe(st.st_mode & S_IFMT)
    }
}
