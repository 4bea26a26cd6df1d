"""Training and scoring ftrl models on Apache Spark.

The command-line tools stay the learner; Spark moves the rows, runs the
tools on its executors and retries what fails.

    spark-submit spark/ftrl_spark.py train --input PATH... --model OUT \\
        --partitions K --rounds R --epochs E [--momentum M] -- <ftrl-train flags>
    spark-submit spark/ftrl_spark.py predict --model M --input PATH --output DIR

Training cuts the rows into K contiguous partitions. In each of R rounds per
pass, every partition streams its next slice of rows into `ftrl-train -`,
resuming from the round's model; the K models are merged with
`ftrl-model merge` in a tree on the executors (groups of about sqrt(K), as
`treeReduce` does; `--rule average` below the top, whose counts let the top
merge apply the default rule as one merge of all K would), so the driver
holds one model at a time, and the merged model is broadcast to the next
round. From the third round on, the top merge adds block momentum
(`ftrl-model merge --momentum`, default 0.4): the average of the shards'
moves of a common feature is about one shard's move, and momentum carries
each round's progress on (BENCHMARKS.md, "Merging shards"). Text inputs (LibSVM, CSV with a
header, headerless TSV; gzip'd or not) and DataFrames (a Parquet table:
its columns become the CSV schema by name) both train.

Scoring streams each partition through `ftrl-predict -` (what `RDD.pipe`
does, with the tool's own error message kept) and keeps the rows' order;
`add_probability` adds a probability column to a DataFrame.

The executors need nothing installed: the driver ships the tools of
`make dist` (self-contained; ISA-L beside them) with `SparkContext.addFile`.
"""

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIST = os.path.join(os.path.dirname(HERE), "dist")


class ToolError(RuntimeError):
    """A tool failed on an executor; the message is the tool's own."""


# ---------------------------------------------------------------- executors

def _tool(name):
    """The path of a shipped tool on this executor."""
    from pyspark import SparkFiles
    path = SparkFiles.get(name)
    if not os.access(path, os.X_OK):
        os.chmod(path, 0o755)
    return path


def _tool_env():
    """The tools' environment: the shipped shared libraries (ISA-L) beside them."""
    from pyspark import SparkFiles
    env = dict(os.environ)
    root = SparkFiles.getRootDirectory()
    env["LD_LIBRARY_PATH"] = root + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return env


def _run(command, rows=None, header=None, where=None, stdout_path=None):
    """Runs a tool, streaming `rows` (strings without newlines) to its
    standard input from a thread; raises ToolError with its standard error,
    `<stdin>:N` turned into the input file and line by `where(N)`."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE if rows is not None else subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.PIPE, env=_tool_env())
        failure = []

        def feed():
            try:
                if header is not None:
                    proc.stdin.write((header + "\n").encode())
                for row in rows:
                    proc.stdin.write((row + "\n").encode())
            except BrokenPipeError:
                pass  # the tool stopped reading: its status says why
            except BaseException as e:  # noqa: BLE001 - reported below
                failure.append(e)
            finally:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass

        feeder = None
        if rows is not None:
            feeder = threading.Thread(target=feed, daemon=True)
            feeder.start()
        err = proc.stderr.read().decode(errors="replace")
        status = proc.wait()
        if feeder:
            feeder.join()
    finally:
        if stdout_path:
            out.close()
    if failure:
        raise failure[0]
    if status != 0:
        if where:
            err = re.sub(r"<stdin>:(\d+)", lambda m: where(int(m.group(1))), err)
        raise ToolError("%s exited with status %d:\n%s" % (os.path.basename(command[0]), status, err.strip()))
    return err


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _check_model(data, what):
    """Refuses bytes that are not a whole model file (never merge a partial
    model): the magic, and the CRC-32 of the file's last four bytes."""
    import zlib
    if len(data) < 16 or data[:8] != b"FTRLMODL" or zlib.crc32(data[:-4]) != int.from_bytes(data[-4:], "little"):
        raise ToolError("%s is not a complete model file (%d bytes)" % (what, len(data)))
    return data


