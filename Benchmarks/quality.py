#!/usr/bin/env python3
"""Holdout quality of ftrl-train at its defaults against Vowpal Wabbit on
real click logs (`make quality`).

For each log in ../shared/data (or FTRL_SHARED_DATA): the first 90% of rows
train, the rest are held out. ftrl-train runs with no tuning flags (only the
flags that say what the columns are); Vowpal Wabbit runs one pass of
`--ftrl --ftrl_beta 1 --l1 1 --l2 1 -b 24` for each `--ftrl_alpha` in 0.05,
0.1, 0.2 on the same rows written as VW text: numeric columns as signed
log1p values, categorical columns as COL_value features in one namespace,
empty fields left out. Both are scored by the same code.

Then `--learning-rate auto` (a search, chosen by the progressive logloss of
the pass's second half) against every rate of its grid trained alone and
against Vowpal Wabbit's best `--ftrl_alpha` of 0.05, 0.1, 0.2, 0.4, 0.8, 1.6
(chosen on the held-out rows themselves, so an oracle). GRID and AUTO
override the rates; SEARCH_ONLY=1 prints only that table.

The TalkingData-shaped case is made from the Avazu log: its label renamed
is_attributed and a leaking column attributed_time added (non-empty exactly
when the label is 1), which ftrl-train is told to --ignore and VW never sees.
"""
import csv
import gzip
import json
import math
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get("FTRL_SHARED_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
WORK = os.path.join(ROOT, "bench-work", "quality")
BIN = os.path.join(ROOT, ".build", "release")
VW = [sys.executable, "-m", "vowpalwabbit"]


def metrics(labels, probs):
    eps = 1e-15
    ll = -sum(math.log(min(max(p, eps), 1 - eps)) if y else math.log(1 - min(max(p, eps), 1 - eps))
              for y, p in zip(labels, probs)) / len(labels)
    order = sorted(range(len(probs)), key=lambda i: probs[i])
    ranks = [0.0] * len(probs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and probs[order[j + 1]] == probs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j + 2) / 2
        i = j + 1
    pos = sum(labels)
    auc = (sum(r for r, y in zip(ranks, labels) if y) - pos * (pos + 1) / 2) / (pos * (len(labels) - pos))
    return ll, auc


def slog1p(v):
    x = float(v)
    return math.copysign(math.log1p(abs(x)), x)


def vw_line(label, fields):
    """fields: list of (name, value, numeric)."""
    toks = []
    for name, value, numeric in fields:
        if value == "":
            continue
        if numeric:
            x = slog1p(value)
            if x != 0:
                toks.append("%s:%.6g" % (name, x))
        else:
            toks.append("%s_%s" % (name, value.replace(" ", "_").replace(":", "_").replace("|", "_")))
    return ("1" if label == 1 else "-1") + " |f " + " ".join(toks)


def prepare(name, rows, header, label_col, numeric, ignore, fmt):
    """Writes train/test files in the original format and as VW text."""
    os.makedirs(WORK, exist_ok=True)
    cut = len(rows) * 9 // 10
    sep = "\t" if fmt == "tsv" else ","
    paths = {}
    for part, chunk in (("train", rows[:cut]), ("test", rows[cut:])):
        p = os.path.join(WORK, "%s.%s.%s" % (name, part, fmt))
        with open(p, "w", newline="") as f:
            w = csv.writer(f, delimiter=sep, lineterminator="\n")
            if header:
                w.writerow(header)
            w.writerows(chunk)
        v = os.path.join(WORK, "%s.%s.vw" % (name, part))
        names = header or [str(i + 1) for i in range(len(rows[0]))]
        li = names.index(label_col)
        with open(v, "w") as f:
            for r in chunk:
                label = 1 if float(r[li]) > 0 else 0
                fields = [(names[i], r[i], names[i] in numeric) for i in range(len(r))
                          if i != li and names[i] not in ignore]
                f.write(vw_line(label, fields) + "\n")
        paths[part] = (p, v, [1 if float(r[li]) > 0 else 0 for r in chunk])
    return paths


def run_ours(paths, flags):
    model = os.path.join(WORK, "ours.ftrl")
    subprocess.run([os.path.join(BIN, "ftrl-train"), "-q", *flags, "-m", model, paths["train"][0]], check=True)
    out = subprocess.run([os.path.join(BIN, "ftrl-predict"), "-m", model, paths["test"][0]],
                         capture_output=True, text=True, check=True).stdout.split()
    return metrics(paths["test"][2], [float(x) for x in out])


def run_vw(paths, alpha):
    model = os.path.join(WORK, "vw.model")
    preds = os.path.join(WORK, "vw.preds")
    subprocess.run(VW + ["-d", paths["train"][1], "--ftrl", "--ftrl_alpha", str(alpha), "--ftrl_beta", "1", "--l1", "1",
                         "--l2", "1", "-b", "24", "--loss_function", "logistic", "-f", model, "--quiet"], check=True)
    subprocess.run(VW + ["-d", paths["test"][1], "-t", "-i", model, "--link", "logistic", "-p", preds, "--quiet"], check=True)
    return metrics(paths["test"][2], [float(l.split()[0]) for l in open(preds)])


def run_search(paths, flags, rates):
    """`ftrl-train --learning-rate LIST` (or auto): the chosen rate and its holdout metrics."""
    model = os.path.join(WORK, "search.ftrl")
    report = os.path.join(WORK, "search.json")
    subprocess.run([os.path.join(BIN, "ftrl-train"), "-q", *flags, "--learning-rate", rates, "-m", model,
                    "--search-json", report, paths["train"][0]], check=True)
    with open(report) as f:
        chosen = json.load(f)["chosen"]["learning_rate"]
    out = subprocess.run([os.path.join(BIN, "ftrl-predict"), "-m", model, paths["test"][0]],
                         capture_output=True, text=True, check=True).stdout.split()
    return chosen, metrics(paths["test"][2], [float(x) for x in out])


# Every rate trained alone in the search table: 0.05, left out of auto's grid
# (no log's holdout was best there), for reference, then auto's grid.
GRID = [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2]
AUTO_GRID = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2]
VW_ALPHAS = [0.05, 0.1, 0.2, 0.4, 0.8, 1.6]


