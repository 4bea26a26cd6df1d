// Shared by the unit tests and the fuzz targets (Fuzz/), which compile the
// library's sources into one module: there is no FTRL module to import.
#if canImport(FTRL)
    @testable import FTRL
#endif

/// Reads text the way `ExampleStream` does when its first read ends after
/// `cut` bytes: the `RecordSplitter` cuts that chunk after its last record,
/// the rest of the text follows as a second chunk, and each chunk is parsed
/// on its own. The property under test: wherever the read ends, the
/// examples (or the error) are those of parsing the whole text at once.
enum ChunkingOracle {
    /// One parsed example: its label and features in order.
    struct Example: Equatable {
        var label: Float
        var slots: [UInt32]
        var values: [Double]

        static func == (a: Example, b: Example) -> Bool {
            (a.label == b.label || (a.label.isNaN && b.label.isNaN)) && a.slots == b.slots
                && zip(a.values, b.values).allSatisfy { $0.bitPattern == $1.bitPattern } && a.values.count == b.values.count
        }
    }

    /// What reading produced: the examples, or the error's message and line.
    enum Outcome: Equatable {
        case examples([Example])
        case failure(String, Int?)
    }

    /// A parser of rows: `parse(text, from, to, block, firstLine) -> (next, lines)`.
    typealias Parse = (UnsafePointer<UInt8>, Int, Int, ExampleBlock, Int) throws(FTRLError) -> (next: Int, lines: Int)

    /// Parses `text` as one chunk (cut < 0) or as the reader would with its
    /// first read ending after `cut` bytes.
    static func read(_ text: [UInt8], format: InputFormat, cut: Int, parse: Parse) -> Outcome {
        var input = text
        if let last = input.last, last != 0x0A { input.append(0x0A) }  // as the reader does at the end
        var chunks: [ArraySlice<UInt8>] = []
        if cut >= 0 && cut < text.count {
            var splitter = RecordSplitter(format: format)
            let end = input.withUnsafeBufferPointer { buf -> Int in
                splitter.scan(buf.baseAddress!, upTo: cut)
                return splitter.lastEnd
            }
            if end >= 0 {
                chunks = [input[0...end], input[(end + 1)...]]
            } else {
                chunks = [input[...]]
            }
        } else {
            chunks = [input[...]]
        }
        var examples: [Example] = []
        var line = 1
        let block = ExampleBlock(exampleCapacity: 64)
        for chunk in chunks where !chunk.isEmpty {
            let bytes = Array(chunk)
            var position = 0
            while position < bytes.count {
                block.reset()
                let result: (next: Int, lines: Int)
                do throws(FTRLError) {
                    result = try bytes.withUnsafeBufferPointer { buf throws(FTRLError) in
                        try parse(buf.baseAddress!, position, buf.count, block, line)
                    }
                } catch {
                    return .failure(error.message, error.line)
                }
                for e in 0..<block.count {
                    let range = block.offsets[e]..<block.offsets[e + 1]
                    examples.append(
                        Example(label: block.labels[e], slots: range.map { block.slots[$0] }, values: range.map { block.values[$0] }))
                }
                position = result.next
                line += result.lines
            }
        }
        return .examples(examples)
    }
}