def _train_slice(rows, header, base, flags, where, label):
    """Trains on `rows` from the model bytes `base` (None: from scratch); the new model's bytes."""
    work = tempfile.mkdtemp(prefix="ftrl-spark-")
    try:
        command = [_tool("ftrl-train"), "-", "-q", "-m", os.path.join(work, "out.ftrl")]
        if base is not None:
            with open(os.path.join(work, "base.ftrl"), "wb") as f:
                f.write(base)
            command += ["--resume", os.path.join(work, "base.ftrl")]
        _run(command + list(flags), rows=rows, header=header, where=where)
        return _check_model(_read(os.path.join(work, "out.ftrl")), label)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _merge(models, base, top, previous=None, momentum=0.0):
    """Merges model bytes with `ftrl-model merge` (from `base`, or from
    nothing). Below the `top` of the tree with `--rule average`, which keeps
    the counts that let the top merge apply the default rule as one merge of
    all the shards would; at the top with block momentum from the `previous`
    round's base when given. The top always runs: one model from below the
    top holds averages that it turns into the rule's sums."""
    moving = top and previous is not None and base is not None and momentum > 0
    if len(models) == 1 and not top:
        return models[0]
    work = tempfile.mkdtemp(prefix="ftrl-spark-")
    try:
        def put(name, data):
            path = os.path.join(work, name)
            with open(path, "wb") as f:
                f.write(data)
            return path
        paths = [put("m%d.ftrl" % k, m) for k, m in enumerate(models)]
        command = [_tool("ftrl-model"), "merge", "-q", "-o", os.path.join(work, "out.ftrl")]
        if not top:
            command += ["--rule", "average"]
        if base is not None:
            command += ["--base", put("base.ftrl", base)]
        if moving:
            command += ["--momentum", repr(momentum), "--previous", put("previous.ftrl", previous)]
        _run(command + paths)
        return _check_model(_read(os.path.join(work, "out.ftrl")), "the merged model")
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- the driver

def ship(sc, dist=None):
    """Makes the tools of `make dist` (DIR/bin, DIR/lib) available to every executor."""
    dist = _dist(dist)
    for tool in ("ftrl-train", "ftrl-predict", "ftrl-model"):
        if not os.access(os.path.join(dist, "bin", tool), os.X_OK):
            raise SystemExit("ftrl-spark: %s has no bin/%s: run `make dist` first (or give --dist)" % (dist, tool))
    # Each file on its own (a folder cannot be added outside local mode); the
    # tools find the libraries through LD_LIBRARY_PATH (see _tool_env).
    for sub in ("bin", "lib"):
        for name in sorted(os.listdir(os.path.join(dist, sub))):
            sc.addFile(os.path.join(dist, sub, name))


def _dist(dist=None):
    return os.path.abspath(dist or os.environ.get("FTRL_DIST", DEFAULT_DIST))


def _driver_json(dist, args):
    """Runs a shipped tool on the driver for JSON (a resolved config, a model's info)."""
    import json
    done = subprocess.run([os.path.join(_dist(dist), "bin", args[0])] + args[1:], capture_output=True, text=True)
    if done.returncode != 0:
        raise ToolError(done.stderr.strip())
    return json.loads(done.stdout)


def _schema(config):
    """(format, whether inputs start with a header line) of a resolved config."""
    fmt = config["format"]
    header = config.get("header")
    return fmt, (fmt == "csv") if header is None else header


