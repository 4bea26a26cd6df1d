#!/usr/bin/env python3
"""`make bench-compare BASELINE=DIR`: this build against another build of
ftrl (DIR holds its ftrl-train and ftrl-predict), with Vowpal Wabbit run in
the same rounds as the common yardstick, on the logs of `make bench`
(bench-work/, made by `make bench` first).

Each round runs, in turn, for both builds: one pass on the gzip'd LibSVM log,
the same with --ema, the same rows as Criteo TSV, and scoring the held-out
rows; then VW's pass. REPS rounds (5); the medians and each build's ratio to
VW of the same rounds are printed, and both builds' models are compared
(`ftrl-model state`: the same training state, or the run fails).
"""
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get("WORK", os.path.join(ROOT, "bench-work"))
REPS = int(os.environ.get("REPS", "5"))
TAG = "r1000000_t100000"
NEW = os.path.join(ROOT, ".build", "release")
VW = [sys.executable, "-m", "vowpalwabbit"]
OURS = ["--learning-rate", "0.1", "--beta", "1", "--l1", "1", "--l2", "0.5",
        "--initial-accumulator-value", "0", "--bits", "24"]
VW_FLAGS = ["--ftrl", "--ftrl_alpha", "0.1", "--ftrl_beta", "1", "--l1", "1", "--l2", "1",
            "-b", "24", "--loss_function", "logistic"]


def wall(cmd):
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: compare.py BASELINE_BIN_DIR")
    old = sys.argv[1]
    train = os.path.join(WORK, "train_%s.libsvm.gz" % TAG)
    tsv = os.path.join(WORK, "train_%s.tsv.gz" % TAG)
    test = os.path.join(WORK, "test_%s.libsvm.gz" % TAG)
    vw_data = os.path.join(WORK, "train_%s.vw.gz" % TAG)
    for path in (train, tsv, test, vw_data):
        if not os.path.exists(path):
            raise SystemExit("%s is missing: run make bench first" % path)
    subprocess.run(["cat", train, tsv, vw_data], stdout=subprocess.DEVNULL)  # warm the page cache
    cases = {
        "LibSVM pass": lambda b, m: [os.path.join(b, "ftrl-train"), "-q", *OURS, "-m", m, train],
        "LibSVM pass --ema": lambda b, m: [os.path.join(b, "ftrl-train"), "-q", *OURS, "--ema", "-m", m, train],
        "Criteo TSV pass": lambda b, m: [os.path.join(b, "ftrl-train"), "-q", *OURS, "--preset", "criteo", "-m", m, tsv],
    }
    times = {(name, who): [] for name in list(cases) + ["scoring 100k rows"] for who in ("baseline", "this build")}
    vw = []
    models = {}
    for rep in range(1, REPS + 1):
        for name, make in cases.items():
            for who, bin_dir in (("baseline", old), ("this build", NEW)):
                model = os.path.join(WORK, "compare-%s-%s.ftrl" % (who.replace(" ", "-"), name.replace(" ", "-")))
                times[(name, who)].append(wall(make(bin_dir, model)))
                models[(name, who)] = (bin_dir, model)
        for who, bin_dir in (("baseline", old), ("this build", NEW)):
            _, model = models[("LibSVM pass", who)]
            times[("scoring 100k rows", who)].append(wall([os.path.join(bin_dir, "ftrl-predict"), "-m", model, test]))
        vw.append(wall(VW + ["-d", vw_data, *VW_FLAGS, "-f", os.path.join(WORK, "compare-vw.model"), "--quiet"]))
        print("round %d done" % rep, file=sys.stderr, flush=True)
    # Same training state from both builds (each build reads its own model).
    for name in cases:
        states = []
        for who in ("baseline", "this build"):
            bin_dir, model = models[(name, who)]
            states.append(subprocess.run([os.path.join(bin_dir, "ftrl-model"), "state", model],
                                         check=True, capture_output=True).stdout)
        if states[0] != states[1]:
            raise SystemExit("%s: the two builds trained different models" % name)
    vw_median = statistics.median(vw)
    print("| run | baseline median s | this build median s | this/baseline | baseline vs VW | this build vs VW |")
    print("|---|---|---|---|---|---|")
    for name in list(cases) + ["scoring 100k rows"]:
        a = statistics.median(times[(name, "baseline")])
        b = statistics.median(times[(name, "this build")])
        vs = ("%.2fx" % (vw_median / a), "%.2fx" % (vw_median / b)) if name != "scoring 100k rows" else ("", "")
        print("| %s | %.2f | %.2f | %.3f | %s | %s |" % (name, a, b, b / a, vs[0], vs[1]))
    print("\nVW one pass: median %.2f s over %d rounds; per-round walls:" % (vw_median, REPS))
    for key, values in times.items():
        print("  %s, %s: %s" % (key[0], key[1], " ".join("%.2f" % v for v in values)))
    print("  vw: %s" % " ".join("%.2f" % v for v in vw))
    print("training states identical between the builds: yes")


if __name__ == "__main__":
    main()
