/// The decoder of CSV and TSV: reads each file's header (or, for a
/// headerless file, its first row's field count), resolves what each column
/// means, and hands the rows to a `DelimitedParser` made for those columns.
struct DelimitedDecoder: ExampleDecoder {
    let context: DecoderContext
    private var parser: DelimitedParser?

    init(context: DecoderContext) {
        self.context = context
    }

    @inline(__always)
    mutating func decode(_ text: UnsafePointer<UInt8>, from start: Int, to end: Int, into block: ExampleBlock, firstLine: Int)
        throws(FTRLError) -> (next: Int, lines: Int)
    {
        try parser!.parse(text, from: start, to: end, into: block, firstLine: firstLine)
    }

    /// The same columns, with a parser (and its scratch memory) of its own.
    func forAnotherThread() -> DelimitedDecoder {
        var copy = DelimitedDecoder(context: context)
        if let parser {
            let other = DelimitedParser(plan: parser.plan, format: context.schema.format, hasher: context.hasher, naming: parser.naming)
            other.groupField = parser.groupField
            copy.parser = other
        }
        return copy
    }

    /// Reads the start of a delimited file (its header, or its first row's
    /// field count) and returns the parser for its rows.
    mutating func beginFile(_ chunk: TextChunk, position: inout Int, line: inout Int) throws(FTRLError) {
        parser = try start(chunk, &position, &line)
    }

    private func start(_ chunk: TextChunk, _ position: inout Int, _ line: inout Int) throws(FTRLError) -> DelimitedParser {
        let schema = context.schema
        let hasher = context.hasher
        let format = schema.format
        // Columns that the flags or the model name but the file lacks stay
        // usage errors (64); anything else about the file is a data error.
        func fail(_ error: FTRLError, line: Int = 1) -> FTRLError {
            var e = error
            if e.kind != .usage { e.kind = .data }
            e.path = chunk.path
            e.line = line
            return e
        }
        // Skip blank lines before the header or first row.
        while position < chunk.length && (chunk.bytes[position] == 0x0A || chunk.bytes[position] == 0x0D) {
            if chunk.bytes[position] == 0x0A { line += 1 }
            position += 1
        }
        let first: (fields: [String], next: Int, lines: Int)?
        do throws(FTRLError) {
            first = try DelimitedParser.fields(chunk.bytes, position, chunk.length, format: format)
        } catch {
            throw fail(error, line: line)
        }
        var known = context.columns.value
        if known == nil, let names = schema.columns {
            do throws(FTRLError) {
                known = try ResolvedColumns(schema: schema, names: names, named: !Self.isPositional(names))
            } catch {
                throw fail(error)
            }
        }
        var present: [Int?]
        if context.scoring {
            guard let columns = known else { throw fail(FTRLError(.data, "the model has no column names for delimited input")) }
            let names = columns.names
            guard let first else {
                return DelimitedParser(
                    plan: FieldPlan(schema: schema, columns: columns, present: names.indices.map { $0 }, hashSeed: hasher.seed),
                    format: format, hasher: hasher, naming: context.naming)
            }
            let looksLikeHeader =
                !Self.isPositional(names) && first.fields.count >= 2 && first.fields.allSatisfy { names.contains($0) }
                && Set(first.fields).count == first.fields.count
            if looksLikeHeader {
                present = first.fields.map { names.firstIndex(of: $0) }
                position = first.next
                line += first.lines
            } else if first.fields.count == names.count {
                present = names.indices.map { $0 }
            } else if first.fields.count == names.count - 1 {
                let label = columns.labelIndex
                present = names.indices.filter { $0 != label }.map { $0 }
            } else {
                throw fail(
                    FTRLError(.data, "expected \(names.count) fields (\(names.count - 1) without the label), found \(first.fields.count)"),
                    line: line)
            }
            publish(columns)
            let parser = DelimitedParser(
                plan: FieldPlan(schema: schema, columns: columns, present: present, hashSeed: hasher.seed), format: format,
                hasher: hasher, naming: context.naming)
            if let group = context.groupBy {
                guard let c = names.firstIndex(of: group), let field = present.firstIndex(of: c) else {
                    throw fail(
                        FTRLError(.usage, "--metrics-by \(group): the file has no such column (it has \(ResolvedColumns.summary(names)))"))
                }
                parser.groupField = field
            }
            return parser
        }
        let columns: ResolvedColumns
        if schema.hasHeader {
            guard let first else {
                throw fail(FTRLError(.data, "expected a header line"), line: line)
            }
            if let (name, a, b) = ResolvedColumns.duplicate(in: first.fields) {
                throw fail(
                    FTRLError(.data, "the header names column \"\(name)\" twice (fields \(a + 1) and \(b + 1)); column names must differ"),
                    line: line)
            }
            if let known {
                if first.fields != known.names {
                    throw fail(
                        FTRLError(
                            .data, "the header differs from the columns \(ResolvedColumns.summary(known.names))",
                            text: first.fields.joined(separator: String(UnicodeScalar(format.separator)))), line: line)
                }
                columns = known
            } else {
                do throws(FTRLError) {
                    columns = try ResolvedColumns(schema: schema, names: first.fields, named: true)
                } catch {
                    throw fail(error, line: line)
                }
            }
            position = first.next
            line += first.lines
        } else if let known {
            columns = known
        } else {
            let count = first?.fields.count ?? 0
            do throws(FTRLError) {
                columns = try ResolvedColumns(schema: schema, names: (0..<count).map { String($0 + 1) }, named: false)
            } catch {
                throw fail(error, line: line)
            }
        }
        publish(columns)
        present = columns.names.indices.map { $0 }
        return DelimitedParser(
            plan: FieldPlan(schema: schema, columns: columns, present: present, hashSeed: hasher.seed), format: format, hasher: hasher,
            naming: context.naming)
    }

    /// Whether column names are just positions 1...N (a headerless file without --columns).
    static func isPositional(_ names: [String]) -> Bool {
        names.enumerated().allSatisfy { $0.element == String($0.offset + 1) }
    }

    private func publish(_ columns: ResolvedColumns) {
        context.columns.update { if $0 == nil { $0 = columns } }
    }
}
