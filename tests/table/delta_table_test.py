"""End to end: the curated table orderlake's etl writes is a valid Delta table, read back by the
independent reader of delta_protocol.py (issue 7: "the table's log is valid Delta").

Two generated batches go through `orderlake etl` (two micro-batches, the second with late,
out-of-order dates), then a hand-written one whose countries need escaping, then a run with no
new input; the log must hold no violation of the
protocol or of orderlake's contract, the snapshot must hold exactly the rows the generator's
summaries expect (in total, per Country and per InvoiceDateOnly) with one txn version per batch
(consecutive, from 0 or 1), every
file the log names must exist, and no Parquet file may lie under the table root outside the
snapshot (tombstones within retention excepted). When `orderlake compact` exists, a compaction
must keep all of that and the rows of every partition.
Run: ORDERLAKE_BINARY=build/orderlake python3 tests/table/delta_table_test.py [-k name]"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import delta_protocol as dp  # noqa: E402

BINARY = os.environ.get("ORDERLAKE_BINARY", "")
APP = dp.ORDERLAKE.app_id
# (lines, seed, first day, days): the second batch starts before the first one ends (late data)
BATCHES = [(3000, 71, "2010-12-02", 3), (2000, 72, "2010-12-01", 2)]
# a third, hand-written batch: countries whose partition values need Hive escaping in the
# directory name and then URI encoding in the log's path
ODD_COUNTRIES = ["Côte d'Ivoire", "A/B", "x=y", "50% off", "Hash#Tag", "Why?", "Brace{x}", "Back\\slash", "Caret^",
                 "Star*", "Colon:X", "Plus+Amp&", "Tab\there", "[Sq]", "Ünïcödé 日本", "Space Land"]


def run(*args, check=True):
    p = subprocess.run([BINARY, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"orderlake {' '.join(args)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    return p


def report(violations, limit=40):
    lines = [str(v) for v in violations[:limit]]
    if len(violations) > limit:
        lines.append(f"... and {len(violations) - limit} more")
    return "\n".join(lines)


class DeltaTableTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not BINARY or not os.path.exists(BINARY):
            raise AssertionError("ORDERLAKE_BINARY is not set to the orderlake binary")
        cls.tmp = tempfile.mkdtemp(prefix="orderlake-delta-e2e-")
        cls.logs = os.path.join(cls.tmp, "logs")
        cls.lake = os.path.join(cls.tmp, "lake")
        cls.table = os.path.join(cls.lake, "orders")
        os.makedirs(cls.logs)
        cls.summaries, cls.runs = [], []
        for i, (count, seed, start, days) in enumerate(BATCHES):
            staging = os.path.join(cls.tmp, f"staging{i}")
            summary = os.path.join(cls.tmp, f"summary{i}.json")
            run("generate", "--out", staging, "--count", str(count), "--seed", str(seed), "--start", start,
                "--days", str(days), "--summary", summary, "--progress-interval", "0")
            with open(summary) as f:
                cls.summaries.append(json.load(f))
            # the generator names files by time: keep the batches apart in the input directory
            for src in glob.glob(os.path.join(staging, "*")):
                os.rename(src, os.path.join(cls.logs, f"batch{i}-{os.path.basename(src)}"))
            cls.runs.append(cls.etl())
        lines = [f"5{i:05d},85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/01/2010 08:26,2.55,17850,{c}"
                 for i, c in enumerate(ODD_COUNTRIES)]
        with open(os.path.join(cls.logs, "batch2-odd-countries.log"), "w") as f:
            f.write("\n".join(lines) + "\n")
        n = len(ODD_COUNTRIES)
        cls.summaries.append({"expected": {"rows": n, "by_country": {c: {"rows": 1} for c in ODD_COUNTRIES},
                                           "by_date": {"2010-12-01": {"rows": n}}}})
        cls.runs.append(cls.etl())
        cls.idle_run = cls.etl()   # nothing new: must not change the table's rows

    @classmethod
    def etl(cls):
        p = run("etl", "--input", cls.logs, "--lake", cls.lake, "--json", "--no-progress")
        try:
            return json.loads(p.stdout)      # one run: one (pretty-printed) JSON summary
        except ValueError:
            lines = [line for line in p.stdout.splitlines() if line.startswith("{") and line.endswith("}")]
            return json.loads(lines[-1]) if lines else {}

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("KEEP_TMP"):
            print("kept", cls.tmp, file=sys.stderr)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def expected(self, key=None):
        """Rows the generator says the etl keeps: in total, or {value: rows} per by_country/by_date."""
        if key is None:
            return sum(s["expected"]["rows"] for s in self.summaries)
        out = {}
        for s in self.summaries:
            for k, v in s["expected"][key].items():
                out[k] = out.get(k, 0) + v["rows"]
        return out

    def require_log(self):
        log = os.path.join(self.table, dp.LOG_DIR)
        if not os.path.isdir(log):
            parts = sorted(os.listdir(self.table)) if os.path.isdir(self.table) else "no table directory"
            self.fail(f"no Delta log: {log} does not exist after two `orderlake etl` runs, so the curated table "
                      f"is not a Delta table yet (issue 7: etl must commit each micro-batch to _delta_log/). "
                      f"The table directory holds: {parts}")

    def validated(self):
        self.require_log()
        snap, violations = dp.validate(self.table)
        return snap, violations

    def txn_history(self, upto=None):
        """[(table version, txn version)] of the etl's appId, commit by commit."""
        t = dp.DeltaTable(self.table)
        versions, _ = t.list_log()
        out = []
        for v in versions:
            if upto is not None and v > upto:
                break
            actions, _ = t.read_commit(v)
            for kind, body in actions:
                if kind == "txn" and body.get("appId") == APP:
                    out.append((v, body.get("version")))
        return out

    # -- the tests

    def test_etl_kept_what_the_generator_expects(self):
        # not about Delta: a sanity check of the inputs the other tests rely on
        for i, (r, s) in enumerate(zip(self.runs, self.summaries)):
            self.assertEqual(r.get("kept"), s["expected"]["rows"], f"etl run {i} kept {r.get('kept')} rows, "
                                                                   f"the generator expects {s['expected']['rows']}")
        self.assertEqual(self.idle_run.get("kept", 0), 0, f"the etl run with no new input kept rows: {self.idle_run}")

    def test_log_is_valid_delta(self):
        snap, violations = self.validated()
        self.assertEqual(violations, [], f"{len(violations)} violations of the Delta protocol or of orderlake's "
                                         f"contract in {self.table}/_delta_log:\n{report(violations)}")
        self.assertEqual(snap.protocol.get("minReaderVersion"), 1)
        self.assertEqual(snap.protocol.get("minWriterVersion"), 2)
        self.assertEqual(snap.partition_columns, ["Country", "InvoiceDateOnly"])
        self.assertEqual(snap.columns, dp.ORDERLAKE.columns)

    def test_snapshot_holds_every_expected_row_once(self):
        snap, _ = self.validated()
        missing_stats = [f.path for f in snap.files.values() if f.num_records is None]
        self.assertEqual(missing_stats, [], "adds without stats.numRecords: the rows cannot be counted from the log")
        self.assertEqual(snap.num_records, self.expected(),
                         f"the snapshot's numRecords add up to {snap.num_records}, the generator summaries expect "
                         f"{self.expected()} (batches {[s['expected']['rows'] for s in self.summaries]})")
        self.assertEqual(snap.records_by("Country"), self.expected("by_country"))
        self.assertEqual(snap.records_by("InvoiceDateOnly"), self.expected("by_date"))

    def test_txn_versions_count_the_batches(self):
        # one txn per etl micro-batch with new input, its version one more than the previous batch's.
        # Whether the first batch is 0 (Spark's streaming sink numbers batches from 0) or 1 is a
        # convention: both are valid Delta and both are exactly-once; the etl starts at 0.
        snap, _ = self.validated()
        k = len(self.summaries)
        hist = self.txn_history()
        got = [t for _, t in hist]
        first = got[0] if got else None
        self.assertIn(first, (0, 1), f"txn versions of {APP!r} commit by commit (table version, txn version): "
                                     f"{hist}; the first batch should be 0 or 1")
        self.assertEqual(got, list(range(first, first + k)),
                         f"txn versions of {APP!r} commit by commit (table version, txn version): {hist}; expected "
                         f"{k} consecutive versions from {first}, one per etl micro-batch with new input (the run "
                         f"with no new input must not commit a batch)")
        self.assertEqual(snap.txns.get(APP), first + k - 1)

    def test_each_batch_is_one_atomic_commit(self):
        # time travel to the commit of each batch: exactly the rows of the batches so far, and the
        # version before it none of the batch's rows
        self.require_log()
        hist = self.txn_history()
        self.assertEqual(len(hist), len(self.summaries), f"one etl commit per batch expected: {hist}")
        total = 0
        for i, (s, (version, txn)) in enumerate(zip(self.summaries, hist)):
            total += s["expected"]["rows"]
            snap = dp.snapshot_at(self.table, version)
            self.assertEqual(snap.num_records, total, f"snapshot at version {version} (txn {txn}) holds "
                                                      f"{snap.num_records} rows, batches 0..{i} have {total}")
            if version > 0:
                before = dp.snapshot_at(self.table, version - 1)
                self.assertEqual(before.num_records, total - s["expected"]["rows"],
                                 f"version {version - 1}, before batch {i}'s commit, holds {before.num_records} rows")

    def test_every_file_is_in_the_log_and_every_logged_file_exists(self):
        snap, _ = self.validated()
        missing = [p for p in snap.file_paths() if not os.path.isfile(os.path.join(self.table, p))]
        self.assertEqual(missing, [], "files of the snapshot that are not on disk")
        on_disk = set(dp.data_files_on_disk(self.table))
        tomb = {k[0] for k in snap.tombstones}
        stray = sorted(on_disk - set(snap.file_paths()) - tomb)
        self.assertEqual(stray, [], f"{len(stray)} Parquet files under the table root are in no snapshot and no "
                                    f"tombstone (orphans a crash or an unlogged write left)")
        self.assertGreater(len(snap.files), 0)

    # -- compaction, when the writer has it

    def compact_command(self):
        top = run("--help", check=False).stdout
        names = [line.split()[0] for line in top.splitlines() if line.startswith("  ") and line.split()]
        name = next((n for n in ("compact", "optimize") if n in names), None)
        if name is None:
            self.skipTest("orderlake has no `compact` subcommand yet (issue 7's compaction is not written): "
                          "the compaction part of this test cannot run")
        return name, run(name, "--help").stdout

    def test_compaction_keeps_the_rows_and_the_log_valid(self):
        name, help_text = self.compact_command()
        # its own lake: five small batches of the same day, so every busy partition has five files
        work = tempfile.mkdtemp(prefix="compact-", dir=self.tmp)
        logs, lake = os.path.join(work, "logs"), os.path.join(work, "lake")
        table = os.path.join(lake, "orders")
        os.makedirs(logs)
        expected = 0
        for i in range(5):
            staging = os.path.join(work, f"staging{i}")
            summary = os.path.join(work, f"summary{i}.json")
            run("generate", "--out", staging, "--count", "400", "--seed", str(80 + i), "--start", "2010-12-01",
                "--days", "1", "--summary", summary, "--progress-interval", "0")
            with open(summary) as f:
                expected += json.load(f)["expected"]["rows"]
            for src in glob.glob(os.path.join(staging, "*")):
                os.rename(src, os.path.join(logs, f"batch{i}-{os.path.basename(src)}"))
            run("etl", "--input", logs, "--lake", lake, "--no-progress")
        args = [name] + (["--lake", lake] if "--lake" in help_text else ["--data-dir", work])
        if "--table" in help_text:
            args += ["--table", "orders"]
        if "--min-files" in help_text:   # the fixture's partitions have up to five small files
            args += ["--min-files", "2"]
        if not os.path.isdir(os.path.join(table, dp.LOG_DIR)):
            self.fail(f"no Delta log in {table}: nothing to compact")
        before, violations = dp.validate(table)
        self.assertEqual(violations, [], "the table is not valid before compaction:\n" + report(violations))
        self.assertEqual(before.num_records, expected)
        v_before = before.version
        small = {k: n for k, n in _files_per_partition(before).items() if n > 1}
        self.assertTrue(small, "fixture: no partition has more than one file, so there is nothing to compact")
        run(*args)
        after, violations = dp.validate(table)
        self.assertEqual(violations, [], "violations after `orderlake " + " ".join(args) + "`:\n" + report(violations))
        self.assertGreater(after.version, v_before, "compaction committed nothing")
        self.assertEqual(after.num_records, expected)
        self.assertEqual(after.records_by("Country"), before.records_by("Country"))
        self.assertEqual(after.records_by("InvoiceDateOnly"), before.records_by("InvoiceDateOnly"))
        self.assertEqual(after.txns, before.txns, "compaction changed the etl's txn versions")
        removed = set(before.file_paths()) - set(after.file_paths())
        self.assertTrue(removed, f"no file was compacted away although partitions {sorted(small)} had several")
        tomb = {k[0] for k in after.tombstones}
        self.assertEqual(removed - tomb, set(), "files gone from the snapshot without a remove action")
        # dataChange=false on both sides of every compaction commit (validate compared their rows)
        t = dp.DeltaTable(table)
        for v in range(v_before + 1, after.version + 1):
            actions, _ = t.read_commit(v)
            flags = {(kind, body.get("dataChange")) for kind, body in actions if kind in ("add", "remove")}
            self.assertTrue(flags <= {("add", False), ("remove", False)}, f"compaction commit {v}: {flags}")
        for part, n in _files_per_partition(after).items():
            self.assertLessEqual(n, small.get(part, n), f"partition {dict(part)} has more files than before")
        # within retention the old snapshot stays readable: its files are still on disk
        old = dp.snapshot_at(table, v_before)
        gone = [p for p in old.file_paths() if not os.path.isfile(os.path.join(table, p))]
        self.assertEqual(gone, [], f"files of version {v_before} deleted right after compaction (before retention)")
        stray = sorted(set(dp.data_files_on_disk(table)) - set(after.file_paths()) - tomb)
        self.assertEqual(stray, [], "Parquet files in no snapshot and no tombstone after compaction")
        # a retention option, if the command has one: with 0 the removed files go, the snapshot stays
        opt = re.search(r"(--[\w-]*retention[\w-]*)", help_text)
        if opt:
            p = run(*args, opt.group(1), "0", check=False)
            if p.returncode == 0:
                last, violations = dp.validate(table)
                self.assertEqual(violations, [], f"violations after {opt.group(1)} 0:\n" + report(violations))
                self.assertEqual(last.num_records, expected)
                left = [p for p in removed if os.path.isfile(os.path.join(table, p))]
                self.assertEqual(left, [], f"{opt.group(1)} 0 left removed files on disk")


    def test_etl_and_compaction_at_once(self):
        # two writers of one table (etl --follow and compact --every): every commit wins its version
        # once, and the table ends valid with every row once and no orphan
        name, help_text = self.compact_command()
        if "--every" not in help_text or "--lake" not in help_text:
            self.skipTest(f"`orderlake {name}` has no --every/--lake: cannot run it beside the etl")
        work = tempfile.mkdtemp(prefix="concurrent-", dir=self.tmp)
        logs, lake = os.path.join(work, "logs"), os.path.join(work, "lake")
        table = os.path.join(lake, "orders")
        os.makedirs(logs)
        procs = []
        expected = 0
        try:
            # the etl's own compactor off: the separate `compact --every` is the second writer
            procs.append(subprocess.Popen([BINARY, "etl", "--input", logs, "--lake", lake, "--follow", "--interval-ms",
                                           "100", "--no-progress", "--compact-every", "0"], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
            compact = [BINARY, name, "--lake", lake, "--every", "0.3"]
            compact += ["--min-files", "2"] if "--min-files" in help_text else []
            compact += ["--retention-minutes", "0"] if "--retention-minutes" in help_text else []
            for i in range(8):
                staging = os.path.join(work, f"staging{i}")
                summary = os.path.join(work, f"summary{i}.json")
                run("generate", "--out", staging, "--count", "2000", "--seed", str(300 + i), "--start", "2010-12-01",
                    "--days", "2", "--summary", summary, "--progress-interval", "0")
                with open(summary) as f:
                    expected += json.load(f)["expected"]["rows"]
                for src in glob.glob(os.path.join(staging, "*")):   # whole objects only, by rename
                    os.rename(src, os.path.join(logs, f"batch{i}-{os.path.basename(src)}"))
                if i == 1:
                    procs.append(subprocess.Popen(compact, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                time.sleep(0.3)
            deadline = time.time() + 30   # a loaded machine (ctest -j) may need longer for the first merge
            while time.time() < deadline and not _has_remove(table):
                time.sleep(0.3)
            time.sleep(1)
        finally:
            for p in reversed(procs):
                if p.poll() is None:
                    p.send_signal(signal.SIGINT)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.assertEqual([p.returncode for p in procs], [0, 0], "etl --follow / compact --every did not stop cleanly")
        run("etl", "--input", logs, "--lake", lake, "--no-progress")   # whatever the follower had not reached
        snap, violations = dp.validate(table)
        self.assertEqual(violations, [], "violations after etl and compaction ran at once:\n" + report(violations))
        self.assertEqual(snap.num_records, expected)
        t = dp.DeltaTable(table)
        txns, compactions = [], 0
        for v in t.list_log()[0]:
            actions, _ = t.read_commit(v)
            txns += [b.get("version") for k, b in actions if k == "txn" and b.get("appId") == APP]
            compactions += any(k == "remove" for k, _ in actions)
        self.assertTrue(txns and txns == list(range(txns[0], txns[0] + len(txns))), f"txn versions {txns}")
        self.assertGreater(compactions, 0, "the compactor committed nothing while the etl ran: no concurrency tested")
        stray = sorted(set(dp.data_files_on_disk(table)) - set(snap.file_paths()) - {k[0] for k in snap.tombstones})
        self.assertEqual(stray, [], "Parquet files in no snapshot and no tombstone")


def _has_remove(table):
    log = os.path.join(table, dp.LOG_DIR)
    for name in sorted(os.listdir(log)) if os.path.isdir(log) else []:
        if dp.VERSION_FILE.match(name):
            with open(os.path.join(log, name)) as f:
                if '{"remove"' in f.read():
                    return True
    return False


def _files_per_partition(snap):
    out = {}
    for f in snap.files.values():
        k = tuple(sorted(f.partition_values.items()))
        out[k] = out.get(k, 0) + 1
    return out


if __name__ == "__main__":
    unittest.main()
