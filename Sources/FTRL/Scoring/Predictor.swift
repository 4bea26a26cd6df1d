/// Scores input files with a model, streaming: one probability per example,
/// in input order, printed in the shortest form that reads back to the same
/// number of the model's precision.
public final class Predictor<F: FTRLScalar> {
    /// The model that scores.
    public let model: Model<F>

    /// A predictor for `model`.
    public init(model: Model<F>) {
        self.model = model
    }

    /// Scores `paths` in order.
    /// - Parameters:
    ///   - paths: input files (`-` is standard input).
    ///   - output: where the probabilities go, or nil to print none.
    ///   - metrics: collects quality figures when not nil.
    /// - Returns: the number of examples scored.
    /// - Throws: `FTRLError` for bad input or a failed write.
    @discardableResult
    public func score(paths: [String], output: OutputWriter?, metrics: inout Metrics?) throws(FTRLError) -> Int {
        let stream = ExampleStream(paths: paths, hasher: model.hasher, schema: model.config.schema, scoring: true)
        var count = 0
        while let block = try stream.next() {
            for e in 0..<block.count {
                let m = model.margin(block, e)
                if !m.isFinite { throw overflow(count + e + 1) }
                let p = sigmoid(m)
                if let output { try output.line(p.description) }
                let label = block.labels[e]
                if !label.isNaN { metrics?.add(p.asDouble, label: label == 1) }
            }
            count += block.count
            stream.recycle(block)
        }
        try output?.flush()
        return count
    }

    /// A score that is no number, or only the sign of an infinity: a
    /// feature value beyond the model's precision. Refused rather than printed.
    @inline(never)
    private func overflow(_ example: Int) -> FTRLError {
        FTRLError(
            .data,
            "example \(grouped(example)) cannot be scored: its log-odds overflow \(F.dtypeName) "
                + "(a feature value too large for the model; scale the values)")
    }
}
