#!/usr/bin/env python3
"""`make bench-score`: ftrl-predict against Vowpal Wabbit's `-t`, side by side.

The models `make bench` trained on its 1M-row log (bench-work/ours.ftrl and
compare-vw.model, at the settings of `make bench`), scoring the 200,000 rows
that follow the training rows (generated once, LibSVM and VW formats, gzip'd),
model loading included, alternated REPS times (default 7): median wall, user
and system seconds, and VW's wall over ours. Both write one probability per
line to a file; the holdout logloss of each is printed beside it.
Environment: WORK (bench-work), REPS.
"""
import math
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get("WORK", os.path.join(ROOT, "bench-work"))
GEN = os.path.join(ROOT, "Benchmarks", "gen_clicklog.py")
PREDICT = os.path.join(ROOT, ".build", "release", "ftrl-predict")
VW = [sys.executable, "-m", "vowpalwabbit"]
REPS = int(os.environ.get("REPS", "7"))
ROWS = 200000


def holdout(fmt):
    path = os.path.join(WORK, "test_r1000000_t%d.%s.gz" % (ROWS, fmt))
    if not os.path.exists(path):
        subprocess.run([sys.executable, GEN, "--rows", str(ROWS), "--start", "1000000", "--format", fmt, "-o", path + ".part.gz"],
                       check=True)
        os.rename(path + ".part.gz", path)
    return path


def timed(argv):
    start = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    if status != 0:
        raise SystemExit("%s failed: %s" % (" ".join(argv), err.decode(errors="replace")))
    return time.monotonic() - start, usage.ru_utime, usage.ru_stime


def logloss(predictions, rows):
    import gzip
    total = 0.0
    with open(predictions) as f, gzip.open(rows, "rt") as r:
        for p, line in zip(f, r):
            y = 1 if line.split(" ", 1)[0] in ("1", "+1") else 0
            q = min(max(float(p.split()[0]), 1e-15), 1 - 1e-15)
            total -= math.log(q) if y else math.log(1 - q)
    return total / ROWS


def main():
    ours_model = os.path.join(WORK, "ours.ftrl")
    vw_model = os.path.join(WORK, "compare-vw.model")
    for m in (ours_model, vw_model):
        if not os.path.exists(m):
            raise SystemExit("%s is missing: run `make bench` first (it trains both models)" % m)
    libsvm, vw_rows = holdout("libsvm"), holdout("vw")
    ours_out = os.path.join(WORK, "score-bench-ours.txt")
    vw_out = os.path.join(WORK, "score-bench-vw.txt")
    runs = {"ftrl-predict": [], "vw -t": []}
    for _ in range(REPS):
        runs["ftrl-predict"].append(timed(["sh", "-c", "'%s' -m '%s' '%s' > '%s'" % (PREDICT, ours_model, libsvm, ours_out)]))
        runs["vw -t"].append(timed(VW + ["-d", vw_rows, "-t", "-i", vw_model, "--link", "logistic", "-p", vw_out, "--quiet"]))
    vw_wall = statistics.median(t[0] for t in runs["vw -t"])
    print("| run (%d rows, model loading included) | wall s (median of %d) | user s | sys s | VW / it | holdout logloss |" % (ROWS, REPS))
    print("|---|---|---|---|---|---|")
    for name, out, rows in (("vw -t", vw_out, libsvm), ("ftrl-predict", ours_out, libsvm)):
        ts = runs[name]
        wall = statistics.median(t[0] for t in ts)
        print("| %s | %.3f | %.3f | %.3f | %.2f | %.6f |" % (
            name, wall, statistics.median(t[1] for t in ts), statistics.median(t[2] for t in ts), vw_wall / wall, logloss(out, rows)))


if __name__ == "__main__":
    main()
