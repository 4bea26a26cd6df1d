"""The Spark driver in Spark's local mode, against the plain tools.

Each training test replays what the driver should do with the tools of
`make dist` run by hand (the same contiguous partitions, slices, resumes and
tree of merges) and expects the same model, byte for byte; scoring is
compared with `ftrl-predict` line for line. Needs `make dist` and pyspark
(`make spark-test` does both); a missing part fails, it is never skipped.
"""

import glob
import gzip
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DIST = os.path.join(ROOT, "dist")
BIN = os.path.join(DIST, "bin")
DRIVER = os.path.join(HERE, "ftrl_spark.py")
A9A = os.path.join(ROOT, "data-samples", "a9a-train.libsvm.gz")
A9A_TEST = os.path.join(ROOT, "data-samples", "a9a-test.libsvm.gz")
FLAGS = ["--bits", "18"]

sys.path.insert(0, HERE)
import ftrl_spark  # noqa: E402


def tool(*args, stdin=None):
    done = subprocess.run([os.path.join(BIN, args[0])] + list(args[1:]), input=stdin, capture_output=True)
    if done.returncode != 0:
        raise AssertionError("%s failed: %s" % (args[0], done.stderr.decode()))
    return done.stdout


def replay(lines, header, partitions, rounds, flags, work, fanout=None, epochs=1, momentum=0.4):
    """The driver's training done with the plain tools: the model's bytes."""
    momentum = momentum if partitions > 1 else 0
    total = len(lines)
    parts = [[] for _ in range(partitions)]
    for i, line in enumerate(lines):
        parts[min(partitions - 1, i * partitions // total)].append(line)
    fan = fanout or max(2, int(math.ceil(math.sqrt(partitions))))
    base = None
    previous = None
    step = 0
    for _ in range(epochs):
        for r in range(rounds):
            models = []
            for p, rows in enumerate(parts):
                chosen = rows[r * len(rows) // rounds:(r + 1) * len(rows) // rounds]
                if not chosen:
                    continue
                out = os.path.join(work, "s%d-%d.ftrl" % (step, p))
                text = "".join(x + "\n" for x in ([header] if header is not None else []) + chosen)
                tool("ftrl-train", "-", "-q", "-m", out, *(["--resume", base] if base else []), *flags,
                     stdin=text.encode())
                models.append((p, out))
            # Groups of `fan` partitions merged with --rule average, level by level, up
            # to the top merge (the default rule, and momentum), which always runs.
            level = models
            width = partitions
            while True:
                width = (width + fan - 1) // fan
                top = width == 1
                groups = {}
                for p, m in level:
                    groups.setdefault(p // fan, []).append(m)
                moving = top and previous is not None and momentum > 0
                level = []
                for g in sorted(groups):
                    members = groups[g]
                    if len(members) == 1 and not top:
                        level.append((g, members[0]))
                        continue
                    out = os.path.join(work, "m%d-%d-%d.ftrl" % (step, g, len(level)))
                    tool("ftrl-model", "merge", "-q", "-o", out, *(["--base", base] if base else []),
                         *([] if top else ["--rule", "average"]),
                         *(["--momentum", repr(momentum), "--previous", previous] if moving else []), *members)
                    level.append((g, out))
                if top:
                    break
            previous = base
            base = level[0][1]
            step += 1
    with open(base, "rb") as f:
        return f.read()


def spark(master="local[2]"):
    from pyspark.sql import SparkSession
    session = (SparkSession.builder.master(master).appName("ftrl-spark tests")
               .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def run_driver(args, env=None):
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([sys.executable, DRIVER] + args, capture_output=True, text=True, env=full)


def a9a_lines(count):
    with gzip.open(A9A, "rt") as f:
        return [next(f).rstrip("\n") for _ in range(count)]


class Prerequisites(unittest.TestCase):
    def test_the_tools_and_spark_are_there(self):
        for t in ("ftrl-train", "ftrl-predict", "ftrl-model"):
            self.assertTrue(os.access(os.path.join(BIN, t), os.X_OK), "run make dist: no %s" % t)
        import pyspark  # noqa: F401 - fails the test when missing

    def test_shipped_tools_need_only_what_a_plain_glibc_system_has(self):
        allowed = {"linux-vdso.so.1", "libc.so.6", "libm.so.6", "libz.so.1", "libstdc++.so.6", "libgcc_s.so.1",
                   "ld-linux-x86-64.so.2", "libpthread.so.0", "libdl.so.2", "librt.so.1"}
        for t in ("ftrl-train", "ftrl-predict", "ftrl-model"):
            out = subprocess.run(["ldd", os.path.join(BIN, t)], capture_output=True, text=True, env={"PATH": os.environ["PATH"]}).stdout
            for line in out.splitlines():
                name = line.split()[0]
                lib = os.path.basename(name)
                if "=>" in line and "not found" in line:
                    self.fail("%s: %s not found" % (t, name))
                if lib in allowed:
                    continue
                # Anything else must come from dist/lib, beside the tools.
                self.assertIn("=>", line, line)
                where = os.path.realpath(line.split("=>")[1].split()[0])
                self.assertEqual(os.path.dirname(where), os.path.realpath(os.path.join(DIST, "lib")),
                                 "%s needs %s from outside dist/lib: %s" % (t, lib, line))
            self.assertNotIn("libswiftCore", out)
            self.assertNotIn("libFoundation", out)
        self.assertTrue(glob.glob(os.path.join(DIST, "lib", "libisal.so*")))


class ModelBytesTests(unittest.TestCase):
    def test_only_a_whole_model_is_taken_from_a_task(self):
        work = tempfile.mkdtemp(prefix="ftrl-spark-test-")
        try:
            model = os.path.join(work, "m.ftrl")
            tool("ftrl-train", "-q", "-m", model, *FLAGS, "-", stdin="".join(x + "\n" for x in a9a_lines(50)).encode())
            data = read(model)
            self.assertEqual(ftrl_spark._check_model(data, "whole"), data)
            for broken in (data[:len(data) // 2], data[:-5] + data[-4:], data[:-1] + bytes([data[-1] ^ 1]), b""):
                with self.assertRaises(ftrl_spark.ToolError):
                    ftrl_spark._check_model(broken, "broken")
        finally:
            shutil.rmtree(work, ignore_errors=True)


class LocalModeTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.spark = spark("local[2]")
        ftrl_spark.ship(cls.spark.sparkContext, DIST)

    @classmethod
    def tearDownClass(cls):
        cls.spark.stop()

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="ftrl-spark-test-")

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def train_text(self, lines, name, partitions, rounds, flags=FLAGS, fanout=None, epochs=1, gz=False, momentum=0.4):
        path = os.path.join(self.work, name + (".gz" if gz else ""))
        opener = gzip.open if gz else open
        with opener(path, "wt") as f:
            f.write("".join(x + "\n" for x in lines))
        out = os.path.join(self.work, name + ".ftrl")
        ftrl_spark.train(self.spark, inputs=[path], model=out, partitions=partitions, rounds=rounds, epochs=epochs,
                         flags=flags, fanout=fanout, momentum=momentum, dist=DIST, log=lambda s: None)
        with open(out, "rb") as f:
            return f.read()

    def test_training_is_the_plain_tools_resumed_and_merged(self):
        lines = a9a_lines(3000)
        for partitions, rounds, fanout, momentum in [(4, 2, None, 0.4), (5, 4, 2, 0.4), (3, 3, None, 0), (1, 3, None, 0.4)]:
            got = self.train_text(lines, "a9a-%d-%d.libsvm" % (partitions, rounds), partitions, rounds, fanout=fanout,
                                  momentum=momentum)
            want = replay(lines, None, partitions, rounds, FLAGS, self.work, fanout=fanout, momentum=momentum)
            self.assertEqual(got, want, "K=%d R=%d momentum %g" % (partitions, rounds, momentum))

    def test_one_partition_one_round_is_ftrl_train(self):
        lines = a9a_lines(2000)
        got = self.train_text(lines, "one.libsvm", 1, 1, gz=True)
        plain = os.path.join(self.work, "plain.ftrl")
        tool("ftrl-train", "-q", "-m", plain, *FLAGS, "-", stdin="".join(x + "\n" for x in lines).encode())
        with open(plain, "rb") as f:
            self.assertEqual(got, f.read())

    def test_epochs_go_over_the_rows_again(self):
        lines = a9a_lines(1200)
        got = self.train_text(lines, "ep.libsvm", 2, 2, epochs=2)
        # Momentum from the third round on: the second pass's rounds.
        self.assertEqual(got, replay(lines, None, 2, 2, FLAGS, self.work, epochs=2))

    def test_csv_with_a_header_in_every_file(self):
        rows = csv_rows(900, seed=3)
        header, body = rows[0], rows[1:]
        paths = []
        for k in range(3):
            paths.append(os.path.join(self.work, "part%d.csv" % k))
            with open(paths[-1], "w") as f:
                f.write("".join(x + "\n" for x in [header] + body[k * 300:(k + 1) * 300]))
        out = os.path.join(self.work, "csv.ftrl")
        flags = ["--label", "click", "--bits", "16"]
        ftrl_spark.train(self.spark, inputs=paths, model=out, partitions=3, rounds=3, flags=flags, dist=DIST,
                         log=lambda s: None)
        want = replay(body, header, 3, 3, ["--format", "csv"] + flags, self.work)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), want)

    def test_scoring_gives_ftrl_predicts_probabilities_in_order(self):
        model = os.path.join(self.work, "m.ftrl")
        tool("ftrl-train", "-q", "-m", model, *FLAGS, A9A)
        out = os.path.join(self.work, "scores")
        # A gzip'd input cut into several partitions.
        ftrl_spark.predict(self.spark, model, [A9A_TEST], out, dist=DIST)
        parts = sorted(glob.glob(os.path.join(out, "part-*")))
        got = "".join(read(p, "r") for p in parts)
        want = tool("ftrl-predict", "-m", model, A9A_TEST).decode()
        self.assertGreater(len(want), 0)
        self.assertEqual(got, want)

    def test_a_dataframe_trains_by_column_name_and_gets_a_probability_column(self):
        rows = csv_rows(600, seed=5)
        csv_path = os.path.join(self.work, "table.csv")
        with open(csv_path, "w") as f:
            f.write("".join(x + "\n" for x in rows))
        df = self.spark.read.option("header", True).option("inferSchema", True).csv(csv_path)
        # Columns in another order than the CSV's: they are matched by name.
        df = df.select("site", "hour", "click", "app").coalesce(1)
        table = os.path.join(self.work, "table.parquet")
        df.write.parquet(table)
        table_df = self.spark.read.parquet(table).coalesce(1)
        out = os.path.join(self.work, "df.ftrl")
        flags = ["--label", "click", "--numeric", "hour", "--bits", "16"]
        ftrl_spark.train(self.spark, dataframe=table_df, model=out, partitions=1, rounds=1, flags=flags, dist=DIST,
                         log=lambda s: None)
        # The same rows as a CSV file with those columns, through the plain tool.
        reordered = os.path.join(self.work, "reordered.csv")
        header = rows[0].split(",")
        with open(reordered, "w") as f:
            for row in rows:
                v = dict(zip(header, row.split(",")))
                f.write(",".join(v[c] for c in ["site", "hour", "click", "app"]) + "\n")
        plain = os.path.join(self.work, "plain.ftrl")
        tool("ftrl-train", "-q", "-m", plain, "--format", "csv", *flags, reordered)
        self.assertEqual(read(out), read(plain))
        scored = ftrl_spark.add_probability(table_df, out).collect()
        want = [float(x) for x in tool("ftrl-predict", "-m", out, reordered).decode().split()]
        self.assertEqual(len(scored), len(want))
        self.assertEqual([r["probability"] for r in scored], want)
        self.assertEqual([r["site"] for r in scored], [r["site"] for r in table_df.collect()])


def csv_rows(count, seed):
    """A small click log as CSV: click, site, app, hour (numeric)."""
    rng = random.Random(seed)
    out = ["click,site,app,hour"]
    for _ in range(count):
        site = "s%d" % rng.randrange(12)
        app = "a%d" % rng.randrange(7)
        hour = rng.randrange(24)
        p = 0.15 + 0.5 * (site in ("s1", "s2")) + 0.01 * hour
        out.append("%d,%s,%s,%d" % (int(rng.random() < p), site, app, hour))
    return out


class FaultTests(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="ftrl-spark-test-")

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def write_lines(self, name, lines):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write("".join(x + "\n" for x in lines))
        return path

    def test_a_failed_task_is_retried_and_the_model_comes_out_the_same(self):
        lines = a9a_lines(1500)
        data = self.write_lines("a9a.libsvm", lines)
        # A copy of dist whose ftrl-train fails once on an executor (reading standard
        # input), after leaving a partial model where -m points.
        flaky = os.path.join(self.work, "flaky-dist")
        shutil.copytree(DIST, flaky)
        os.rename(os.path.join(flaky, "bin", "ftrl-train"), os.path.join(flaky, "bin", "ftrl-train.real"))
        marker = os.path.join(self.work, "failed-once")
        with open(os.path.join(flaky, "bin", "ftrl-train"), "w") as f:
            f.write("#!/bin/sh\n"
                    "if [ \"$1\" = - ] && mkdir '%s' 2>/dev/null; then\n"
                    "  while [ $# -gt 0 ]; do [ \"$1\" = -m ] && printf 'FTRLMODL\\002' > \"$2\"; shift; done\n"
                    "  echo 'ftrl-train: error: killed for the test' >&2; exit 70\n"
                    "fi\n"
                    "exec \"$(dirname \"$0\")/ftrl-train.real\" \"$@\"\n" % marker)
        os.chmod(os.path.join(flaky, "bin", "ftrl-train"), 0o755)
        out = os.path.join(self.work, "retried.ftrl")
        done = run_driver(["train", "--master", "local[2,3]", "--dist", flaky, "--input", data, "--model", out,
                           "--partitions", "3", "--rounds", "2", "--"] + FLAGS)
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        self.assertTrue(os.path.isdir(marker), "the flaky tool never ran")
        self.assertEqual(read(out), replay(lines, None, 3, 2, FLAGS, self.work))

    def test_a_bad_row_fails_the_job_with_the_file_and_line(self):
        lines = a9a_lines(1000)
        lines[736] = "maybe 3:1 7:1"
        data = self.write_lines("bad.libsvm", lines)
        out = os.path.join(self.work, "never.ftrl")
        done = run_driver(["train", "--master", "local[2]", "--input", data, "--model", out, "--partitions", "4",
                           "--rounds", "2", "--dist", DIST, "--"] + FLAGS)
        self.assertEqual(done.returncode, 1, done.stderr[-3000:])
        last = [l for l in done.stderr.splitlines() if l.startswith("ftrl-spark: error")]
        self.assertTrue(last, done.stderr[-3000:])
        self.assertIn("bad.libsvm:737", done.stderr)
        self.assertIn('"maybe"', done.stderr)
        self.assertFalse(os.path.exists(out))

    def test_executors_in_separate_jvms(self):
        # A local cluster's workers keep each application's files (the tools
        # shipped to them, 300 MB) under Spark's own work folder, which no
        # setting moves in this mode: the test removes the ones it made.
        import pyspark
        spark_work = os.path.join(os.path.dirname(pyspark.__file__), "work")
        before = set(os.listdir(spark_work)) if os.path.isdir(spark_work) else set()
        try:
            self.run_on_a_local_cluster()
        finally:
            if os.path.isdir(spark_work):
                for name in set(os.listdir(spark_work)) - before:
                    shutil.rmtree(os.path.join(spark_work, name), ignore_errors=True)

    def run_on_a_local_cluster(self):
        lines = a9a_lines(1200)
        data = self.write_lines("a9a.libsvm", lines)
        out = os.path.join(self.work, "cluster.ftrl")
        done = run_driver(["train", "--master", "local-cluster[2,1,1024]", "--input", data, "--model", out,
                           "--partitions", "2", "--rounds", "3", "--dist", DIST, "--"] + FLAGS)
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        self.assertEqual(read(out), replay(lines, None, 2, 3, FLAGS, self.work))
        scores = os.path.join(self.work, "scores")
        done = run_driver(["predict", "--master", "local-cluster[2,1,1024]", "--model", out, "--input", data,
                           "--output", scores, "--dist", DIST])
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        got = "".join(read(p, "r") for p in sorted(glob.glob(os.path.join(scores, "part-*"))))
        self.assertEqual(got, tool("ftrl-predict", "-m", out, data).decode())


if __name__ == "__main__":
    unittest.main()
