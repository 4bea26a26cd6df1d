#!/usr/bin/env python3
"""`make bench-table`: the sparse weight table against the dense one.

On the gzip'd LibSVM logs of `make bench` (1M training rows, 100k held out;
ROWS_BIG more rows from the same generator for growth, default 10M):

1. speed: `--table dense` and `--table sparse` at 24 bits, alternated REPS
   times (default 5): median wall seconds and peak memory, and their ratio;
2. 32 bits: the sparse table at `--bits 32` (64 GiB dense): peak memory and
   holdout logloss against 24 bits, and `ftrl-predict` loading the model;
3. growth: peak memory and active slots of 32-bit sparse and 24-bit dense
   runs over the first 1M, 5M and 10M rows of the big log (rows beyond the
   first million bring new feature values), with examples per second.

Every number comes from runs made here and now; peak memory is the child's
own maximum resident set (wait4), not the machine's.
Environment: WORK (bench-work), REPS, ROWS_BIG.
"""
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get("WORK", os.path.join(ROOT, "bench-work"))
TRAIN = os.path.join(WORK, "train_r1000000_t100000.libsvm.gz")
TEST = os.path.join(WORK, "test_r1000000_t100000.libsvm.gz")
ROWS_BIG = int(os.environ.get("ROWS_BIG", "10000000"))
BIG = os.path.join(WORK, "train_r%d.libsvm.gz" % ROWS_BIG)
GEN = os.path.join(ROOT, "Benchmarks", "gen_clicklog.py")
BIN = os.path.join(ROOT, ".build", "release")
REPS = int(os.environ.get("REPS", "5"))


def run(argv, stdin=None):
    """Wall seconds, peak resident MiB and stderr of one process."""
    start = time.monotonic()
    p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    if status != 0:
        raise SystemExit("%s failed: %s" % (" ".join(argv), err.decode(errors="replace")))
    return wall, usage.ru_maxrss / 1024, err.decode(errors="replace")


def train(flags, data, model):
    return run([os.path.join(BIN, "ftrl-train"), "-q", *flags, "-m", model, data])


def info(model):
    out = subprocess.run([os.path.join(BIN, "ftrl-model"), "info", model], check=True, capture_output=True).stdout
    return json.loads(out)


def holdout(model):
    path = os.path.join(WORK, "table-bench-metrics.json")
    wall, rss, _ = run([os.path.join(BIN, "ftrl-predict"), "--metrics-json", path, "-m", model, TEST])
    with open(path) as f:
        return json.load(f)["logloss"], wall, rss


def head(rows):
    """The first `rows` rows of the big log, gzip'd (made once)."""
    if rows == ROWS_BIG:
        return BIG
    path = os.path.join(WORK, "train_r%d_of_%d.libsvm.gz" % (rows, ROWS_BIG))
    if not os.path.exists(path):
        subprocess.run("gzip -dc '%s' | head -n %d | gzip -6 > '%s.tmp' && mv '%s.tmp' '%s'" % (BIG, rows, path, path, path),
                       shell=True, check=True)
    return path


def main():
    for f in (TRAIN, TEST):
        if not os.path.exists(f):
            raise SystemExit("%s is missing: run `make bench` first (it generates the log)" % f)
    if not os.path.exists(BIG):
        print("generating %d rows into %s" % (ROWS_BIG, BIG), file=sys.stderr)
        subprocess.run([sys.executable, GEN, "--rows", str(ROWS_BIG), "--format", "libsvm", "-o", BIG], check=True)
    model = os.path.join(WORK, "table-bench.ftrl")

    times = {"dense": [], "sparse": []}
    for _ in range(REPS):
        for table in times:
            times[table].append(train(["--table", table], TRAIN, model))
    print("### Speed at 24 bits (1M rows, median of %d alternated runs)\n" % REPS)
    print("| table | wall s | peak MiB | x dense |")
    print("|---|---|---|---|")
    dense = statistics.median(t[0] for t in times["dense"])
    for table, ts in times.items():
        wall = statistics.median(t[0] for t in ts)
        print("| %s | %.2f | %.0f | %.2f |" % (table, wall, statistics.median(t[1] for t in ts), wall / dense))

    print("\n### 32 bits against 24 (1M rows; holdout: the 100k rows after them)\n")
    print("| run | train wall s | train peak MiB | active slots | holdout logloss | predict wall s | predict peak MiB |")
    print("|---|---|---|---|---|---|---|")
    for label, flags in [("24 bits, dense", ["--bits", "24", "--table", "dense"]), ("24 bits, sparse", ["--bits", "24", "--table", "sparse"]),
                         ("32 bits, sparse (auto)", ["--bits", "32"])]:
        wall, rss, _ = train(flags, TRAIN, model)
        loss, pwall, prss = holdout(model)
        print("| %s | %.2f | %.0f | %d | %.6f | %.2f | %.0f |" % (label, wall, rss, info(model)["active_slots"], loss, pwall, prss))

    print("\n### Growth with the rows seen (the first N rows of a %d-row log)\n" % ROWS_BIG)
    print("| rows | table | wall s | ex/s | peak MiB | active slots | MiB per 1M active slots |")
    print("|---|---|---|---|---|---|---|")
    for rows in (1000000, 5000000, ROWS_BIG):
        data = head(rows)
        for label, flags in [("32 bits, sparse", ["--bits", "32"]), ("24 bits, dense", ["--bits", "24", "--table", "dense"])]:
            wall, rss, _ = train(flags, data, model)
            active = info(model)["active_slots"]
            print("| %d | %s | %.2f | %.0f | %.0f | %d | %.0f |" % (rows, label, wall, rows / wall, rss, active, rss / (active / 1e6)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
