#!/usr/bin/env python3
"""`make bench`: ftrl against Vowpal Wabbit on the same synthetic click log.

Generates (once, cached in bench-work/) a Criteo-shaped log with
Benchmarks/gen_clicklog.py: ROWS training rows and TEST_ROWS held-out rows
that follow them, as LibSVM for ftrl and VW text for Vowpal Wabbit, both
gzip'd. Then runs, alternating, REPS times each:

  ftrl-train  --learning-rate 0.1 --beta 1 --l1 1 --l2 0.5
              --initial-accumulator-value 0 --bits 24      (one pass)
  vw --ftrl --ftrl_alpha 0.1 --ftrl_beta 1 --l1 1 --l2 1 -b 24
     --loss_function logistic                             (one pass)

(VW's L2 enters its update undoubled, ours as Keras' 2 * l2.) It reports the
medians of wall time, examples per second and peak memory, the holdout
logloss/AUC of both, ftrl's own time profile, and gzip -dc as the floor.
ftrl-train also runs with --ema, and on the same rows as Criteo TSV
(`--preset criteo`: label, 13 integer columns, 26 hex categorical columns),
in the same alternation. Environment: ROWS (1000000), TEST_ROWS
(100000), REPS (3), WORK (bench-work).
"""
import math
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get("WORK", os.path.join(ROOT, "bench-work"))
ROWS = int(os.environ.get("ROWS", "1000000"))
TEST_ROWS = int(os.environ.get("TEST_ROWS", "100000"))
REPS = int(os.environ.get("REPS", "3"))
BIN = os.path.join(ROOT, ".build", "release")
VW = [sys.executable, "-m", "vowpalwabbit"]
GEN = os.path.join(ROOT, "Benchmarks", "gen_clicklog.py")
OURS = ["--learning-rate", "0.1", "--beta", "1", "--l1", "1", "--l2", "0.5",
        "--initial-accumulator-value", "0", "--bits", "24"]
VW_FLAGS = ["--ftrl", "--ftrl_alpha", "0.1", "--ftrl_beta", "1", "--l1", "1", "--l2", "1",
            "-b", "24", "--loss_function", "logistic"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def ensure_peers():
    try:
        import numpy  # noqa: F401
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "numpy"])
    if subprocess.run(VW + ["--version"], capture_output=True).returncode != 0:
        log("installing Vowpal Wabbit (pip install vowpalwabbit)")
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "vowpalwabbit"])
    return subprocess.run(VW + ["--version"], capture_output=True, text=True).stdout.split()[0]


def generate(fmt, rows, start, name, extra=()):
    path = os.path.join(WORK, name)
    if not os.path.exists(path):
        log("generating %s (%d rows)" % (name, rows))
        subprocess.check_call([sys.executable, GEN, "--rows", str(rows), "--start", str(start),
                               "--format", fmt, "-o", path + ".part.gz", *extra])
        os.rename(path + ".part.gz", path)
    return path