def search_table(cases):
    """`--learning-rate auto` against every rate of its grid run alone, and against VW's best alpha."""
    rates = [float(r) for r in os.environ.get("GRID", " ".join(map(str, GRID))).split()]
    print()
    print("| log | " + " | ".join("lr %g" % r for r in rates) + " | best of auto's grid | auto chose | auto logloss "
          "| <= best + 0.001 | VW best alpha | VW logloss | auto <= VW |")
    print("|---|" + "---|" * (len(rates) + 7))
    for title, paths, flags, n in cases:
        singles = [run_ours(paths, flags + ["--learning-rate", repr(r)])[0] for r in rates]
        best = min(x for x, r in zip(singles, rates) if r in AUTO_GRID)  # the best of auto's grid
        chosen, (auto, _) = run_search(paths, flags, os.environ.get("AUTO", "auto"))
        vw = [(run_vw(paths, a)[0], a) for a in VW_ALPHAS]
        vw_best, vw_alpha = min(vw)
        print("| %s | " % title + " | ".join("%.5f" % x for x in singles)
              + " | %.5f | %g | %.5f | %s | %g | %.5f | %s |" % (
                  best, chosen, auto, "yes" if auto <= best + 0.001 else "NO", vw_alpha, vw_best,
                  "yes" if auto <= vw_best else "NO"), flush=True)


def main():
    cases = []
    criteo = os.path.join(DATA, "criteo", "train.tsv.gz")
    if os.path.exists(criteo):
        rows = [l.rstrip("\n").split("\t") for l in gzip.open(criteo, "rt")]
        names = ["label"] + ["I%d" % i for i in range(1, 14)] + ["C%d" % i for i in range(1, 27)]
        paths = prepare("criteo", rows, None, "1", set(str(i) for i in range(2, 15)), set(), "tsv")
        cases.append(("Criteo TSV (../shared/data/criteo)", paths, ["--preset", "criteo"], len(rows)))
    avazu = os.path.join(DATA, "avazu", "train.csv.gz")
    if os.path.exists(avazu):
        with gzip.open(avazu, "rt") as f:
            r = list(csv.reader(f))
        header, rows = r[0], r[1:]
        paths = prepare("avazu", rows, header, "click", set(), {"id"}, "csv")
        cases.append(("Avazu CSV (../shared/data/avazu)", paths, ["--preset", "avazu"], len(rows)))
        # TalkingData-shaped: label is_attributed, a leaking attributed_time column.
        th = ["is_attributed" if h == "click" else h for h in header] + ["attributed_time"]
        trows = [row + (["2017-11-07 %02d:00:00" % (i % 24)] if row[1] == "1" else [""]) for i, row in enumerate(rows)]
        paths = prepare("talking", trows, th, "is_attributed", set(), {"id", "attributed_time"}, "csv")
        cases.append(("is_attributed CSV with a leak (from Avazu)", paths,
                      ["--label", "is_attributed", "--ignore", "id,attributed_time"], len(rows)))
    tiny = os.path.join(DATA, "criteo-tiny-csv", "train.csv")
    if os.path.exists(tiny):
        with open(tiny, newline="") as f:
            r = list(csv.reader(f))
        header, rows = r[0], r[1:]
        numeric = set("I%d" % i for i in range(1, 14))
        paths = prepare("tiny", rows, header, "Label", numeric, {"Id"}, "csv")
        cases.append(("Criteo CSV, CRLF (../shared/data/criteo-tiny-csv)", paths,
                      ["--label", "Label", "--ignore", "Id", "--numeric", "I1-I13"], len(rows)))
    if not cases:
        print("no logs found under %s" % DATA)
        return
    if os.environ.get("SEARCH_ONLY"):
        search_table(cases)
        return
    print("| log | rows (train/holdout) | ftrl defaults logloss | AUC | VW alpha 0.05 | VW 0.1 | VW 0.2 | best VW + 0.002 | within |")
    print("|---|---|---|---|---|---|---|---|---|")
    for title, paths, flags, n in cases:
        ours = run_ours(paths, flags)
        vw = [run_vw(paths, a) for a in (0.05, 0.1, 0.2)]
        best = min(v[0] for v in vw)
        print("| %s | %d/%d | %.5f | %.4f | %.5f | %.5f | %.5f | %.5f | %s |" % (
            title, n * 9 // 10, n - n * 9 // 10, ours[0], ours[1], vw[0][0], vw[1][0], vw[2][0], best + 0.002,
            "yes" if ours[0] <= best + 0.002 else "NO"), flush=True)
    search_table(cases)


if __name__ == "__main__":
    main()
