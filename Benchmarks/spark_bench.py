#!/usr/bin/env python3
"""`make bench-spark`: the Spark driver on the 1M-row log of `make bench`.

One pass of spark/ftrl_spark.py in local[2] mode over the gzip'd LibSVM
training rows, for K = 4 and 16 partitions and R = 1, 2, 4, 8, 16 rounds,
with the default block momentum and with plain averaging (--momentum 0),
against one model trained on all rows by `ftrl-train` at the same (default)
settings: holdout logloss and AUC (ftrl-predict --metrics on the held-out
rows), wall time, and the Python driver's peak memory. Then scoring through
Spark against ftrl-predict: the same bytes, and the time. Writes
bench-work/spark.md. Environment: WORK (bench-work), KS ("4 16"),
RS ("1 2 4 8 16"), MOMENTA ("0.4 0").
"""
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get("WORK", os.path.join(ROOT, "bench-work"))
BIN = os.path.join(ROOT, "dist", "bin")
DRIVER = os.path.join(ROOT, "spark", "ftrl_spark.py")
TRAIN = os.path.join(WORK, "train_r1000000_t100000.libsvm.gz")
TEST = os.path.join(WORK, "test_r1000000_t100000.libsvm.gz")
KS = [int(x) for x in os.environ.get("KS", "4 16").split()]
RS = [int(x) for x in os.environ.get("RS", "1 2 4 8 16").split()]
MOMENTA = [float(x) for x in os.environ.get("MOMENTA", "0.4 0").split()]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def metrics(model):
    done = subprocess.run([os.path.join(BIN, "ftrl-predict"), "-m", model, "--metrics", TEST],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    ll = float(re.search(r"logloss ([0-9.]+)", done.stderr).group(1))
    auc = float(re.search(r"auc ([0-9.]+)", done.stderr).group(1))
    return ll, auc


def timed(cmd):
    start = time.monotonic()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit("failed: %s\n%s" % (" ".join(cmd), done.stderr[-3000:]))
    return wall, done.stderr


def main():
    for path in (TRAIN, TEST):
        if not os.path.exists(path):
            raise SystemExit("%s is missing: run `make bench` first (it generates the log)" % path)
    plain = os.path.join(WORK, "spark-plain.ftrl")
    walls = []
    for _ in range(3):
        wall, _ = timed([os.path.join(BIN, "ftrl-train"), "-q", "-m", plain, TRAIN])
        walls.append(wall)
    walls.sort()
    plain_wall = walls[1]
    plain_ll, plain_auc = metrics(plain)
    log("plain ftrl-train: %.2f s, logloss %.6f, auc %.6f" % (plain_wall, plain_ll, plain_auc))
    rows = []
    for k in KS:
        for momentum in MOMENTA:
            for r in RS:
                out = os.path.join(WORK, "spark-k%d-r%d-m%g.ftrl" % (k, r, momentum))
                wall, err = timed([sys.executable, DRIVER, "train", "--master", "local[2]", "--input", TRAIN,
                                   "--model", out, "--partitions", str(k), "--rounds", str(r),
                                   "--momentum", str(momentum)])
                peak = float(re.search(r"peak memory ([0-9.]+) MiB", err).group(1))
                ll, auc = metrics(out)
                rows.append((k, momentum, r, ll, auc, wall, peak))
                log("K=%d momentum %g R=%d: logloss %.6f (%+.4f), auc %.4f, %.1f s, driver %.0f MiB"
                    % (k, momentum, r, ll, ll - plain_ll, auc, wall, peak))
    # Scoring: Spark against ftrl-predict on the held-out rows.
    scores = os.path.join(WORK, "spark-scores")
    subprocess.run(["rm", "-rf", scores], check=True)
    spark_wall, _ = timed([sys.executable, DRIVER, "predict", "--master", "local[2]", "--model", plain,
                           "--input", TEST, "--output", scores])
    got = b"".join(open(os.path.join(scores, p), "rb").read() for p in sorted(os.listdir(scores)) if p.startswith("part-"))
    start = time.monotonic()
    want = subprocess.run([os.path.join(BIN, "ftrl-predict"), "-m", plain, TEST], capture_output=True, check=True).stdout
    predict_wall = time.monotonic() - start
    same = got == want
    out = ["# Spark driver, local[2], %s" % time.strftime("%Y-%m-%d"),
           "",
           "one pass over %s (1M rows), default settings; holdout: %s" % (os.path.basename(TRAIN), os.path.basename(TEST)),
           "",
           "plain `ftrl-train` on all rows: %.2f s (median of 3), holdout logloss %.6f, AUC %.4f" % (plain_wall, plain_ll, plain_auc),
           "",
           "| K | momentum | R | holdout logloss | vs plain | AUC | wall s | x plain | driver MiB |",
           "|---|---|---|---|---|---|---|---|---|"]
    for k, momentum, r, ll, auc, wall, peak in rows:
        out.append("| %d | %g | %d | %.6f | %+.4f | %.4f | %.1f | %.0f | %.0f |"
                   % (k, momentum, r, ll, ll - plain_ll, auc, wall, wall / plain_wall, peak))
    out += ["", "scoring %d lines through Spark: %.1f s; ftrl-predict %.2f s; same bytes: %s"
            % (want.count(b"\n"), spark_wall, predict_wall, "yes" if same else "NO")]
    text = "\n".join(out) + "\n"
    with open(os.path.join(WORK, "spark.md"), "w") as f:
        f.write(text)
    print(text)
    if not same:
        raise SystemExit("scoring through Spark differs from ftrl-predict")


if __name__ == "__main__":
    main()