def timed(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd under /usr/bin/time: (wall seconds, peak RSS in MiB, stderr)."""
    tf = os.path.join(WORK, "time.txt")
    start = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", tf] + cmd, stdout=stdout,
                       stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    if r.returncode != 0:
        raise SystemExit("failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stderr))
    rss_kb = int(open(tf).read().split()[-1])
    return wall, rss_kb / 1024, r.stderr


def quality(labels, probs):
    n = len(labels)
    eps = 1e-15
    ll = -sum(math.log(min(max(p, eps), 1 - eps)) if y else math.log(1 - min(max(p, eps), 1 - eps))
              for y, p in zip(labels, probs)) / n
    order = sorted(range(n), key=lambda i: probs[i])
    ranks = [0.0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and probs[order[j + 1]] == probs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j + 2) / 2
        i = j + 1
    pos = sum(labels)
    auc = (sum(r for r, y in zip(ranks, labels) if y) - pos * (pos + 1) / 2) / (pos * (n - pos))
    return ll, auc


def main():
    os.makedirs(WORK, exist_ok=True)
    version = ensure_peers()
    tag = "r%d_t%d" % (ROWS, TEST_ROWS)
    train_svm = generate("libsvm", ROWS, 0, "train_%s.libsvm.gz" % tag)
    train_vw = generate("vw", ROWS, 0, "train_%s.vw.gz" % tag)
    test_svm = generate("libsvm", TEST_ROWS, ROWS, "test_%s.libsvm.gz" % tag,
                        ("--true-prob", os.path.join(WORK, "test_%s.trueprob" % tag)))
    test_vw = generate("vw", TEST_ROWS, ROWS, "test_%s.vw.gz" % tag)
    train_tsv = generate("criteo", ROWS, 0, "train_%s.tsv.gz" % tag)
    test_tsv = generate("criteo", TEST_ROWS, ROWS, "test_%s.tsv.gz" % tag)
    tsv_model = os.path.join(WORK, "ours_tsv.ftrl")
    model = os.path.join(WORK, "ours.ftrl")
    vw_model = os.path.join(WORK, "vw.model")

    runs = {"ours": [], "ours_ema": [], "ours_tsv": [], "vw": [], "gzip": []}
    ema_model = os.path.join(WORK, "ours_ema.ftrl")
    subprocess.run(["cat", train_svm, train_vw], stdout=subprocess.DEVNULL)  # warm the page cache
    for rep in range(1, REPS + 1):
        wall, rss, _ = timed([os.path.join(BIN, "ftrl-train"), "-q", *OURS, "-m", model, train_svm])
        runs["ours"].append((wall, rss))
        log("rep %d ftrl-train %.2f s  %.0f ex/s  %.0f MiB" % (rep, wall, ROWS / wall, rss))
        wall, rss, _ = timed([os.path.join(BIN, "ftrl-train"), "-q", *OURS, "--ema", "-m", ema_model, train_svm])
        runs["ours_ema"].append((wall, rss))
        log("rep %d ftrl --ema %.2f s  %.0f ex/s  %.0f MiB" % (rep, wall, ROWS / wall, rss))
        wall, rss, _ = timed([os.path.join(BIN, "ftrl-train"), "-q", *OURS, "--preset", "criteo", "-m", tsv_model, train_tsv])
        runs["ours_tsv"].append((wall, rss))
        log("rep %d ftrl TSV   %.2f s  %.0f ex/s  %.0f MiB" % (rep, wall, ROWS / wall, rss))
        wall, rss, _ = timed(VW + ["-d", train_vw, *VW_FLAGS, "-f", vw_model, "--quiet"])
        runs["vw"].append((wall, rss))
        log("rep %d vw         %.2f s  %.0f ex/s  %.0f MiB" % (rep, wall, ROWS / wall, rss))
        wall, rss, _ = timed(["gzip", "-dc", train_svm])
        runs["gzip"].append((wall, rss))

    # Holdout quality, both scored the same way.
    labels = []
    with subprocess.Popen(["gzip", "-dc", test_svm], stdout=subprocess.PIPE, text=True) as p:
        for line in p.stdout:
            labels.append(1 if line[0] == "1" else 0)
    ours_pred = subprocess.run([os.path.join(BIN, "ftrl-predict"), "-m", model, test_svm],
                               capture_output=True, text=True, check=True).stdout.split()
    vw_preds_path = os.path.join(WORK, "vw.preds")
    subprocess.run(VW + ["-d", test_vw, "-t", "-i", vw_model, "--link", "logistic", "-p", vw_preds_path, "--quiet"],
                   check=True)
    vw_pred = [float(l.split()[0]) for l in open(vw_preds_path)]
    q_ours = quality(labels, [float(x) for x in ours_pred])
    ema_pred = subprocess.run([os.path.join(BIN, "ftrl-predict"), "-m", ema_model, test_svm],
                              capture_output=True, text=True, check=True).stdout.split()
    q_ema = quality(labels, [float(x) for x in ema_pred])
    tsv_pred = subprocess.run([os.path.join(BIN, "ftrl-predict"), "-m", tsv_model, test_tsv],
                              capture_output=True, text=True, check=True).stdout.split()
    q_tsv = quality(labels, [float(x) for x in tsv_pred])
    q_vw = quality(labels, vw_pred)
    true_p = [float(l) for l in open(os.path.join(WORK, "test_%s.trueprob" % tag))]
    q_true = quality(labels, true_p)

    # Where our time goes (one more run, with --profile).
    _, _, prof = timed([os.path.join(BIN, "ftrl-train"), *OURS, "--profile", "-m", model, train_svm])
    profile = [l for l in prof.splitlines() if "profile" in l]

    med = {k: (statistics.median(w for w, _ in v), statistics.median(r for _, r in v)) for k, v in runs.items()}
    out = []
    out.append("data: %s train rows, %s held-out rows (Benchmarks/gen_clicklog.py, seed 1); %d alternating reps; host %s, %d cores"
               % (format(ROWS, ","), format(TEST_ROWS, ","), REPS, os.uname().nodename, os.cpu_count()))
    out.append("")
    out.append("| tool | median wall s | median examples/s | peak RSS MiB | holdout logloss | holdout AUC |")
    out.append("|---|---|---|---|---|---|")
    out.append("| ftrl-train | %.2f | %s | %.0f | %.5f | %.5f |" % (med["ours"][0], format(int(ROWS / med["ours"][0]), ","), med["ours"][1], *q_ours))
    out.append("| ftrl-train --ema (momentum 0.99) | %.2f | %s | %.0f | %.5f | %.5f |" % (med["ours_ema"][0], format(int(ROWS / med["ours_ema"][0]), ","), med["ours_ema"][1], *q_ema))
    out.append("| ftrl-train --preset criteo (TSV) | %.2f | %s | %.0f | %.5f | %.5f |" % (med["ours_tsv"][0], format(int(ROWS / med["ours_tsv"][0]), ","), med["ours_tsv"][1], *q_tsv))
    out.append("| vw %s --ftrl | %.2f | %s | %.0f | %.5f | %.5f |" % (version, med["vw"][0], format(int(ROWS / med["vw"][0]), ","), med["vw"][1], *q_vw))
    out.append("| gzip -dc (floor) | %.2f | %s | %.0f | | |" % (med["gzip"][0], format(int(ROWS / med["gzip"][0]), ","), med["gzip"][1]))
    out.append("| true model (Bayes) | | | | %.5f | %.5f |" % q_true)
    out.append("")
    out.append("speed ratio ftrl/vw (examples per wall second): %.2fx; logloss difference ftrl - vw: %+.5f"
               % (med["vw"][0] / med["ours"][0], q_ours[0] - q_vw[0]))
    out.append("speed ratio ftrl TSV/vw (examples per wall second): %.2fx" % (med["vw"][0] / med["ours_tsv"][0]))
    out.append("EMA cost: %.1f%% of ftrl's examples per second (ex/s with --ema / without = %.3f)"
               % (100 * (1 - med["ours"][0] / med["ours_ema"][0]), med["ours"][0] / med["ours_ema"][0]))
    out.append("per-rep walls: ftrl %s; ftrl --ema %s; ftrl TSV %s; vw %s" % (["%.2f" % w for w, _ in runs["ours"]],
               ["%.2f" % w for w, _ in runs["ours_ema"]], ["%.2f" % w for w, _ in runs["ours_tsv"]],
               ["%.2f" % w for w, _ in runs["vw"]]))
    out.extend(profile)
    text = "\n".join(out) + "\n"
    open(os.path.join(WORK, "results.md"), "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