def _csv_field(v):
    if v is None:
        return ""
    s = ("1" if v else "0") if isinstance(v, bool) else str(v)
    if any(c in s for c in ',"\n\r'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def _dataframe_lines(df):
    """A DataFrame as (header, RDD of CSV lines): its columns by name."""
    columns = df.columns
    header = ",".join(_csv_field(c) for c in columns)
    lines = df.rdd.map(lambda row: ",".join(_csv_field(v) for v in row))
    return header, lines


def _text_lines(sc, paths, has_header):
    """Text inputs as (header, RDD of (file index, line number, text)): lines
    keep their file and 1-based line for messages; a header line is dropped
    from every file (and checked to be the same in all)."""
    rdds = []
    header = None
    for k, path in enumerate(paths):
        rdd = sc.textFile(path)
        if has_header:
            first = rdd.first()
            if header is None:
                header = first
            elif first != header:
                raise SystemExit("ftrl-spark: %s has the header %r, %s has %r: the inputs must share one schema"
                                 % (path, first, paths[0], header))
        indexed = rdd.zipWithIndex()
        if has_header:
            indexed = indexed.filter(lambda t: t[1] > 0)
        rdds.append(indexed.map(lambda t, k=k: (k, t[1] + 1, t[0])))
    return header, sc.union(rdds) if len(rdds) > 1 else rdds[0]


def _flag_value(flags, name):
    for i, f in enumerate(flags):
        if f == name and i + 1 < len(flags):
            return flags[i + 1]
        if f.startswith(name + "="):
            return f[len(name) + 1:]
    return None


def _contiguous(records, partitions):
    """Cuts records (in input order) into `partitions` contiguous runs, each
    kept in order: (partition RDD of records, their counts)."""
    indexed = records.zipWithIndex().map(lambda t: (t[1], t[0]))
    total = indexed.count()
    if total == 0:
        raise SystemExit("ftrl-spark: the input has no rows")
    k = partitions
    parted = indexed.repartitionAndSortWithinPartitions(
        numPartitions=k, partitionFunc=lambda i: min(k - 1, i * k // total))
    values = parted.map(lambda t: t[1])
    from pyspark import StorageLevel
    values.persist(StorageLevel.MEMORY_AND_DISK)
    counts = values.mapPartitionsWithIndex(lambda p, it: [(p, sum(1 for _ in it))]).collectAsMap()
    return values, [counts.get(p, 0) for p in range(k)], total


def train(spark, inputs=None, dataframe=None, model=None, partitions=4, rounds=16, epochs=1, flags=(),
          fanout=None, momentum=0.4, dist=None, log=print):
    """Trains one model on a cluster and writes it to `model` (a local or
    shared path, atomically). `inputs`: text files or globs; or `dataframe`:
    a DataFrame whose columns are the CSV schema. `flags`: ftrl-train flags.
    Returns a dict of what was done."""
    sc = spark.sparkContext
    flags = list(flags)
    if dataframe is not None:
        header, lines = _dataframe_lines(dataframe)
        records = lines.map(lambda text: (-1, 0, text))
        names = ["the DataFrame"]
        if _flag_value(flags, "--format") is None:
            flags = ["--format", "csv"] + flags
    else:
        # The format and header as ftrl-train resolves them from the flags and the first file's name.
        config = _driver_json(dist, ["ftrl-train", "--print-config"] + flags + [list(inputs)[0]])
        fmt, has_header = _schema(config)
        if _flag_value(flags, "--format") is None and _flag_value(flags, "--preset") is None:
            flags = ["--format", fmt] + flags
        header, records = _text_lines(sc, list(inputs), has_header)
        names = list(inputs)
    rows, counts, total = _contiguous(records, partitions)
    fan = fanout or max(2, int(math.ceil(math.sqrt(partitions))))
    # Block momentum makes up for what averaging loses; one partition averages nothing.
    momentum = momentum if partitions > 1 else 0.0
    log("ftrl-spark: %d rows in %d partitions (%s rows each at most), %d rounds per pass, %d passes, "
        "merged in groups of %d, momentum %g" % (total, partitions, max(counts), rounds, epochs, fan, momentum))
    base = None
    broadcast = None
    previous = None  # the broadcast of the round before the base, for momentum
    for epoch in range(epochs):
        for r in range(rounds):
            base_value = broadcast
            previous_value = previous

            def round_task(p, it, r=r, base_value=base_value):
                n = counts[p]
                lo, hi = r * n // rounds, (r + 1) * n // rounds
                chosen = []
                for i, rec in enumerate(it):
                    if i >= hi:
                        break
                    if i >= lo:
                        chosen.append(rec)
                if not chosen:
                    return [(p, None)]
                where = _locator(chosen, header, names)
                model_bytes = _train_slice((c[2] for c in chosen), header, base_value.value if base_value else None,
                                           flags, where, "partition %d, round %d" % (p, r))
                return [(p, model_bytes)]

            models = rows.mapPartitionsWithIndex(round_task).filter(lambda t: t[1] is not None)
            # The tree: groups of `fan` consecutive partitions, merged on the executors, level by level.
            level = models
            width = partitions
            while True:
                width = (width + fan - 1) // fan
                top = width == 1

                def merge_group(g, base_value=base_value, previous_value=previous_value, top=top):
                    return (g[0], _merge([m for _, m in sorted(g[1])], base_value.value if base_value else None, top,
                                         previous_value.value if top and previous_value else None, momentum))
                level = level.map(lambda t: (t[0] // fan, t)).groupByKey(numPartitions=max(1, width)).map(merge_group)
                if top:
                    break
            merged = level.collect()
            if not merged:
                continue  # fewer rows than rounds: this round had none
            if len(merged) != 1:
                raise RuntimeError("the merge tree ended with %d models" % len(merged))
            base = merged[0][1]
            if previous is not None:
                previous.unpersist()
            previous = broadcast if momentum > 0 else None
            if previous is None and broadcast is not None:
                broadcast.unpersist()
            broadcast = sc.broadcast(base)
            log("ftrl-spark: pass %d round %d merged (%d bytes)" % (epoch + 1, r + 1, len(base)))
    rows.unpersist()
    for b in (broadcast, previous):
        if b is not None:
            b.unpersist()
    folder = os.path.dirname(os.path.abspath(model))
    fd, temporary = tempfile.mkstemp(prefix=".ftrl-spark-", dir=folder)
    with os.fdopen(fd, "wb") as f:
        f.write(base)
        f.flush()
        os.fsync(f.fileno())
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(temporary, 0o666 & ~mask)
    os.replace(temporary, model)
    return {"rows": total, "partitions": partitions, "rounds": rounds, "epochs": epochs, "fanout": fan,
            "momentum": momentum}


def _locator(chosen, header, names):
    """Turns a line number of a tool's standard input into the row's file and line."""
    def where(line):
        i = line - 1 - (1 if header is not None else 0)
        if 0 <= i < len(chosen) and chosen[i][0] >= 0:
            return "%s:%d" % (names[chosen[i][0]], chosen[i][1])
        if 0 <= i < len(chosen):
            return "%s, row %d of a partition" % (names[0], i + 1)
        return "<stdin>:%d" % line
    return where


def _score_partition(lines, header, flags, names, model_name):
    """Streams one partition's lines through ftrl-predict; yields probabilities in order."""
    from pyspark import SparkFiles
    work = tempfile.mkdtemp(prefix="ftrl-spark-")
    try:
        chosen = list(lines)
        out = os.path.join(work, "scores")
        model = SparkFiles.get(model_name)

        where = _locator(chosen, header, names)
        _run([_tool("ftrl-predict"), "-m", model, "-"] + list(flags),
             rows=(c[2] for c in chosen), header=header, where=where, stdout_path=out)
        with open(out) as f:
            for line in f:
                yield line.rstrip("\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ship_model(sc, model):
    """Ships a model file to the executors; its name there (by content, as
    Spark refuses a second file of the same name)."""
    import hashlib
    data = _read(model)
    name = "model-%s.ftrl" % hashlib.sha256(data).hexdigest()[:20]
    staging = os.path.join(tempfile.mkdtemp(prefix="ftrl-ship-"), name)
    with open(staging, "wb") as f:
        f.write(data)
    sc.addFile(staging)
    return name


def predict(spark, model, inputs, output, flags=(), dist=None):
    """Scores text inputs with `model`; writes one probability per line, in
    input order, as Spark text output (part files in partition order) at `output`."""
    sc = spark.sparkContext
    _, has_header = _schema(_driver_json(dist, ["ftrl-model", "info", model])["config"])
    name = _ship_model(sc, model)
    names = list(inputs)
    header, records = _text_lines(sc, names, has_header)
    scores = records.mapPartitions(lambda it: _score_partition(it, header, flags, names, name))
    scores.saveAsTextFile(output)


def add_probability(df, model, column="probability", flags=()):
    """`df` with a column of click probabilities from `model` (its columns
    read as the model's CSV schema by name), rows in their order."""
    from pyspark.sql.types import DoubleType, StructField, StructType
    spark = df.sparkSession
    sc = spark.sparkContext
    name = _ship_model(sc, model)
    header, _ = _dataframe_lines(df)

    def score(rows):
        rows = list(rows)
        if not rows:
            return
        lines = [(-1, 0, ",".join(_csv_field(v) for v in row)) for row in rows]
        for row, p in zip(rows, _score_partition(iter(lines), header, flags, ["the DataFrame"], name)):
            yield tuple(row) + (float(p),)
    schema = StructType(df.schema.fields + [StructField(column, DoubleType(), False)])
    return spark.createDataFrame(df.rdd.mapPartitions(score), schema)


# ---------------------------------------------------------------- command line

def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    tool_flags = []
    if "--" in argv:
        cut = argv.index("--")
        argv, tool_flags = argv[:cut], argv[cut + 1:]
    ap = argparse.ArgumentParser(prog="ftrl_spark.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train one model over K partitions with R merges per pass")
    t.add_argument("--input", nargs="+", required=True, help="text files or globs (LibSVM, CSV, TSV; .gz or not), or a table with --table")
    t.add_argument("--table", choices=["parquet", "orc", "json", "csv"], help="read --input as a DataFrame of this format")
    t.add_argument("--model", required=True, help="the model to write (local or shared path)")
    t.add_argument("--partitions", type=int, default=4, help="K, models trained side by side (default 4)")
    t.add_argument("--rounds", type=int, default=16, help="R, merges per pass (default 16)")
    t.add_argument("--epochs", type=int, default=1, help="E, passes over the rows (default 1)")
    t.add_argument("--fanout", type=int, default=None, help="models per merge in the tree (default about sqrt(K))")
    t.add_argument("--momentum", type=float, default=0.4,
                   help="block momentum of the merges, in [0, 1) (default 0.4; 0: plain averaging)")
    t.add_argument("--master", default=None, help="Spark master when not given by spark-submit")
    t.add_argument("--dist", default=None, help="the folder of `make dist` (default: dist/ beside this folder)")
    p = sub.add_parser("predict", help="score text inputs, one probability per line, in order")
    p.add_argument("--model", required=True)
    p.add_argument("--input", nargs="+", required=True)
    p.add_argument("--output", required=True, help="Spark text output folder (part files in input order)")
    p.add_argument("--master", default=None)
    p.add_argument("--dist", default=None)
    args = ap.parse_args(argv)
    if not 0 <= getattr(args, "momentum", 0) < 1:
        ap.error("--momentum must be in [0, 1)")
    if getattr(args, "partitions", 1) < 1 or getattr(args, "rounds", 1) < 1 or getattr(args, "epochs", 1) < 1:
        ap.error("--partitions, --rounds and --epochs must be >= 1")

    from pyspark.sql import SparkSession
    builder = SparkSession.builder.appName("ftrl-spark " + args.command).config("spark.ui.showConsoleProgress", "false")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    status = 0
    try:
        ship(spark.sparkContext, args.dist)
        if args.command == "train":
            df = spark.read.format(args.table).load(args.input) if args.table else None
            done = train(spark, inputs=None if df is not None else args.input, dataframe=df, model=args.model,
                         partitions=args.partitions, rounds=args.rounds, epochs=args.epochs, flags=tool_flags,
                         fanout=args.fanout, momentum=args.momentum, dist=args.dist, log=lambda s: print(s, file=sys.stderr))
            import resource
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print("ftrl-spark: model %s from %d rows; driver (Python) peak memory %.0f MiB"
                  % (args.model, done["rows"], peak), file=sys.stderr)
        else:
            predict(spark, args.model, args.input, args.output, flags=tool_flags, dist=args.dist)
    except Exception as e:  # noqa: BLE001 - the tool's message, not a Java stack
        print("ftrl-spark: error: %s" % _tool_message(e), file=sys.stderr)
        status = 1
    finally:
        spark.stop()
    return status


def _tool_message(e):
    """The ftrl tool's own lines out of a Spark failure (its Python traceback inside a Java one)."""
    text = str(e)
    found = re.findall(r"ToolError: (.*?)(?:\n\s*at |\n\n|\n\tat |\Z)", text, re.S)
    if found:
        return found[-1].strip()
    errors = [line for line in text.splitlines() if re.match(r"^\w+(Error|Exception): ", line)]
    if errors:
        return errors[-1]
    return text.strip().splitlines()[0] if text.strip() else repr(e)


if __name__ == "__main__":
    sys.exit(main())
