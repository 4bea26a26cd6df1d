#!/usr/bin/env python3
"""ftrl's synthetic click-log generator: Criteo-shaped rows from a known model.

Every row has a 0/1 click, 13 integer count columns I1..I13 and 26 categorical
columns C1..C26. The categorical columns have the cardinalities of the Criteo
Display Advertising Challenge data (the counts published for its Kaggle train
set), values drawn from a bounded power law per column and written as 8 hex
digits; some columns go missing, some together. The counts are heavy-tailed
and correlated through one latent "user activity" factor.

The click comes from a true logistic model the generator knows:

    logit = b + sum_c s_c * w(c, value_c)            one weight per categorical value
              + sum_j t_j * slog1p(I_j)              the counts, signed log1p
              + s_x * w(C6 x C9 pair)                one interaction
    p = sigmoid(logit), click ~ Bernoulli(p)

with w(...) standard normal numbers derived from a hash of (seed, column,
value), so no table of 33M weights is stored, and b set so the mean click rate
is --ctr. --true-prob writes p per row: the Bayes-optimal logloss of the rows.

Rows are a pure function of (seed, row number), so a test set is the rows that
follow a train set: --start N.

Formats:
  libsvm  label idx:val ... with 1-based sorted indices: 1..13 the counts
          (value slog1p, omitted when 0 or missing), then 14 + offset_c + rank
          for categorical value rank of column c (value 1).
  vw      Vowpal Wabbit text: "1 |i I1:v ... |c C1_68fd1e64 ..." (labels -1/1).
  criteo  the raw Criteo TSV: label, 13 integers, 26 hex strings, '' = missing.

usage: gen_clicklog.py --rows N [--start S] [--seed K] [--ctr P]
                       --format libsvm|vw|criteo -o FILE[.gz] [--true-prob FILE]
"""
import argparse
import math
import subprocess
import sys

import numpy as np

# Distinct values of C1..C26 in Criteo's Kaggle train set.
CARDINALITY = np.array([1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145,
                        5683, 8351593, 3194, 27, 14992, 5461306, 10, 5652, 2173, 4,
                        7046547, 18, 15, 286181, 105, 142572], dtype=np.int64)
