import FTRLTestSupport
import Foundation
import Testing

/// `ftrl-model merge`: the rule checked by hand on tiny models, the
/// properties a cluster job relies on (order does not matter, one model is
/// left as it is, a tree of merges weighs every shard once), the counters,
/// EMA, resuming a merged model, and the refusals.
struct ModelMergeTests {
    /// Rows of a tiny LibSVM log whose features are slot numbers (`--hash identity`).
    static let shardA = "1 1:1 2:1\n0 2:1 3:1\n1 1:1\n"
    static let shardB = "0 1:1 4:1\n1 2:1\n"
    static let shardC = "1 2:1 5:1\n0 1:1\n1 1:1 2:1\n0 5:1\n"
    /// Slots 3 and 5: each in one other shard.
    static let shardE = "1 3:1 5:1\n0 3:1\n"
    static let flags = ["-q", "--hash", "identity", "--bits", "4"]

    /// `ftrl-model state` as slot -> (w, n, z[, ema]), the bias under "bias".
    static func state(_ model: String) throws -> [String: [Double]] {
        let run = try Tools.run("ftrl-model", ["state", model])
        #expect(run.status == 0, "\(run.stderr)")
        var out: [String: [Double]] = [:]
        for row in tsvRows(run.stdout) {
            out[row[0]] = row.dropFirst().filter { !$0.isEmpty }.map { Double($0) ?? .nan }
        }
        return out
    }

    static func info(_ model: String) throws -> [String: Any] {
        let run = try Tools.run("ftrl-model", ["info", model])
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
    }

    /// Trains `rows` into `name` with `extra` flags; returns its path.
    static func train(_ dir: TemporaryDirectory, _ name: String, _ rows: String, _ extra: [String] = []) throws -> String {
        let data = try dir.write(name + ".svm", rows)
        let model = dir.path(name + ".ftrl")
        let run = try Tools.run("ftrl-train", flags + extra + ["-m", model, data])
        #expect(run.status == 0, "\(run.stderr)")
        return model
    }

    static func merge(_ arguments: [String]) throws -> ToolRun { try Tools.run("ftrl-model", ["merge", "-q"] + arguments) }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// The weight the update derives from z and n at the default settings
    /// (learning rate 0.1, power -0.5, l1 0.1, l2 0.5, beta 1), in float32.
    static func weight(z: Float, n: Float) -> Float {
        let lr: Float = 0.1
        let q = n.squareRoot() / lr + 2 * (0.5 + 1 / (2 * lr))
        let clamped = max(min(z, 0.1), -0.1)
        return (clamped - z) / q
    }

    @Test func averagesTheShardsThatChangedASlotAndKeepsTheRest() throws {
        let dir = try TemporaryDirectory()
        let a = try Self.train(dir, "a", Self.shardA)
        let b = try Self.train(dir, "b", Self.shardB)
        let out = dir.path("m.ftrl")
        let run = try Self.merge(["-o", out, a, b])
        #expect(run.status == 0, "\(run.stderr)")
        let (sa, sb, m) = (try Self.state(a), try Self.state(b), try Self.state(out))
        // Slots 1 and 2 are in both shards: z and n averaged, w from them.
        for slot in ["1", "2", "bias"] {
            let n = Float((Double(Float(sa[slot]![1])) + Double(Float(sb[slot]![1]))) / 2)
            let z = Float((Double(Float(sa[slot]![2])) + Double(Float(sb[slot]![2]))) / 2)
            #expect(Float(m[slot]![1]) == n, "n of \(slot)")
            #expect(Float(m[slot]![2]) == z, "z of \(slot)")
            #expect(Float(m[slot]![0]) == Self.weight(z: z, n: n), "w of \(slot)")
        }
        // Slot 3 only in a, slot 4 only in b: kept as they are.
        #expect(m["3"]! == sa["3"]!)
        #expect(m["4"]! == sb["4"]!)
        #expect(Set(m.keys) == ["1", "2", "3", "4", "bias"])
        // The counters add up.
        let info = try Self.info(out)
        #expect(info["examples"] as? Int == 5)
        #expect(info["iterations"] as? Int == 5)
    }

