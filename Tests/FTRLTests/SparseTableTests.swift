import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

/// The sparse weight table: its map from slot to row against a dictionary,
/// its models against the dense table's bytes, and its refusals.
struct SparseTableTests {
    /// Rows are handed out in first-seen order; a slot seen again keeps its
    /// row; an unseen slot has none; the map survives many doublings.
    @Test func theIndexAgreesWithADictionary() throws {
        let index = try SlotIndex(maxRows: 1 << 20) { _, _ in }
        var random = TestRandom(seed: 7)
        var truth: [UInt32: UInt32] = [:]
        var order: [UInt32] = []
        // The whole 32-bit range, both ends included, and many repeats.
        var keys: [UInt32] = [0, 0xFFFF_FFFF, 1, 0xFFFF_FFFE]
        for _ in 0..<300_000 {
            let r = random.next()
            keys.append(r % 3 == 0 ? keys[Int(r >> 8) % keys.count] : UInt32(truncatingIfNeeded: r >> 16))
        }
        for k in keys {
            let row = try index.insert(k)
            if let known = truth[k] {
                #expect(row == known, "slot \(k)")
            } else {
                #expect(Int(row) == truth.count, "slot \(k) is row \(row), not the next free one")
                truth[k] = row
                order.append(k)
            }
        }
        #expect(index.count == truth.count)
        #expect(index.count > 1 << 17, "the map must have doubled several times")
        for (k, row) in truth { #expect(index.row(of: k) == row) }
        for r in 0..<index.count { #expect(index.slots[r] == order[r]) }
        var absent = 0
        while absent < 10_000 {
            let k = UInt32(truncatingIfNeeded: random.next())
            if truth[k] == nil {
                #expect(index.row(of: k) == nil)
                absent += 1
            }
        }
        // A block's translation is the same rows as one insert at a time.
        let block = (0..<5000).map { _ in keys[Int(random.next() % UInt64(keys.count))] }
        var rows = [UInt32](repeating: 0, count: block.count)
        try block.withUnsafeBufferPointer { b in
            try rows.withUnsafeMutableBufferPointer { r in try index.translate(b.baseAddress!, b.count, into: r.baseAddress!) }
        }
        #expect(rows == block.map { truth[$0]! })
    }

    @Test func theRadixSortSortsBySlot() {
        var random = TestRandom(seed: 3)
        var keys = (0..<100_000).map { i in UInt64(UInt32(truncatingIfNeeded: random.next())) << 32 | UInt64(i) }
        keys += [0xFFFF_FFFF_0000_0000, 0, 0x0000_0001_0000_0000]
        var sorted = keys
        WeightTable<Float>.sortBySlot(&sorted)
        #expect(sorted.map { $0 >> 32 } == keys.map { $0 >> 32 }.sorted())
        #expect(Set(sorted) == Set(keys))
    }

    /// A sparse table's slots read back by slot as they were written, and its
    /// active slots come out ascending, whatever order they came in.
    @Test(arguments: [false, true])
    func restoredSlotsReadBackBySlot(_ ema: Bool) throws {
        let table = try WeightTable<Double>(bits: 32, withEMA: ema, layout: .sparse)
        #expect(table.isSparse)
        var random = TestRandom(seed: 11)
        var truth: [UInt32: Double] = [:]
        while truth.count < 20_000 {
            let s = UInt32(truncatingIfNeeded: random.next())
            if truth[s] != nil { continue }
            let w = Double(truth.count) + 0.5
            truth[s] = w
            try table.restore(slot: Int(s), w: w, n: 1, z: -w, average: ema ? w / 2 : 0, step: ema ? 3 : 0)
        }
        #expect(table.activeCount == truth.count)
        #expect(table.activeSlots() == truth.keys.sorted())
        for (slot, row) in table.activeRows() {
            #expect(table.slot(row: row).w == truth[slot])
            #expect(table.weight(ofSlot: slot) == truth[slot])
            #expect(table.isActive(Int(slot)))
            if ema { #expect(table.step(row: row).pointee == 3 && table.slot(row: row).average == truth[slot]! / 2) }
        }
        #expect(table.weight(ofSlot: 12345) == (truth[12345] ?? 0))
    }

    /// A table that reaches its most rows is refused with a message, not
    /// grown past its memory; so is a doubling the memory cannot hold.
    @Test func aFullTableIsRefused() throws {
        let tables = try WeightTable<Float>.interleaved(count: 1, bits: 32, withEMA: false, layout: .sparse, rowLimit: 100)
        var slots = (0..<101).map { UInt32($0 * 7919) }
        var rows = [UInt32](repeating: 0, count: slots.count)
        #expect {
            try slots.withUnsafeMutableBufferPointer { s in
                try rows.withUnsafeMutableBufferPointer { r in
                    _ = try tables[0].rows(of: s.baseAddress!, s.count, into: r.baseAddress!)
                }
            }
        } throws: { error in
            (error as? FTRLError)?.message.contains("the sparse table is full: 100 active slots") == true
        }
        let problem = WeightTable<Float>.growthProblem(
            rows: 1 << 24, rowBytes: 48, mapBytes: 1 << 28, bits: 32, tables: 3, available: (bytes: 512 << 20, source: "a test"))
        #expect(problem?.message.contains("3 settings hold 8388608 active slots of 2^32") == true, "\(problem?.message ?? "")")
        #expect(problem?.message.contains("only 512 MiB of memory is available (a test)") == true)
        #expect(
            WeightTable<Float>.growthProblem(
                rows: 1 << 20, rowBytes: 16, mapBytes: 1 << 23, bits: 32, tables: 1, available: (bytes: 1 << 30, source: "a test"))
                == nil)
    }

    /// `auto` is dense up to 1 GiB of tables in all and sparse beyond.
    @Test func autoChoosesBySize() throws {
        #expect(try !WeightTable<Float>(bits: 24, withEMA: false).isSparse)  // 256 MiB
        #expect(try !WeightTable<Float>(bits: 26, withEMA: false).isSparse)  // 1 GiB
        #expect(try WeightTable<Float>(bits: 27, withEMA: false).isSparse)
        #expect(try WeightTable<Double>(bits: 26, withEMA: false).isSparse)
        #expect(try WeightTable<Float>(bits: 32, withEMA: true).isSparse)
        #expect(try WeightTable<Float>(bits: 8, withEMA: false, layout: .sparse).isSparse)
        #expect(try !WeightTable<Float>(bits: 27, withEMA: false, layout: .dense).isSparse)
    }

    /// Training with the sparse table writes the dense table's bytes, with
    /// EMA (lazy overwrites included), clipping and float64, from one file
    /// read whole and from blocks fed in pieces. From 2^20 slots a dense
    /// table's records are made by two threads at once (`PairedRecords`),
    /// a sparse one's still written as found.
    @Test(arguments: [
        #"{"bits": 12}"#,
        #"{"bits": 20}"#,
        #"{"bits": 21, "dtype": "float64", "use_ema": true, "ema_overwrite_frequency": 7}"#,
        #"{"bits": 12, "dtype": "float64", "batch_size": 7, "l2_shrinkage_regularization_strength": 0.01}"#,
        #"{"bits": 10, "use_ema": true, "ema_overwrite_frequency": 5, "batch_size": 3}"#,
        #"{"bits": 12, "clipnorm": 0.5, "learning_rate_power": -0.3}"#,
    ])
    func sparseTrainingWritesTheDenseBytes(_ json: String) throws {
        let dir = try Scratch()
        let config = try FTRLConfig(jsonText: json)
        let data = try dir.write("d.svm", TrainingPropertyTests.log(3000))
        var files: [[UInt8]] = []
        for layout in [TableLayout.dense, .sparse] {
            let path = dir.path("\(layout).ftrl")
            let model = try AnyModel(config: config, layout: layout)
            _ = try TrainingRun(inputs: [data]).run(on: model)
            try model.open(Save(path: path))
            files.append(try ModelFile.readAll(path: path))
            let read = try ModelFile.read(path: path, table: layout)
            #expect(read.isSparse == (layout == .sparse))
        }
        #expect(files[0] == files[1])
        // Blocks fed in ranges of 1 to 5 examples, a sparse table's rows known per range.
        let block = try parse(TrainingPropertyTests.log(60), hasher: config.hasher)
        var pieces: [[UInt8]] = []
        for layout in [TableLayout.dense, .sparse] {
            let path = dir.path("pieces-\(layout).ftrl")
            let model = try AnyModel(config: config, layout: layout)
            try model.open(FeedInPieces(block: block))
            try model.open(Save(path: path))
            pieces.append(try ModelFile.readAll(path: path))
        }
        #expect(pieces[0] == pieces[1])
    }

    struct Save: ModelBody {
        let path: String
        func run<F: FTRLScalar>(_ m: Model<F>) throws(FTRLError) { try ModelFile.write(m, to: path) }
    }

    struct FeedInPieces: ModelBody {
        let block: ExampleBlock
        func run<F: FTRLScalar>(_ m: Model<F>) throws(FTRLError) {
            let trainer = Trainer(model: m)
            var e = 0
            var n = 1
            while e < block.count {
                let end = min(block.count, e + n)
                _ = try trainer.feed(block, examples: e..<end)
                e = end
                n = n % 5 + 1
            }
            try trainer.flush()
        }
    }
}

extension AnyModel {
    var isSparse: Bool {
        struct Get: ModelBody { func run<F: FTRLScalar>(_ m: Model<F>) -> Bool { m.table.isSparse } }
        return try! open(Get())
    }
}
