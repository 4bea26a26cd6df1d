#!/usr/bin/env python3
"""`make bench-search`: a search of settings against one setting, side by side.

On the 1M-row gzip'd LibSVM log of `make bench`, at its default settings:
`ftrl-train` with one learning rate, with six (0.05,0.1,0.2,0.4,0.8,1.6) and
with `--learning-rate auto`, alternated REPS times (default 3); the median
wall time, user and system CPU of each and the ratio to one setting.
Environment: WORK (bench-work), REPS.
"""
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get("WORK", os.path.join(ROOT, "bench-work"))
TRAIN = os.path.join(WORK, "train_r1000000_t100000.libsvm.gz")
BIN = os.path.join(ROOT, ".build", "release", "ftrl-train")
REPS = int(os.environ.get("REPS", "3"))
RUNS = [("one setting", ["--learning-rate", "0.1"]),
        ("6 settings", ["--learning-rate", "0.05,0.1,0.2,0.4,0.8,1.6"]),
        ("auto (6 settings)", ["--learning-rate", "auto"])]


def timed(flags):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run([BIN, "-q", *flags, "-m", os.path.join(WORK, "search-bench.ftrl"), TRAIN], check=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def main():
    if not os.path.exists(TRAIN):
        raise SystemExit("%s is missing: run `make bench` first (it generates the log)" % TRAIN)
    times = {name: [] for name, _ in RUNS}
    for _ in range(REPS):
        for name, flags in RUNS:
            times[name].append(timed(flags))
    base = statistics.median(t[0] for t in times[RUNS[0][0]])
    print("| run | wall s (median of %d) | user s | sys s | x one setting |" % REPS)
    print("|---|---|---|---|---|")
    for name, _ in RUNS:
        wall = statistics.median(t[0] for t in times[name])
        user = statistics.median(t[1] for t in times[name])
        sys_ = statistics.median(t[2] for t in times[name])
        print("| %s | %.2f | %.2f | %.2f | %.2f |" % (name, wall, user, sys_, wall / base))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
