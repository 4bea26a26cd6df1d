/// Scores blocks of examples with a model, from any producer: the
/// probability of a click for each example, in order.
public final class Predictor<F: FTRLScalar> {
    /// The model that scores, its exported weights in place (`finalizeForScoring`).
    public let model: Model<F>
    private var scored = 0

    /// A predictor for `model`; an EMA model is finalized for scoring first
    /// (it must not be trained or saved afterwards).
    public init(model: Model<F>) {
        model.finalizeForScoring()
        self.model = model
    }

    /// Scores the examples of `block`.
    /// - Parameters:
    ///   - block: the examples.
    ///   - probabilities: receives one probability per example, replacing what it held.
    /// - Throws: `FTRLError` (.data) for an example whose log-odds overflow the
    ///   model's precision (a feature value beyond it): refused rather than scored NaN.
    public func score(_ block: ExampleBlock, into probabilities: inout [F]) throws(FTRLError) {
        probabilities.removeAll(keepingCapacity: true)
        let compact = model.compact
        let table = model.table
        let offsets = block.offsets
        let slots = block.slots
        for e in 0..<block.count {
            // The next example's weights on their way while this one is summed.
            if e + 1 < block.count {
                if let compact {
                    for j in offsets[e + 1]..<offsets[e + 2] { compact.prefetch(slots[j]) }
                } else {
                    for j in offsets[e + 1]..<offsets[e + 2] { table.prefetch(slot: slots[j]) }
                }
            }
            let m = model.margin(block, e)
            if !m.isFinite { throw overflow(scored + e + 1) }
            probabilities.append(sigmoid(m))
        }
        scored += block.count
    }

    /// A score that is no number, or only the sign of an infinity.
    @inline(never)
    private func overflow(_ example: Int) -> FTRLError {
        FTRLError(
            .data,
            "example \(example) cannot be scored: its log-odds overflow \(F.dtypeName) "
                + "(a feature value too large for the model; scale the values)")
    }
}
