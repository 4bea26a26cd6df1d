#!/usr/bin/env python3
"""`make bench-cache`: reading the example cache against the gzip'd text.

On the 1M-row gzip'd LibSVM and Criteo TSV logs of `make bench`, with its
settings, alternated REPS times (default 5), medians:

1. reading: the busy seconds of the input side of one pass (`--profile`):
   for the text, the input thread's read and gunzip, and the parse and
   hash that it shares with the trainer's thread (all of it input work);
   for the cache, the check of the whole file and the input thread's
   reading, one after the other;
2. a run of 5 epochs: the text every epoch, against `--cache` with the cache
   already written (every epoch from it), and the first run that writes it.

Environment: WORK (bench-work), REPS.
"""
import os
import re
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get("WORK", os.path.join(ROOT, "bench-work"))
BIN = os.path.join(ROOT, ".build", "release", "ftrl-train")
REPS = int(os.environ.get("REPS", "5"))
LOGS = [("LibSVM", "train_r1000000_t100000.libsvm.gz", []),
        ("Criteo TSV", "train_r1000000_t100000.tsv.gz", ["--preset", "criteo"])]


def run(flags):
    start = time.monotonic()
    p = subprocess.run([BIN, "--profile", *flags], capture_output=True, text=True)
    wall = time.monotonic() - start
    if p.returncode != 0:
        raise SystemExit("ftrl-train %s failed: %s" % (" ".join(flags), p.stderr))
    return wall, p.stderr


def busy(stderr):
    """(decode, parse or cache reading) busy seconds and the cache check, from --profile."""
    found = re.search(r"input thread \(read, gunzip ([0-9.]+) s; (?:parse, hash|reading the cache) ([0-9.]+) s\)", stderr)
    decode, parse = float(found.group(1)), float(found.group(2))
    # The text's parse is shared with the trainer's thread (ParseBoard): both count.
    shared = re.search(r"trainer thread: parse, hash ([0-9.]+) s", stderr)
    if shared:
        parse += float(shared.group(1))
    check = re.search(r"cache checked in ([0-9.]+) s", stderr)
    return decode, parse, float(check.group(1)) if check else 0.0


def main():
    model = os.path.join(WORK, "cache-bench.ftrl")
    sizes = []
    print("| log | text: decode + parse busy s | cache: check + read busy s | text / cache | "
          "5 epochs from text, wall s | 5 epochs, writing the cache | 5 epochs from the cache | text / cache |")
    print("|---|---|---|---|---|---|---|---|")
    for name, file, flags in LOGS:
        data = os.path.join(WORK, file)
        if not os.path.exists(data):
            raise SystemExit("%s is missing: run `make bench` first (it generates the logs)" % data)
        cache = os.path.join(WORK, "cache-bench-%s.cache" % file.split(".")[1])
        if os.path.exists(cache):
            os.unlink(cache)
        run(flags + ["--cache", cache, "-m", model, data])  # written once
        text, cached, five_text, five_cached, five_writing = [], [], [], [], []
        for _ in range(REPS):
            text.append(busy(run(flags + ["-m", model, data])[1]))
            cached.append(busy(run(flags + ["--cache", cache, "-m", model, data])[1]))
            five_text.append(run(flags + ["--epochs", "5", "-m", model, data])[0])
            five_cached.append(run(flags + ["--epochs", "5", "--cache", cache, "-m", model, data])[0])
            os.unlink(cache)
            five_writing.append(run(flags + ["--epochs", "5", "--cache", cache, "-m", model, data])[0])
        d = statistics.median(t[0] for t in text)
        p = statistics.median(t[1] for t in text)
        c = statistics.median(t[2] for t in cached)
        r = statistics.median(t[1] for t in cached)
        ft = statistics.median(five_text)
        fc = statistics.median(five_cached)
        print("| %s | %.3f + %.3f | %.3f + %.3f | %.1f | %.2f | %.2f | %.2f | %.2f |" % (
            name, d, p, c, r, (d + p) / (c + r), ft, statistics.median(five_writing), fc, ft / fc))
        sizes.append("%s: cache %.0f MB, gzip'd text %.0f MB" % (name, os.path.getsize(cache) / 1e6, os.path.getsize(data) / 1e6))
    print("\n" + "; ".join(sizes))


if __name__ == "__main__":
    main()