    /// Random rows over 15 features with fractional values.
    static func randomRows(_ count: Int, seed: UInt64) -> String {
        var random = TestRandom(seed: seed)
        var out = ""
        for _ in 0..<count {
            out += random.below(3) == 0 ? "1" : "0"
            for f in Set((0..<4).map { _ in 1 + random.below(15) }).sorted() {
                out += " \(f):\(String(format: "%.3f", 0.1 + random.unit()))"
            }
            out += "\n"
        }
        return out
    }

    /// In float64 the order of a sum shows in its last bits: the inputs are
    /// summed in the order of their checksums, not of the command line.
    @Test(arguments: [["--dtype", "float64"], ["--dtype", "float64", "--ema"], [String]()])
    func theOrderOfTheInputsDoesNotMatter(_ extra: [String]) throws {
        let dir = try TemporaryDirectory()
        var models: [String] = []
        for k in 0..<5 { models.append(try Self.train(dir, "s\(k)", Self.randomRows(200, seed: UInt64(k + 1)), extra)) }
        var outputs: [Data] = []
        for (k, order) in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3], [1, 3, 0, 4, 2]].enumerated() {
            let out = dir.path("m\(k).ftrl")
            let run = try Self.merge(["-o", out] + order.map { models[$0] })
            #expect(run.status == 0, "\(run.stderr)")
            outputs.append(try Self.bytes(out))
        }
        #expect(Set(outputs).count == 1)
    }

    @Test(arguments: [[String](), ["--ema"], ["--ema", "--dtype", "float64", "--batch-size", "2"]])
    func mergingOneModelChangesNothing(_ extra: [String]) throws {
        let dir = try TemporaryDirectory()
        let a = try Self.train(dir, "a", Self.shardA + Self.shardC, extra)
        let out = dir.path("m.ftrl")
        #expect(try Self.merge(["-o", out, a]).status == 0)
        #expect(try Self.bytes(out) == Self.bytes(a))
        // Resumed from a base, merged with that base: the resumed model.
        let rest = try dir.write("rest.svm", Self.shardB)
        let resumed = dir.path("r.ftrl")
        #expect(try Tools.run("ftrl-train", Self.flags + extra + ["--resume", a, "-m", resumed, rest]).status == 0)
        let out2 = dir.path("m2.ftrl")
        let run = try Self.merge(["-o", out2, "--base", a, resumed])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.bytes(out2) == Self.bytes(resumed))
    }

    /// z and n as the `state` listing prints them, summed in double precision.
    static func sum(_ states: [[String: [Double]]], _ slot: String, _ field: Int) -> Double {
        states.reduce(0.0) { $0 + Double(Float($1[slot]![field])) }
    }

    @Test func theChangesOfASlotThatOnlySomeShardsChangedAreSummed() throws {
        let dir = try TemporaryDirectory()
        let a = try Self.train(dir, "a", Self.shardA)
        let b = try Self.train(dir, "b", Self.shardB)
        let e = try Self.train(dir, "e", Self.shardE)
        let (mixed, averaged) = (dir.path("mixed.ftrl"), dir.path("averaged.ftrl"))
        let run = try Self.merge(["-o", mixed, a, b, e])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.merge(["-o", averaged, "--rule", "average", a, b, e]).status == 0)
        let (sa, sb, se, m, v) = (try Self.state(a), try Self.state(b), try Self.state(e), try Self.state(mixed), try Self.state(averaged))
        // Slot 3 is in a and e, 2 of the 3 shards: from nothing, their z and n summed.
        let (n3, z3) = (Float(Self.sum([sa, se], "3", 1)), Float(Self.sum([sa, se], "3", 2)))
        #expect(Float(m["3"]![1]) == n3 && Float(m["3"]![2]) == z3)
        #expect(Float(m["3"]![0]) == Self.weight(z: z3, n: n3))
        // --rule average: their averages.
        let (an3, az3) = (Float(Self.sum([sa, se], "3", 1) / 2), Float(Self.sum([sa, se], "3", 2) / 2))
        #expect(Float(v["3"]![1]) == an3 && Float(v["3"]![2]) == az3)
        #expect(Float(v["3"]![0]) == Self.weight(z: az3, n: an3))
        // The bias, in every shard, is averaged by both rules; slot 4, in b only, kept.
        for state in [m, v] {
            let (n, z) = (Float(Self.sum([sa, sb, se], "bias", 1) / 3), Float(Self.sum([sa, sb, se], "bias", 2) / 3))
            #expect(Float(state["bias"]![1]) == n && Float(state["bias"]![2]) == z)
            #expect(state["4"]! == sb["4"]!)
        }
        // Slot 1 is in a and b: summed by the default rule.
        #expect(Float(m["1"]![2]) == Float(Self.sum([sa, sb], "1", 2)))
    }

    @Test func fromABaseTheSumOfSomeShardsChangesIsAddedToTheBase() throws {
        let dir = try TemporaryDirectory()
        let base = try Self.train(dir, "base", Self.shardC)
        var shards: [String] = []
        for (name, rows) in [("a", Self.shardA), ("b", Self.shardB), ("e", Self.shardE)] {
            let out = dir.path(name + ".ftrl")
            #expect(
                try Tools.run("ftrl-train", Self.flags + ["--resume", base, "-m", out, try dir.write(name + ".svm", rows)]).status == 0)
            shards.append(out)
        }
        let out = dir.path("m.ftrl")
        let run = try Self.merge(["-o", out, "--base", base] + shards)
        #expect(run.status == 0, "\(run.stderr)")
        let (s0, m) = (try Self.state(base), try Self.state(out))
        let (sa, sb, se) = (try Self.state(shards[0]), try Self.state(shards[1]), try Self.state(shards[2]))
        // Slot 5: in the base (from c's rows) and changed by e only: e's state.
        #expect(m["5"]! == se["5"]!)
        // Slot 1: changed by a and b, not e: the base's z and n plus both changes.
        for field in [1, 2] {
            let expected = Float(Self.sum([sa, sb], "1", field) - Double(Float(s0["1"]![field])))
            #expect(Float(m["1"]![field]) == expected, "field \(field)")
        }
        #expect(Float(m["1"]![0]) == Self.weight(z: Float(m["1"]![2]), n: Float(m["1"]![1])))
    }

    /// Merges below the top of a tree take `--rule average`; the top merge
    /// then gives what one merge of all the shards gives.
    @Test func aTreeOfMergesGivesTheMergeOfAllTheShards() throws {
        let dir = try TemporaryDirectory()
        let a = try Self.train(dir, "a", Self.shardA)
        let b = try Self.train(dir, "b", Self.shardB)
        let c = try Self.train(dir, "c", Self.shardC)
        let e = try Self.train(dir, "e", Self.shardE)
        let (ae, bc, tree, flat, wrong) = (
            dir.path("ae.ftrl"), dir.path("bc.ftrl"), dir.path("tree.ftrl"), dir.path("flat.ftrl"), dir.path("wrong.ftrl")
        )
        #expect(try Self.merge(["-o", ae, "--rule", "average", a, e]).status == 0)
        #expect(try Self.merge(["-o", bc, "--rule", "average", b, c]).status == 0)
        #expect(try Self.merge(["-o", tree, ae, bc]).status == 0)
        #expect(try Self.merge(["-o", flat, a, e, b, c]).status == 0)
        let (t, f) = (try Self.state(tree), try Self.state(flat))
        #expect(Set(t.keys) == Set(f.keys))
        for (slot, values) in f {
            for k in 0..<3 {
                #expect(abs(t[slot]![k] - values[k]) <= 1e-6 * max(1, abs(values[k])), "slot \(slot) field \(k)")
            }
        }
        // Slot 3 (a and e, averaged in ae) and slot 5 (c and e, across the tree) are sums.
        let (sa, sc, se) = (try Self.state(a), try Self.state(c), try Self.state(e))
        #expect(abs(t["3"]![2] - Self.sum([sa, se], "3", 2)) <= 1e-6 * abs(t["3"]![2]))
        #expect(abs(t["5"]![2] - Self.sum([sc, se], "5", 2)) <= 1e-6 * abs(t["5"]![2]))
        #expect(try Self.info(tree)["examples"] as? Int == 3 + 2 + 4 + 2)
        // Merged with the default rule below the top, ae holds a sum that the top would take for an average.
        #expect(try Self.merge(["-o", ae, a, e]).status == 0)
        #expect(try Self.merge(["-o", wrong, ae, bc]).status == 0)
        #expect(abs(try Self.state(wrong)["3"]![2] - t["3"]![2]) > 1e-4)
    }

    @Test func aTreeOfAveragesWeighsEveryShardOnce() throws {
        let dir = try TemporaryDirectory()
        let a = try Self.train(dir, "a", Self.shardA)
        let b = try Self.train(dir, "b", Self.shardB)
        let c = try Self.train(dir, "c", Self.shardC)
        let (ab, tree, flat) = (dir.path("ab.ftrl"), dir.path("tree.ftrl"), dir.path("flat.ftrl"))
        #expect(try Self.merge(["-o", ab, "--rule", "average", a, b]).status == 0)
        #expect(try Self.merge(["-o", tree, "--rule", "average", ab, c]).status == 0)
        #expect(try Self.merge(["-o", flat, "--rule", "average", a, b, c]).status == 0)
        let (t, f, sab, sc) = (try Self.state(tree), try Self.state(flat), try Self.state(ab), try Self.state(c))
        #expect(Set(t.keys) == Set(f.keys))
        for (slot, values) in f {
            for k in 0..<3 {
                #expect(abs(t[slot]![k] - values[k]) <= 1e-6 * max(1, abs(values[k])), "slot \(slot) field \(k)")
            }
        }
        // Slot 1 is in a, b and c: the tree weighs ab twice, not once.
        let evenly = (sab["1"]![1] + sc["1"]![1]) / 2
        #expect(abs(t["1"]![1] - evenly) > 1e-4)
        #expect(try Self.info(tree)["examples"] as? Int == 9)
    }

    @Test func fromABaseTheShardsChangesAreMergedAndTheCountersAddUp() throws {
        let dir = try TemporaryDirectory()
        let base = try Self.train(dir, "base", Self.shardC)
        let a = dir.path("a.ftrl")
        let b = dir.path("b.ftrl")
        #expect(try Tools.run("ftrl-train", Self.flags + ["--resume", base, "-m", a, try dir.write("a.svm", Self.shardA)]).status == 0)
        #expect(try Tools.run("ftrl-train", Self.flags + ["--resume", base, "-m", b, try dir.write("b.svm", Self.shardB)]).status == 0)
        let out = dir.path("m.ftrl")
        let run = try Self.merge(["-o", out, "--base", base, a, b])
        #expect(run.status == 0, "\(run.stderr)")
        let (s0, sa, sb, m) = (try Self.state(base), try Self.state(a), try Self.state(b), try Self.state(out))
        // Slot 5 is only in the base's rows: neither shard changed it.
        #expect(m["5"]! == s0["5"]!)
        #expect(sa["5"]! == s0["5"]! && sb["5"]! == s0["5"]!)
        // Slot 3 changed in a only, slot 4 in b only.
        #expect(m["3"]! == sa["3"]! && m["4"]! == sb["4"]!)
        let info = try Self.info(out)
        #expect(info["examples"] as? Int == 4 + 3 + 2)
        #expect(info["iterations"] as? Int == 4 + 3 + 2)
        // The merged model resumes.
        let next = dir.path("next.ftrl")
        let more = try Tools.run("ftrl-train", Self.flags + ["--resume", out, "-m", next, try dir.write("c.svm", Self.shardC)])
        #expect(more.status == 0, "\(more.stderr)")
        #expect(try Self.info(next)["examples"] as? Int == 13)
    }

    @Test func blockMomentumCarriesTheLastRoundsChangeOn() throws {
        let dir = try TemporaryDirectory()
        let previous = try Self.train(dir, "p", Self.shardC)
        let base = dir.path("base.ftrl")
        #expect(
            try Tools.run("ftrl-train", Self.flags + ["--resume", previous, "-m", base, try dir.write("b0.svm", Self.shardB)]).status == 0)
        let a = dir.path("a.ftrl")
        let b = dir.path("b.ftrl")
        #expect(try Tools.run("ftrl-train", Self.flags + ["--resume", base, "-m", a, try dir.write("a.svm", Self.shardA)]).status == 0)
        #expect(try Tools.run("ftrl-train", Self.flags + ["--resume", base, "-m", b, try dir.write("c.svm", Self.shardC)]).status == 0)
        let (plain, moved) = (dir.path("plain.ftrl"), dir.path("moved.ftrl"))
        #expect(try Self.merge(["-o", plain, "--base", base, a, b]).status == 0)
        let run = try Self.merge(["-o", moved, "--base", base, "--momentum", "0.5", "--previous", previous, a, b])
        #expect(run.status == 0, "\(run.stderr)")
        let (sp, s0, m, mm) = (try Self.state(previous), try Self.state(base), try Self.state(plain), try Self.state(moved))
        for slot in ["1", "2", "3", "4", "5", "bias"] {
            let zPrevious = sp[slot]?[2] ?? 0
            let z = Float(Double(Float(m[slot]![2])) + 0.5 * ((s0[slot]?[2] ?? 0) - zPrevious))
            #expect(Float(mm[slot]![2]) == z, "z of \(slot)")
            #expect(Float(mm[slot]![1]) == Float(m[slot]![1]), "n of \(slot)")
            #expect(Float(mm[slot]![0]) == Self.weight(z: z, n: Float(m[slot]![1])), "w of \(slot)")
        }
        // Refused without its other half, or with a previous model that comes after the base.
        #expect(try Self.merge(["-o", moved, "--base", base, "--momentum", "0.5", a, b]).status == 64)
        let wrong = try Self.merge(["-o", moved, "--base", previous, "--momentum", "0.5", "--previous", base, a, b])
        #expect(wrong.status == 64, "\(wrong.stderr)")
    }

    @Test(arguments: [
        (["--bits", "5"], "bits"),
        (["--dtype", "float64"], "precision"),
        (["--hash-seed", "3"], "hash_seed"),
        (["--hash", "murmur3"], "hash"),
        (["--ema"], "use_ema"),
        (["--l1", "2"], "l1_regularization_strength"),
        (["--learning-rate", "0.2"], "learning_rate"),
    ])
    func modelsThatMeanDifferentThingsAreRefused(_ other: [String], _ named: String) throws {
        let dir = try TemporaryDirectory()
        let a = try Self.train(dir, "a", Self.shardA)
        let b = try Self.train(dir, "b", Self.shardB, other)
        let out = dir.path("m.ftrl")
        for order in [[a, b], [b, a]] {
            let run = try Self.merge(["-o", out] + order)
            #expect(run.status == 64, "\(run.stderr)")
            #expect(run.stderr.contains(named), "\(run.stderr)")
            #expect(run.stderr.contains("a.ftrl") && run.stderr.contains("b.ftrl"), "\(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func aSchemaThatDiffersIsRefused() throws {
        let dir = try TemporaryDirectory()
        let csvA = try dir.write("a.csv", "y,site,app\n1,s1,a1\n0,s2,a1\n")
        let csvB = try dir.write("b.csv", "y,site,ad\n1,s1,x\n0,s2,y\n")
        let (a, b) = (dir.path("a.ftrl"), dir.path("b.ftrl"))
        #expect(try Tools.run("ftrl-train", ["-q", "--format", "csv", "--label", "y", "-m", a, csvA]).status == 0)
        #expect(try Tools.run("ftrl-train", ["-q", "--format", "csv", "--label", "y", "--categorical", "site", "-m", b, csvB]).status == 0)
        let run = try Self.merge(["-o", dir.path("m.ftrl"), a, b])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("categorical"), "\(run.stderr)")
    }

    @Test func aBaseThatIsNotTheShardsStartIsRefused() throws {
        let dir = try TemporaryDirectory()
        let big = try Self.train(dir, "big", Self.shardA + Self.shardB + Self.shardC)
        let a = try Self.train(dir, "a", Self.shardA)
        let run = try Self.merge(["-o", dir.path("m.ftrl"), "--base", big, a])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("not trained from that model"), "\(run.stderr)")
    }

    @Test func aBrokenOrMissingInputIsReportedAndTheOutputKept() throws {
        let dir = try TemporaryDirectory()
        let a = try Self.train(dir, "a", Self.shardA)
        let out = dir.path("m.ftrl")
        try "old".write(toFile: out, atomically: true, encoding: .utf8)
        let junk = try dir.write("junk.ftrl", "not a model at all, just text")
        var run = try Self.merge(["-o", out, a, junk])
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stderr.contains("junk.ftrl"), "\(run.stderr)")
        run = try Self.merge(["-o", out, a, dir.path("missing.ftrl")])
        #expect(run.status == 66, "\(run.stderr)")
        #expect(run.stderr.contains("missing.ftrl"), "\(run.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "old")
    }
}
