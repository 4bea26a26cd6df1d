#!/usr/bin/env python3
"""`make mutate`: mutation testing of the suite.

Copies the tracked files into .build-mutate/tree (so the work tree is never
touched), checks that the unmutated copy passes, then applies each mutant of
Tests/Mutation/mutants.txt alone, builds, and runs the tests: first the unit
tests (fast), then, if they all pass, the whole suite. A mutant is killed
when a test fails, survives when the suite passes, and is reported as
stillborn when it does not compile. Writes .build-mutate/report.md and
prints the score. ONLY=P01,T02 runs some mutants; KEEP=1 reuses the copy.
"""
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK = os.path.join(ROOT, ".build-mutate")
TREE = os.path.join(WORK, "tree")
MUTANTS = os.path.join(ROOT, "Tests", "Mutation", "mutants.txt")
TIMEOUT = int(os.environ.get("MUTATE_TIMEOUT", "900"))


def parse(path):
    mutants = []
    current = None
    mode = None
    for raw in open(path, encoding="utf-8").read().split("\n"):
        if raw.startswith("#"):
            continue
        m = re.match(r"^\[(\w+)\] (.*)$", raw)
        if m:
            current = {"id": m.group(1), "what": m.group(2), "file": None, "old": [], "new": []}
            mutants.append(current)
            mode = "file"
            continue
        if current is None or (raw == "" and mode != "file"):
            mode = None if raw == "" else mode
            continue
        if mode == "file":
            current["file"] = raw.strip()
            mode = None
        elif raw.startswith("<<< "):
            current["old"].append(raw[4:])
            mode = "old"
        elif raw.startswith(">>> "):
            current["new"].append(raw[4:])
            mode = "new"
        elif mode in ("old", "new"):
            current[mode].append(raw)
    for m in mutants:
        m["old"] = "\n".join(m["old"])
        m["new"] = "\n".join(m["new"])
    return mutants


def run(cmd, log, timeout=TIMEOUT):
    with open(log, "w") as out:
        try:
            return subprocess.run(cmd, cwd=TREE, stdout=out, stderr=subprocess.STDOUT, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            return "timeout"


def build(log):
    return run(["swift", "build", "--build-tests"], log)


def tests(log):
    """0 when the suite passes; otherwise which part failed."""
    unit = run(["swift", "test", "--skip-build", "--filter", "FTRLTests"], log + ".unit")
    if unit != 0:
        return "unit tests"
    whole = run(["swift", "test", "--skip-build"], log)
    return 0 if whole == 0 else "command tests"


def main():
    mutants = parse(MUTANTS)
    only = [s for s in os.environ.get("ONLY", "").split(",") if s]
    if only:
        mutants = [m for m in mutants if m["id"] in only]
    os.makedirs(WORK, exist_ok=True)
    if not (os.environ.get("KEEP") and os.path.isdir(TREE)):
        shutil.rmtree(TREE, ignore_errors=True)
        files = subprocess.check_output(["git", "ls-files"], cwd=ROOT, text=True).split("\n")
        for f in files:
            if f and os.path.isfile(os.path.join(ROOT, f)):
                os.makedirs(os.path.dirname(os.path.join(TREE, f)), exist_ok=True)
                shutil.copy2(os.path.join(ROOT, f), os.path.join(TREE, f))
    # The real-data tests look for ../shared beside the package.
    shared = os.path.realpath(os.path.join(ROOT, "..", "shared"))
    link = os.path.join(WORK, "shared")
    if os.path.isdir(shared) and not os.path.exists(link):
        os.symlink(shared, link)
    logs = os.path.join(WORK, "logs")
    os.makedirs(logs, exist_ok=True)

    # Every mutant must apply to the tree as it is.
    for m in mutants:
        text = open(os.path.join(TREE, m["file"]), encoding="utf-8").read()
        n = text.count(m["old"])
        if n != 1:
            sys.exit("mutant %s: its original text occurs %d times in %s" % (m["id"], n, m["file"]))

    print("baseline: build and the whole suite, unmutated", flush=True)
    if build(os.path.join(logs, "baseline.build")) != 0 or tests(os.path.join(logs, "baseline.test")) != 0:
        sys.exit("the unmutated suite does not pass: see %s" % logs)

    results = []
    for m in mutants:
        path = os.path.join(TREE, m["file"])
        original = open(path, encoding="utf-8").read()
        start = time.time()
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original.replace(m["old"], m["new"], 1))
            log = os.path.join(logs, m["id"])
            if build(log + ".build") != 0:
                outcome, by = "stillborn", "does not compile"
            else:
                failed = tests(log + ".test")
                outcome, by = ("survived", "") if failed == 0 else ("killed", failed)
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
        results.append((m, outcome, by, time.time() - start))
        print("%-4s %-9s %-14s %5.0f s  %s" % (m["id"], outcome, by, time.time() - start, m["what"]), flush=True)

    live = [r for r in results if r[1] != "stillborn"]
    killed = [r for r in live if r[1] == "killed"]
    score = 100.0 * len(killed) / max(len(live), 1)
    lines = ["# Mutation testing (%s)" % time.strftime("%Y-%m-%d"), "",
             "%d mutants, %d killed, %d survived, %d stillborn: %.1f%% killed." % (
                 len(results), len(killed), len(live) - len(killed), len(results) - len(live), score), "",
             "| id | outcome | by | mutant |", "|---|---|---|---|"]
    for m, outcome, by, _ in results:
        lines.append("| %s | %s | %s | %s |" % (m["id"], outcome, by, m["what"]))
    open(os.path.join(WORK, "report.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines[:3]))
    print("report: %s" % os.path.join(WORK, "report.md"))


if __name__ == "__main__":
    main()