OFFSET = np.concatenate([[0], np.cumsum(CARDINALITY)[:-1]])
N_INT, N_CAT = 13, 26
BLOCK = 1 << 15
MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix(x):
    """SplitMix64 finaliser on a uint64 array: a good, cheap integer hash."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & MASK64
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & MASK64
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & MASK64
        return x ^ (x >> np.uint64(31))


def hashed_normal(seed, column, keys):
    """Standard normal numbers that depend only on (seed, column, key)."""
    with np.errstate(over="ignore"):
        base = np.uint64(seed * 1000003 + column * 7919 + 17)
        h1 = splitmix(keys.astype(np.uint64) * np.uint64(0x100000001B3) + base)
        h2 = splitmix(h1 ^ np.uint64(0x5851F42D4C957F2D))
    u1 = ((h1 >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)
    u2 = (h2 >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


class World:
    """The fixed parts of the model, drawn from the seed."""

    def __init__(self, seed, ctr):
        rng = np.random.default_rng([seed, 0xC11C])
        self.seed = seed
        self.zipf = rng.uniform(1.05, 1.35, N_CAT)          # power-law exponent per column
        self.zipf[CARDINALITY > 1_000_000] = rng.uniform(0.9, 1.0, int((CARDINALITY > 1_000_000).sum()))
        self.scale = rng.uniform(0.15, 0.7, N_CAT)           # how much each column matters
        self.missing = np.zeros(N_CAT)
        self.missing[[2, 3, 11, 15, 20, 23]] = 0.035         # a group that goes missing together
        self.missing[[18, 19, 24, 25]] = 0.44                # another group
        self.missing[21] = 0.76
        self.int_mu = rng.uniform(0.0, 4.0, N_INT)
        self.int_sigma = rng.uniform(0.8, 2.0, N_INT)
        self.int_missing = rng.uniform(0.0, 0.45, N_INT)
        self.int_beta = rng.normal(0.0, 0.12, N_INT)
        self.cross_scale = 0.5
        self.bias = 0.0
        pilot = self.logits(np.arange(200_000, dtype=np.int64))[0]
        lo, hi = -20.0, 20.0
        for _ in range(60):                                   # bisection: mean sigmoid = ctr
            mid = (lo + hi) / 2
            if np.mean(1 / (1 + np.exp(-(pilot + mid)))) < ctr:
                lo = mid
            else:
                hi = mid
        self.bias = (lo + hi) / 2

    def draw(self, rows):
        """Counts and category ranks of the given row numbers."""
        n = len(rows)
        rng = np.random.default_rng([self.seed, int(rows[0]) // BLOCK, 1, n])
        activity = rng.normal(size=n)
        counts = np.empty((n, N_INT), dtype=np.int64)
        present = np.empty((n, N_INT), dtype=bool)
        for j in range(N_INT):
            z = 0.6 * activity + 0.8 * rng.normal(size=n)
            counts[:, j] = np.floor(np.exp(self.int_mu[j] + self.int_sigma[j] * z) - 1).clip(0, 10**7)
            present[:, j] = rng.random(n) >= self.int_missing[j]
        counts[:, 1] -= (rng.random(n) < 0.05).astype(np.int64)   # I2 may be -1, as in Criteo
        ranks = np.empty((n, N_CAT), dtype=np.int64)
        group = {0.035: rng.random(n), 0.44: rng.random(n)}
        cat_present = np.empty((n, N_CAT), dtype=bool)
        for c in range(N_CAT):
            s, k = self.zipf[c], CARDINALITY[c]
            u = rng.random(n)
            # Inverse CDF of a continuous power law on [1, k + 1).
            if abs(s - 1) < 1e-9:
                r = np.exp(u * math.log(k + 1))
            else:
                a = 1 - s
                r = (1 + u * ((k + 1) ** a - 1)) ** (1 / a)
            ranks[:, c] = np.minimum(np.floor(r).astype(np.int64), k) - 1
            m = self.missing[c]
            draw = group.get(m, rng.random(n)) if m in group else rng.random(n)
            cat_present[:, c] = draw >= m
        return counts, present, ranks, cat_present

    def logits(self, rows):
        counts, present, ranks, cat_present = self.draw(rows)
        logit = np.full(len(rows), self.bias)
        for c in range(N_CAT):
            logit += np.where(cat_present[:, c], self.scale[c] * hashed_normal(self.seed, c, ranks[:, c]), 0.0)
        slog = np.sign(counts) * np.log1p(np.abs(counts))
        logit += (np.where(present, slog, 0.0) * self.int_beta).sum(axis=1)
        pair = ranks[:, 5] * 4 + ranks[:, 8]
        both = cat_present[:, 5] & cat_present[:, 8]
        logit += np.where(both, self.cross_scale * hashed_normal(self.seed, 99, pair), 0.0)
        return logit, (counts, present, ranks, cat_present)


def hex_of(column, ranks, seed):
    """The 8-hex-digit text of a category: a bijection-like hash of its rank."""
    with np.errstate(over="ignore"):
        key = ranks.astype(np.uint64) * np.uint64(64) + np.uint64(column) + np.uint64(seed << 40)
    h = splitmix(key) & np.uint64(0xFFFFFFFF)
    return [format(int(v), "08x") for v in h]


def write_block(out, fmt, world, first, stop, prob_out):
    """Writes rows first..<stop, all inside one block: the block is drawn whole
    so that a row does not depend on which rows are asked for."""
    block = first // BLOCK
    rows = np.arange(block * BLOCK, (block + 1) * BLOCK, dtype=np.int64)
    logit, drawn = world.logits(rows)
    labels_u = np.random.default_rng([world.seed, block, 2]).random(BLOCK)
    cut = slice(first - block * BLOCK, stop - block * BLOCK)
    logit = logit[cut]
    counts, present, ranks, cat_present = (a[cut] for a in drawn)
    p = 1 / (1 + np.exp(-logit))
    labels = (labels_u[cut] < p).astype(np.int64)
    n = len(labels)
    slog = np.sign(counts) * np.log1p(np.abs(counts))
    lines = []
    if fmt == "criteo":
        int_cols = [[str(v) if ok else "" for v, ok in zip(counts[:, j], present[:, j])] for j in range(N_INT)]
        cat_cols = [[h if ok else "" for h, ok in zip(hex_of(c, ranks[:, c], world.seed), cat_present[:, c])] for c in range(N_CAT)]
        for i in range(n):
            lines.append("\t".join([str(labels[i])] + [col[i] for col in int_cols] + [col[i] for col in cat_cols]))
    elif fmt == "libsvm":
        int_cols = [["%d:%.6g" % (j + 1, v) if ok and v != 0 else "" for v, ok in zip(slog[:, j], present[:, j])] for j in range(N_INT)]
        idx = ranks + OFFSET + 14
        cat_cols = [["%d:1" % v if ok else "" for v, ok in zip(idx[:, c], cat_present[:, c])] for c in range(N_CAT)]
        for i in range(n):
            toks = [col[i] for col in int_cols] + [col[i] for col in cat_cols]
            lines.append(str(labels[i]) + " " + " ".join(t for t in toks if t))
    else:  # vw
        int_cols = [["I%d:%.6g" % (j + 1, v) if ok and v != 0 else "" for v, ok in zip(slog[:, j], present[:, j])] for j in range(N_INT)]
        cat_cols = [["C%d_%s" % (c + 1, h) if ok else "" for h, ok in zip(hex_of(c, ranks[:, c], world.seed), cat_present[:, c])] for c in range(N_CAT)]
        for i in range(n):
            ints = " ".join(t for t in (col[i] for col in int_cols) if t)
            cats = " ".join(t for t in (col[i] for col in cat_cols) if t)
            lines.append(("1" if labels[i] else "-1") + " |i " + ints + " |c " + cats)
    out.write(("\n".join(lines) + "\n").encode())
    if prob_out:
        prob_out.write("".join("%.6f\n" % v for v in p))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ctr", type=float, default=0.25)
    ap.add_argument("--format", choices=["libsvm", "vw", "criteo"], required=True)
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--true-prob")
    args = ap.parse_args()
    world = World(args.seed, args.ctr)
    gz = args.output.endswith(".gz")
    if args.output == "-":
        sink, proc = sys.stdout.buffer, None
    elif gz:
        f = open(args.output, "wb")
        proc = subprocess.Popen(["gzip", "-6", "-n", "-c"], stdin=subprocess.PIPE, stdout=f)
        sink = proc.stdin
    else:
        sink, proc = open(args.output, "wb"), None
    prob_out = open(args.true_prob, "w") if args.true_prob else None
    row = args.start
    end = args.start + args.rows
    while row < end:
        stop = min(end, (row // BLOCK + 1) * BLOCK)
        write_block(sink, args.format, world, row, stop, prob_out)
        row = stop
    if proc:
        sink.close()
        proc.wait()
    elif sink is not sys.stdout.buffer:
        sink.close()
    if prob_out:
        prob_out.close()


if __name__ == "__main__":
    main()
