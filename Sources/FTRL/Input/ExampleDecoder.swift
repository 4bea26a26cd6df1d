/// Turns the decoded text of one input format into examples: the one
/// interface between the stream that reads files and the formats.
///
/// The stream hands each decoder chunks of whole records (see
/// `RecordSplitter`): `beginFile` on the input thread, in order; `decode`
/// on whichever thread parses the chunk (`ParseBoard`), each with its own
/// copy (`forAnotherThread()`). A new format is one
/// file with a type that conforms, plus its case in `InputFormat` and its
/// line in `InputFormat.decoder(_:)`.
protocol ExampleDecoder {
    /// Reads what starts a file (a header line, for instance) from the
    /// first chunk of each file, moving `position` and `line` past it.
    /// - Throws: `FTRLError` naming the file and line.
    mutating func beginFile(_ chunk: TextChunk, position: inout Int, line: inout Int) throws(FTRLError)

    /// Decodes the records of `text[start..<end]` into `block` until the
    /// block is full or the text ends (`end` follows a record's line break
    /// or is the end of the input).
    /// - Returns: where decoding stopped and how many lines it consumed.
    /// - Throws: `FTRLError` (.data) with `line` = `firstLine` + the lines
    ///   before the bad record; the examples before it stay in the block.
    mutating func decode(_ text: UnsafePointer<UInt8>, from start: Int, to end: Int, into block: ExampleBlock, firstLine: Int)
        throws(FTRLError) -> (next: Int, lines: Int)

    /// A decoder for another thread that decodes the same file's chunks as
    /// this one does, sharing no memory that decoding writes.
    func forAnotherThread() -> Self
}

/// What a decoder needs to know of the run: the schema, the hashing, and
/// whether it scores (then a header is recognised by its names and the
/// label may be missing); `columns` is where a delimited decoder publishes
/// the column names it found, for the trainer to store in the model.
struct DecoderContext: Sendable {
    let schema: InputSchema
    let hasher: FeatureHasher
    let scoring: Bool
    let columns: Shared<ResolvedColumns?>
    /// Whether each feature's name goes into `ExampleBlock.names` too.
    var naming = false
    /// The column whose value each example carries in `ExampleBlock.groups`, or nil.
    var groupBy: String?
}

extension InputFormat {
    /// The decoder of this format: the registry of formats.
    func decoder(_ context: DecoderContext) -> any ExampleDecoder {
        switch self {
        case .libsvm: return LibSVMParser(hasher: context.hasher, naming: context.naming)
        case .csv, .tsv: return DelimitedDecoder(context: context)
        }
    }
}
