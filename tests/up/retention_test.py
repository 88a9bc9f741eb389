"""Retention under load: `orderlake up` with short retentions, fed for a few minutes.

A generator writes order lines into a log directory at a steady rate while `up --logs` ships
them, with --log-retention 1m and --raw-retention 1m. While it runs and after it drained:
- the Delta log holds only about the retention's worth of commits (plus what the newest
  checkpoint needs): far fewer files than versions, no commit much older than the retention;
- raw objects older than the raw retention are gone (the firehose delivered far more than
  remain), and every remaining one is younger than retention + slack;
- the etl's run records are rolled up: none much older than the retention remains, and the
  dashboard's quality figures still count every record read;
- the firehose's WAL holds a few segments;
- the table equals an independent batch etl of the same log lines (every valid line once:
  the same rows per OrderID).
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from up_common import BINARY, start_up, stop  # noqa: E402

SECONDS = int(os.environ.get("RETENTION_TEST_SECONDS", "170"))
RATE = 1500
RETENTION_S = 60
LOOKBACK_S = 30  # --etl-lookback: a raw object is deleted once the etl's window passed it too
# Cleanup runs after commits and checkpoints, at most every few seconds: allow for it.
SLACK_S = 45


def files(root, pred=lambda p: True):
    return [p for p in pathlib.Path(root).rglob("*") if p.is_file() and pred(p)]


class UpRetentionTest(unittest.TestCase):
    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="up-retention-"))
        self.data, self.logs = self.tmp / "data", self.tmp / "logs"
        self.logs.mkdir()
        self.gen = subprocess.Popen([BINARY, "--log-level", "warn", "generate", "--out", str(self.logs), "--rate",
                                     str(RATE), "--duration", str(SECONDS), "--seed", "5", "--rotate-size", "2000000"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.err = open(self.tmp / "up.err", "wb")
        self.up, self.url, _ = start_up(["--data-dir", str(self.data), "--logs", str(self.logs), "--port", "0",
                                         "--aws-port", "0", "--status-interval", "0", "--log-retention", "1m",
                                         "--raw-retention", "1m", "--etl-lookback", f"{LOOKBACK_S}s",
                                         "--compact-every", "2", "--retention-minutes", "1"], self.err)
        self.assertTrue(self.url, (self.tmp / "up.err").read_text())

    def tearDown(self):
        stop(self.gen, self.up)
        self.err.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=30) as r:
            return json.loads(r.read())

    def query(self, lake, sql):
        q = subprocess.run([BINARY, "query", "--lake", str(lake), "--format", "csv", sql], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(q.returncode, 0, q.stderr)
        return q.stdout.strip().splitlines()[1:]

    def check_bounded(self, now):
        """What must hold while `up` runs, once it ran longer than the retentions."""
        log_dir = self.data / "lake" / "orders" / "_delta_log"
        commits = files(log_dir, lambda p: p.name.endswith(".json") and not p.name.startswith("_"))
        versions = [int(p.name.split(".")[0]) for p in commits]
        self.assertTrue(commits)
        self.assertTrue(files(log_dir, lambda p: ".checkpoint." in p.name), "no checkpoint was written")
        self.assertGreater(min(versions), 0, "the log's first commits were never cleaned up")
        old = [p.name for p in commits if now - p.stat().st_mtime > RETENTION_S + SLACK_S]
        self.assertEqual(old, [], f"commits older than the log retention remain ({len(old)} of {len(commits)})")

        raw = self.data / "s3" / "orderlake-raw"
        objs = files(raw, lambda p: not any(part.startswith((".", "_")) for part in p.relative_to(raw).parts))
        old = [str(p) for p in objs if now - p.stat().st_mtime > RETENTION_S + LOOKBACK_S + SLACK_S]
        self.assertEqual(old, [], f"raw objects older than the raw retention remain ({len(old)} of {len(objs)})")

        runs = self.data / "lake" / "_orderlake" / "orders" / "runs"
        old = [p.name for p in files(runs) if not p.name.startswith("rollup")
               and now - p.stat().st_mtime > RETENTION_S + SLACK_S]
        self.assertEqual(old, [], "run records older than the log retention were not rolled up")

        wal = files(self.data / "firehose" / "wal")
        self.assertLessEqual(len(wal), 4, [p.name for p in wal])

    def test_retention_bounds_history_and_loses_nothing(self):
        checked = False
        while self.gen.poll() is None:
            time.sleep(5)
            self.assertIsNone(self.up.poll(), (self.tmp / "up.err").read_text()[-3000:])
        # The generator ran SECONDS (> retention + slack): the history must be bounded now.
        self.check_bounded(time.time())
        checked = True

        expected = subprocess.run([BINARY, "etl", "--input", str(self.logs), "--lake", str(self.tmp / "check"),
                                   "--json", "--no-progress"], capture_output=True, text=True, timeout=300)
        self.assertEqual(expected.returncode, 0, expected.stderr)
        kept = json.loads(expected.stdout)["kept"]
        records = json.loads(expected.stdout)["records"]
        count, deadline = None, time.time() + 120
        while time.time() < deadline:
            count = int(self.query(self.data / "lake", "SELECT count(*) FROM orders")[0])
            if count >= kept:
                break
            time.sleep(1)
        self.assertEqual(count, kept)
        # Every valid line once: the same rows per OrderID (and the same amounts) as the batch etl.
        sql = "SELECT OrderID, count(*), round(sum(TotalAmount), 4) FROM orders GROUP BY 1 ORDER BY 1"
        self.assertEqual(self.query(self.data / "lake", sql), self.query(self.tmp / "check", sql))

        # The dashboard's data-quality figures still count every record read, after roll-up.
        deadline = time.time() + 30
        while time.time() < deadline:
            quality = self.get("/api/quality")["data"]
            if quality.get("records") == records:
                break
            time.sleep(1)
        self.assertEqual(quality.get("kept"), kept, quality)
        self.assertEqual(quality.get("records"), records, quality)
        self.assertTrue(checked)


if __name__ == "__main__":
    unittest.main()
